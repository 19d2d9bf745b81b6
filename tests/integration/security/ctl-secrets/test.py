"""Password digests reach only the users who may change them.  An HA1
logs in as its account (RFC 7616 3.4.2 needs nothing else), so a user
allowed to read the control socket but not to write ("control allow")
must never see one.  As such a reader (nobody), over the real socket:

- "show config" writes each digest as "hidden": "account add
  alice@example.com ha1-md5 hidden ha1-sha256 hidden"; that listing does
  not load ("sipd -t" refuses it with "bad ha1-md5");
- "show settings", "account show", "account list" (people's and -j)
  carry neither digest;
- "log follow" while root sets a new password shows the change as
  "(secret)", never the password or its digests; sipd's own log neither;
- a password line of the file that fails on SIGHUP (an unquoted blank in
  the password) is logged without its words.

Root (a writer) still gets the real digests from "show config", and the
file sipd saves keeps them.  Needs root and setpriv (exit 77 otherwise).
"""

import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import time

import sipdtest
from sipdtest import Sipd, Skip, check, sipctl

REALM = "example.com"
PASSWORD = "s3cret-alice"
NEW_PASSWORD = "n3w-secret-alice"


def ha1s(password):
    text = ("alice:%s:%s" % (REALM, password)).encode()
    return [hashlib.md5(text).hexdigest(), hashlib.sha256(text).hexdigest()]


def no_secret(text, what, secrets):
    for s in secrets:
        check(s not in text, "%s shows a secret %s:\n%s" % (what, s, text))


def test(binary, started):
    if os.geteuid() != 0:
        raise Skip("not root")
    if shutil.which("setpriv") is None:
        raise Skip("no setpriv")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user nobody")
    sipd = Sipd(binary, conf="domain add %s\n"
                "account add alice@%s password %s\n"
                "control allow nobody\n" % (REALM, REALM, PASSWORD))
    started.append(sipd)
    # nobody must reach the socket and run sipctl from its directory; the
    # socket's mode is opened by hand, as the setting may not exist
    os.chmod(sipd.dir.name, 0o755)
    os.chmod(os.path.dirname(sipdtest.sipctl_binary()), 0o755)
    sipd.start()
    os.chmod(sipd.sock_path, 0o666)
    secrets = ha1s(PASSWORD) + [PASSWORD]

    # root, a writer: the real digests, the file the same
    p = sipctl(sipd, "show", "config")
    check(p.returncode == 0, "root show config: %r" % p.stderr)
    for h in ha1s(PASSWORD):
        check(h in p.stdout, "root's show config lacks %s:\n%s" %
              (h, p.stdout))

    # nobody, a reader: no digest anywhere
    p = sipctl(sipd, "show", "config", user="nobody")
    check(p.returncode == 0, "reader show config: %d %r" %
          (p.returncode, p.stderr))
    no_secret(p.stdout, "show config to a reader", secrets)
    check("account add alice@example.com ha1-md5 hidden ha1-sha256 hidden"
          in p.stdout, "no placeholder in a reader's show config:\n%s" %
          p.stdout)
    hidden = os.path.join(sipd.dir.name, "hidden.conf")
    with open(hidden, "w") as f:
        f.write(p.stdout)
    t = subprocess.run([binary, "-t", "-c", hidden], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=10)
    check(t.returncode == 1 and "bad ha1-md5" in t.stderr,
          "a listing with hidden digests loads: %d %r" %
          (t.returncode, t.stderr))
    for args in (["show", "settings"], ["account", "show",
                 "alice@example.com"], ["account", "list"]):
        for j in ([], ["-j"]):
            p = sipctl(sipd, *(j + args), user="nobody")
            check(p.returncode == 0, "%r: %d %r" % (args, p.returncode,
                                                    p.stderr))
            no_secret(p.stdout, " ".join(j + args), secrets)

    # a reader following the log while root changes the password
    cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup",
           "--clear-groups", sipdtest.sipctl_binary(), "-s",
           sipd.sock_path, "log", "follow"]
    follower = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
    try:
        # wait until it follows (bounded: 50 looks, 0.1 s apart)
        for _ in range(50):
            st = json.loads(sipctl(sipd, "-j", "status").stdout)["data"]
            if st["followers"] == 1:
                break
            time.sleep(0.1)
        check(st["followers"] == 1, "the follower never started")
        p = sipctl(sipd, "account", "password", "alice@example.com",
                   NEW_PASSWORD)
        check(p.returncode == 0, "account password: %r" % p.stderr)
        check(sipd.wait_log("account password", 5),
              "no log line for the password change")
        time.sleep(0.3)
    finally:
        follower.terminate()
        out, _ = follower.communicate(timeout=5)
    check("account password" in out and "(secret)" in out,
          "the follower did not see the masked change:\n%s" % out)
    later = ha1s(NEW_PASSWORD) + [NEW_PASSWORD]
    no_secret(out, "log follow", secrets + later)
    no_secret(sipd.log(), "sipd's log", secrets + later)

    # the saved file keeps what a writer may see
    with open(sipd.conf_path) as f:
        saved = f.read()
    for h in ha1s(NEW_PASSWORD):
        check(h in saved, "the saved file lacks the new digest %s" % h)
    p = sipctl(sipd, "show", "config", user="nobody")
    no_secret(p.stdout, "show config to a reader", later)

    # a password with an unquoted blank in the file: the reload fails,
    # and the error it logs names no word of it
    with open(sipd.conf_path, "a") as f:
        f.write("account password alice@example.com split-one split-two\n")
    os.kill(sipd.proc.pid, signal.SIGHUP)
    check(sipd.wait_log("reload failed", 5), "no reload failure line")
    no_secret(sipd.log(), "a failed reload", ["split-one", "split-two"])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
