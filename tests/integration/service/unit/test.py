"""The service files of sipd/dist, checked by systemd's own tools.

test.py SIPD UNIT SYSUSERS TMPFILES: the built sipd, the configured unit
(build/sipd/dist/sipd.service), the sysusers.d and tmpfiles.d entries.

- systemd-analyze verify accepts the unit (with its sipd pointed at the
  built binary, which it checks is executable): any message it prints is
  a failure, since it exits 0 on an unknown key or a bad value
  ("Unknown key 'ProtectSysem'", "Failed to parse service type").
- The unit says what sipd(8) promises: Type=notify, a WatchdogSec,
  ExecReload sending SIGHUP, the hardening and directories.
- systemd-sysusers, on an empty root, creates the user sipd; then
  systemd-tmpfiles, on that root, makes /var/lib/sipd owned by it, mode
  0700.

Without systemd-analyze (Debian's systemd package) the test is skipped,
and fails under CI=true."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

WANT = {
    "Type": "notify",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "ProtectSystem": "strict",
    "StateDirectory": "sipd",
    "RuntimeDirectory": "sipd",
    "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
    "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
    "NoNewPrivileges": "yes",
    "User": "sipd",
}


def fail(why):
    print("failed: %s" % why)
    sys.exit(1)


def skip(why):
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        fail("%s (CI=true: a skip is a failure)" % why)
    print("skipped: %s" % why)
    sys.exit(SKIP)


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=60)


def main():
    if len(sys.argv) != 5:
        print("usage: test.py SIPD UNIT SYSUSERS TMPFILES", file=sys.stderr)
        sys.exit(2)
    sipd, unit, sysusers, tmpfiles = sys.argv[1:]
    for tool in ("systemd-analyze", "systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            skip("%s not found (Debian package systemd)" % tool)
    with open(unit) as f:
        text = f.read()
    keys = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            keys.setdefault(m.group(1), m.group(2))
    for k, v in WANT.items():
        if keys.get(k) != v:
            fail("unit: %s=%r, want %r" % (k, keys.get(k), v))
    if not re.match(r"^[0-9]+s$", keys.get("WatchdogSec", "")):
        fail("unit: no WatchdogSec")
    if " -f " not in keys.get("ExecStart", ""):
        fail("unit: ExecStart without -f (Type=notify wants no fork)")
    with tempfile.TemporaryDirectory(prefix="sipdunit-") as d:
        exe = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
        local = os.path.join(d, "sipd.service")
        with open(local, "w") as f:
            f.write(text.replace(exe, os.path.abspath(sipd)))
        r = run(["systemd-analyze", "verify", "--man=no", local])
        if r.returncode != 0 or r.stdout.strip():
            fail("systemd-analyze verify (exit %d):\n%s"
                 % (r.returncode, r.stdout))
        root = os.path.join(d, "root")
        os.makedirs(os.path.join(root, "etc"))
        for name in ("passwd", "group", "shadow", "gshadow"):
            open(os.path.join(root, "etc", name), "w").close()
        r = run(["systemd-sysusers", "--root=" + root,
                 os.path.abspath(sysusers)])
        if r.returncode != 0:
            fail("systemd-sysusers (exit %d):\n%s" % (r.returncode, r.stdout))
        with open(os.path.join(root, "etc", "passwd")) as f:
            users = [ln.split(":") for ln in f.read().splitlines()]
        sipd_pw = [u for u in users if u[0] == "sipd"]
        if not sipd_pw or sipd_pw[0][6] != "/usr/sbin/nologin":
            fail("systemd-sysusers made no user sipd with nologin: %r"
                 % users)
        uid = int(sipd_pw[0][2])
        if os.geteuid() != 0:
            print("tmpfiles: not root, ownership not checked")
            print("passed")
            return
        r = run(["systemd-tmpfiles", "--root=" + root, "--create",
                 os.path.abspath(tmpfiles)])
        if r.returncode != 0:
            fail("systemd-tmpfiles (exit %d):\n%s" % (r.returncode, r.stdout))
        for path, mode in (("var/lib/sipd", 0o700),):
            st = os.stat(os.path.join(root, path))
            if st.st_uid != uid or (st.st_mode & 0o7777) != mode:
                fail("/%s: uid %d mode %o, want uid %d mode %o"
                     % (path, st.st_uid, st.st_mode & 0o7777, uid, mode))
    print("passed")


main()
