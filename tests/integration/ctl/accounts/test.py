"""Domains and accounts through sipctl: added, listed and shown (-j),
with their aliases, forwarders and flags; passwords kept as HA1 digests
only (the expected digests computed here with hashlib), never shown by
"show config" or "account show", never in the saved file, its .bak, the
log or the shell's history; the file and its .bak are mode 0600; a new
sipd started on "show config" has the same accounts; the relay, registrar
and auth settings show in "show settings"; Tab completes account names."""

import hashlib
import json
import os
import stat

import sipdtest
from sipdtest import Sipd, check, sipctl

PW_BOB = "Bob-pw-7f3a9c"
PW_ALICE = "alice pw 51e2"
PW_NEW = "n3w-Secret-d41d"
SECRETS = (PW_BOB, PW_ALICE, PW_NEW)


def ha1(alg, user, realm, password):
    h = hashlib.md5 if alg == "md5" else hashlib.sha256
    return h(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%r: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def j(sipd, *args):
    return json.loads(ok(sipd, "-j", *args))["data"]


def no_secret(text, where):
    for s in SECRETS:
        check(s not in text, "a password in %s:\n%s" % (where, text))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def completion(sipd):
    """Tab completes an account name; a password typed in the shell is
    not in the history (skipped quietly without a pseudo-terminal)."""
    import pty
    import select
    import subprocess
    import time

    home = os.path.join(sipd.dir.name, "home")
    os.mkdir(home)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "interactive", "lsan.supp")
    env = dict(os.environ, HOME=home, TERM="vt100",
               LSAN_OPTIONS="suppressions=%s" % supp)
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
            if r:
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
        os.write(master, b"account show al\t")
        check(read("ice@example.com "), "Tab on an account: %r" % out[0])
        os.write(master, b"\n")
        check(read("sipctl> "), "no prompt after show")
        os.write(master, ("account password bob@example.com %s\n" %
                          PW_NEW).encode())
        check(read("sipctl> "), "no prompt after password")
        os.write(master, b"domain list\n")
        check(read("sipctl> "), "no prompt after domain list")
        os.write(master, b"quit\n")
        proc.wait(timeout=5)
        check(proc.returncode == 0, "sipctl exit %r" % proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        os.close(master)
    with open(os.path.join(home, ".sipctl_history")) as f:
        hist = f.read()
    check("domain" in hist, "history: %r" % hist)
    no_secret(hist, "the history")


def test(binary, started):
    sipd = Sipd(binary, clients=False)
    started.append(sipd)
    sipd.start()
    check(mode(sipd.conf_path) & 0o077 != 0, "the test's file is 0600")

    for args in (
            ["domain", "add", "Example.COM"],
            ["domain", "alias", "add", "example.com", "alias.example"],
            ["domain", "add", "other.org"],
            ["account", "add", "bob@example.com", "password", PW_BOB],
            ["account", "alias", "add", "bob@example.com", "robert"],
            ["account", "add", "alice@alias.example", "password", PW_ALICE],
            ["account", "forward", "alice@example.com",
             "sip:alice@elsewhere.example"],
            ["account", "add", "carol@other.org", "ha1-md5",
             ha1("md5", "carol", "other.org", "x"), "ha1-sha256",
             ha1("sha256", "carol", "other.org", "x")],
            ["account", "disable", "carol@other.org"],
            ["domain", "disable", "other.org"],
            ["relay", "to-non-clients", "nobody"],
            ["client-ip", "add", "192.0.2.0/24"],
            ["set", "reg-max-bindings", "3"],
            ["set", "reg-min-expires", "120"],
            ["set", "auth-advertise-ntlm", "on"],
            ["set", "auth-fail-limit", "4"]):
        ok(sipd, *args)

    # the file holds digests now: owner only, and so is the .bak
    check(mode(sipd.conf_path) == 0o600, "mode %o" % mode(sipd.conf_path))
    check(mode(sipd.conf_path + ".bak") == 0o600, ".bak mode %o" %
          mode(sipd.conf_path + ".bak"))

    # listing and showing
    doms = j(sipd, "domain", "list")
    check([d["domain"] for d in doms] == ["example.com", "other.org"],
          "domains %r" % doms)
    check(doms[0]["aliases"] == ["alias.example"] and doms[0]["enabled"]
          and doms[0]["accounts"] == 2 and not doms[1]["enabled"],
          "domains %r" % doms)
    accts = j(sipd, "account", "list")
    check([a["account"] for a in accts] == ["alice@example.com",
                                            "bob@example.com",
                                            "carol@other.org"],
          "accounts %r" % accts)
    check([a["account"] for a in j(sipd, "account", "list", "alias.example")]
          == ["alice@example.com", "bob@example.com"], "list of a domain")
    bob = j(sipd, "account", "show", "robert@ALIAS.example")
    check(bob["account"] == "bob@example.com" and bob["aliases"] ==
          ["robert"] and bob["enabled"] and bob["password"] and
          bob["digests"] == ["md5", "sha256"], "show %r" % bob)
    alice = j(sipd, "account", "show", "alice@example.com")
    check(alice["forward"] == "sip:alice@elsewhere.example", "forward")
    carol = j(sipd, "account", "show", "carol@other.org")
    check(not carol["enabled"], "carol %r" % carol)
    shown = ok(sipd, "account", "show", "bob@example.com") + \
        ok(sipd, "-j", "account", "show", "bob@example.com") + \
        ok(sipd, "account", "list")
    no_secret(shown, "account show")
    for alg in ("md5", "sha256"):
        check(ha1(alg, "bob", "example.com", PW_BOB) not in shown,
              "a digest in account show")

    rows = j(sipd, "show", "settings")
    settings = {r["setting"]: r["value"] for r in rows}
    changed = {r["setting"] for r in rows if r["changed"]}
    check(changed == {"relay-to-non-clients", "reg-max-bindings",
                      "reg-min-expires", "auth-advertise-ntlm",
                      "auth-fail-limit", "reg-store"},
          "changed: %r" % changed)
    for key, want in (("relay-to-non-clients", "nobody"),
                      ("reg-max-bindings", 3), ("reg-min-expires", 120),
                      ("reg-default-expires", 3600),
                      ("reg-max-expires", 86400),
                      ("auth-advertise-ntlm", True),
                      ("auth-advertise-digest", True),
                      ("auth-fail-limit", 4), ("auth-nonce-lifetime", 300)):
        check(settings.get(key) == want, "%s: %r" % (key, settings.get(key)))
    # every declared field, an empty comment too
    check(j(sipd, "client-ip", "list") ==
          [{"range": "192.0.2.0/24", "comment": ""}], "client-ip list")

    # refusals
    for args, code, text in (
            (["account", "add", "x@nowhere.org", "password", "p"], 1,
             "no domain"),
            (["account", "add", "bob@alias.example", "password", "p"], 1,
             "exists"),
            (["account", "add", "dave@example.com"], 1, "needs a password"),
            (["domain", "remove", "example.com"], 1, "remove them first"),
            (["account", "forward", "bob@example.com", "http://x"], 1,
             "sip:"),
            (["account", "show", "nobody@example.com"], 1, "no account")):
        p = sipctl(sipd, *args)
        check(p.returncode == code and text in p.stderr,
              "%r: %d %r" % (args, p.returncode, p.stderr))

    completion(sipd)

    # the configuration: digests, never a password
    conf = ok(sipd, "show", "config")
    no_secret(conf, "show config")
    for line in (
            "domain add example.com",
            "domain alias add example.com alias.example",
            "domain disable other.org",
            "account add bob@example.com ha1-md5 %s ha1-sha256 %s" % (
                ha1("md5", "bob", "example.com", PW_NEW),
                ha1("sha256", "bob", "example.com", PW_NEW)),
            "account alias add bob@example.com robert ha1-md5 %s "
            "ha1-sha256 %s" % (ha1("md5", "robert", "example.com", PW_NEW),
                               ha1("sha256", "robert", "example.com",
                                   PW_NEW)),
            "account add alice@example.com ha1-md5 %s" %
            ha1("md5", "alice", "example.com", PW_ALICE),
            "account forward alice@example.com sip:alice@elsewhere.example",
            "account disable carol@other.org",
            "relay to-non-clients nobody", "client-ip add 192.0.2.0/24",
            "set reg-max-bindings 3", "set auth-advertise-ntlm on"):
        check(line in conf, "show config lacks %r:\n%s" % (line, conf))
    with open(sipd.conf_path) as f:
        saved = f.read()
    no_secret(saved, "the saved file")
    with open(sipd.conf_path + ".bak") as f:
        no_secret(f.read(), "the .bak")
    check(mode(sipd.conf_path) == 0o600, "mode after more changes")
    log = sipd.log()
    no_secret(log, "the log")
    check("account add account=(secret) password=(secret)" in log,
          "no redacted line in the log")

    # an open relay is warned about
    ok(sipd, "relay", "to-non-clients", "anybody")
    check(sipd.wait_log("open relay"), "no open relay warning")
    ok(sipd, "relay", "to-non-clients", "nobody")
    sipdtest.stop_clean(sipd)

    # a new sipd on the listing: the same accounts and settings
    second = Sipd(binary, clients=False)
    started.append(second)
    conf = second.start_from(conf)
    check(ok(second, "show", "config") == conf, "round trip differs")
    check(j(second, "account", "list") == accts, "accounts differ")
    check(j(second, "account", "show", "robert@alias.example")["digests"] ==
          ["md5", "sha256"], "alias digests lost")
    # a password written into a file by hand is gone after a change
    sipdtest.stop_clean(second)
    with open(second.conf_path, "a") as f:
        f.write("account add hand@example.com password %s\n" % PW_BOB)
    second.start()
    check(j(second, "account", "show", "hand@example.com")["password"],
          "hand-written account")
    ok(second, "account", "remove", "carol@other.org")
    ok(second, "domain", "enable", "other.org")
    with open(second.conf_path) as f:
        no_secret(f.read(), "the rewritten file")
    check(mode(second.conf_path) == 0o600, "rewritten mode")
    check("account add hand@example.com ha1-md5 %s" %
          ha1("md5", "hand", "example.com", PW_BOB) in
          ok(second, "show", "config"), "hand-written account's digests")
    sipdtest.stop_clean(second)


sipdtest.run(test)
