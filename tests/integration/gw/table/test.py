"""The gateway table through sipctl, as the configuration holds it:

- bad input gets a clear error and adds nothing: a gateway with no
  domain ("missing domain"), a bad Via URI ("bad via URI"), a Via that is
  no host ("bad via"), a name with a dash ("letters and digits only"), a
  name given twice ("exists"), an unknown field to "gateway set" (sipctl
  refuses it, exit 2), a bad register-every, a bad on/off, a contact
  that is no account name; removing or setting an unknown gateway gets
  "no gateway";
- a good one lists every field of the seed (`gateway list -j`), the
  username with "@domain" added; `gateway set` changes one field;
- `config save` writes one "gateway add" line with the password, in a
  file that is 0600 (a password is a secret); sipd restarted from that
  file lists the same gateway;
- a user allowed only to read (control allow nobody) sees the password
  as "hidden", and cannot add a gateway;
- Tab completes gateway names after "gateway set".
The old sipd knows no "gateway" command."""

import json
import os
import pwd
import stat

import sipdtest
from sipdtest import check, sipctl


def gws(sipd, user=None):
    p = sipctl(sipd, "-j", "gateway", "list", user=user)
    check(p.returncode == 0, "gateway list: %r %r" % (p.stdout, p.stderr))
    return {g["name"]: g for g in json.loads(p.stdout)["data"]}


def refused(sipd, args, want, code=1):
    before = gws(sipd)
    p = sipctl(sipd, *args)
    check(p.returncode == code and want in p.stderr,
          "%s: exit %d %r, not %d with %r" % (" ".join(args), p.returncode,
                                             p.stderr, code, want))
    check(gws(sipd) == before, "a bad line changed the gateways: %s" %
          gws(sipd))


def completion(sipd):
    import pty
    import select
    import subprocess
    import time

    home = os.path.join(sipd.dir.name, "home")
    os.mkdir(home)
    env = dict(os.environ, HOME=home, TERM="vt100")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sipdtest.sipctl_binary(), "-s", sipd.sock_path],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    out = [b""]

    def read(want, timeout=5.0):
        deadline = time.monotonic() + timeout
        while want.encode() not in out[0]:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([master], [], [], left)
            if not r:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return False
            if not data:
                return False
            out[0] += data
        return True

    try:
        check(read("sipctl> "), "no prompt: %r" % out[0])
        out[0] = b""
        os.write(master, b"gateway set Pro\t")
        check(read("vider1 "), "Tab on a gateway name: %r" % out[0])
        out[0] = b""
        os.write(master, b"subst\t")
        check(read("itute-"), "Tab on a field: %r" % out[0])
        os.write(master, b"\x15quit\n")
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        os.close(master)


def test(binary, started):
    sipd = sipdtest.Sipd(binary, conf="domain add example.com\n"
                         "account add alice@example.com password a-pw\n")
    started.append(sipd)
    os.chmod(sipd.dir.name, 0o755)
    os.chmod(os.path.dirname(sipdtest.sipctl_binary()), 0o755)
    sipd.start()

    refused(sipd, ["gateway", "add", "P1"], "missing domain")
    refused(sipd, ["gateway", "add", "P1", "domain", "prov.test", "via",
                   "sip:"], "bad via URI")
    refused(sipd, ["gateway", "add", "P1", "domain", "prov.test", "via",
                   "a b"], "bad via")
    refused(sipd, ["gateway", "add", "P-1", "domain", "prov.test"],
            "letters and digits only")
    refused(sipd, ["gateway", "add", "P1", "domain", "bad_domain!"],
            "bad domain")
    refused(sipd, ["gateway", "add", "P1", "domain", "prov.test",
                   "contact", "<sip:x>"], "bad contact")
    refused(sipd, ["gateway", "add", "P1", "domain", "prov.test",
                   "colour", "red"], "", code=2)
    check(gws(sipd) == {}, "bad lines added gateways: %s" % gws(sipd))

    p = sipctl(sipd, "gateway", "add", "Provider1", "domain", "prov.test",
               "via", "sip:127.0.0.9:5070;transport=udp", "username",
               "4930123", "password", "s3cret pw", "authname", "auth1",
               "register-every", "0", "contact", "alice",
               "calls-authenticate", "on", "substitute-from", "on")
    check(p.returncode == 0, "gateway add: %r" % p.stderr)
    refused(sipd, ["gateway", "add", "provider1", "domain", "x.test"],
            "exists")
    g = gws(sipd)["Provider1"]
    want = {"domain": "prov.test", "via": "sip:127.0.0.9:5070;transport=udp",
            "username": "4930123@prov.test", "password": "s3cret pw",
            "authname": "auth1", "register-every": 0, "contact": "alice",
            "calls-authenticate": True, "substitute-from": True,
            "substitute-to": False}
    for k, v in want.items():
        check(g.get(k) == v, "%s is %r, not %r" % (k, g.get(k), v))
    refused(sipd, ["gateway", "set", "Provider1", "colour", "red"], "",
            code=2)
    refused(sipd, ["gateway", "set", "Provider1", "register-every", "-1"],
            "bad register-every")
    refused(sipd, ["gateway", "set", "Provider1", "substitute-to",
                   "maybe"], "expected on or off")
    refused(sipd, ["gateway", "set", "Nope", "via", "x.test"],
            "no gateway")
    refused(sipd, ["gateway", "remove", "Nope"], "no gateway")
    p = sipctl(sipd, "gateway", "set", "Provider1", "substitute-to", "on")
    check(p.returncode == 0 and gws(sipd)["Provider1"]["substitute-to"],
          "gateway set: %r" % p.stderr)

    # saved: one line, the password with it, the file 0600
    p = sipctl(sipd, "config", "save")
    check(p.returncode == 0, "config save: %r" % p.stderr)
    with open(sipd.conf_path) as f:
        text = f.read()
    lines = [ln for ln in text.splitlines() if ln.startswith("gateway ")]
    check(len(lines) == 1 and "password \"s3cret pw\"" in lines[0] and
          "substitute-to on" in lines[0], "saved: %r" % lines)
    mode = stat.S_IMODE(os.stat(sipd.conf_path).st_mode)
    check(mode & 0o077 == 0, "the file holding a password is %o" % mode)

    # a reader sees no password and adds nothing
    try:
        pwd.getpwnam("nobody")
        have_nobody = os.geteuid() == 0
    except KeyError:
        have_nobody = False
    if have_nobody:
        os.chmod(sipd.sock_path, 0o666)
        p = sipctl(sipd, "control", "allow", "nobody")
        check(p.returncode == 0, "control allow: %r" % p.stderr)
        g = gws(sipd, user="nobody")["Provider1"]
        check(g["password"] == "hidden", "a reader saw the password %r" %
              g["password"])
        p = sipctl(sipd, "gateway", "add", "P2", "domain", "x.test",
                   user="nobody")
        check(p.returncode == 1 and "denied" in p.stderr,
              "a reader added a gateway: %r" % p.stderr)
    completion(sipd)
    sipdtest.stop_clean(sipd)

    # restarted from the file: the same gateway
    with open(sipd.conf_path) as f:
        sipd.start_from(f.read())
    check(gws(sipd)["Provider1"]["password"] == "s3cret pw",
          "after a restart: %s" % gws(sipd))
    p = sipctl(sipd, "gateway", "remove", "Provider1")
    check(p.returncode == 0 and gws(sipd) == {}, "gateway remove: %r" %
          p.stderr)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
