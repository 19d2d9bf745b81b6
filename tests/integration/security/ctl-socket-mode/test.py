"""Who may connect to the control socket is the socket's mode and group
("control socket-mode", "control socket-group"); what each may do is
sipd's check of the peer's uid (SO_PEERCRED, "control allow").  With
"control allow nobody", mode 0660 and the group nogroup, over the real
socket and as real second users (setpriv):

- nobody connects and reads ("status"), and is refused a change ("set
  t1": denied, exit 1);
- uid 65533 in the group connects but is refused by sipd (denied, exit
  3: the peer check, not the file mode, said no);
- uid 65533 outside the group cannot connect at all (exit 3, cannot
  connect: EACCES);
- "control socket-mode 0600" applies at once: nobody cannot connect;
  "control socket-mode 0666" and "control socket-group default" let
  anybody connect, and sipd still refuses those not allowed;
- "show config" and the saved file keep the mode; a sipd started on it
  creates the socket 0666 from the start.

Needs root and setpriv (exit 77 otherwise).
"""

import grp
import os
import pwd
import shutil
import stat
import subprocess

import sipdtest
from sipdtest import Sipd, Skip, check, sipctl

STRANGER = 65533


def as_ids(sipd, uid, gid, *args):
    cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid,
           "--clear-groups", sipdtest.sipctl_binary(), "-s",
           sipd.sock_path] + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, timeout=10)


def mode_gid(sipd):
    st = os.stat(sipd.sock_path)
    return stat.S_IMODE(st.st_mode), st.st_gid


def test(binary, started):
    if os.geteuid() != 0:
        raise Skip("not root")
    if shutil.which("setpriv") is None:
        raise Skip("no setpriv")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user nobody")
    group = grp.getgrgid(nobody.pw_gid).gr_name
    ngid = nobody.pw_gid
    sipd = Sipd(binary, conf="control allow nobody\n"
                "control socket-mode 0660\n"
                "control socket-group %s\n" % group)
    started.append(sipd)
    os.chmod(sipd.dir.name, 0o755)
    os.chmod(os.path.dirname(sipdtest.sipctl_binary()), 0o755)
    sipd.start()
    check(mode_gid(sipd) == (0o660, ngid), "socket mode/gid %o %d" %
          mode_gid(sipd))

    p = sipctl(sipd, "status", user="nobody")
    check(p.returncode == 0, "allowed member reading: %d %r" %
          (p.returncode, p.stderr))
    p = sipctl(sipd, "set", "t1", "600", user="nobody")
    check(p.returncode == 1 and "(denied)" in p.stderr,
          "allowed reader writing: %d %r" % (p.returncode, p.stderr))
    p = as_ids(sipd, STRANGER, ngid, "status")
    check(p.returncode == 3 and "refused by sipd" in p.stderr and
          "denied" in p.stderr, "group member not allowed: %d %r" %
          (p.returncode, p.stderr))
    check(sipd.wait_log("refused uid %d" % STRANGER),
          "no log line for the refused uid")
    p = as_ids(sipd, STRANGER, STRANGER, "status")
    check(p.returncode == 3 and "cannot connect" in p.stderr,
          "outsider: %d %r" % (p.returncode, p.stderr))

    # narrowed at once
    p = sipctl(sipd, "control", "socket-mode", "0600")
    check(p.returncode == 0, "socket-mode 0600: %r" % p.stderr)
    check(mode_gid(sipd)[0] == 0o600, "mode %o" % mode_gid(sipd)[0])
    p = sipctl(sipd, "status", user="nobody")
    check(p.returncode == 3 and "cannot connect" in p.stderr,
          "0600, nobody: %d %r" % (p.returncode, p.stderr))

    # opened to anybody: the peer check still decides
    for args in (["control", "socket-mode", "0666"],
                 ["control", "socket-group", "default"]):
        p = sipctl(sipd, *args)
        check(p.returncode == 0, "%r: %r" % (args, p.stderr))
    check(mode_gid(sipd) == (0o666, 0), "socket mode/gid %o %d" %
          mode_gid(sipd))
    p = as_ids(sipd, STRANGER, STRANGER, "status")
    check(p.returncode == 3 and "denied" in p.stderr,
          "0666, stranger: %d %r" % (p.returncode, p.stderr))
    p = sipctl(sipd, "status", user="nobody")
    check(p.returncode == 0, "0666, nobody: %d %r" % (p.returncode,
                                                      p.stderr))
    p = sipctl(sipd, "control", "socket-group", "no-such-group-x")
    check(p.returncode == 1 and "unknown group" in p.stderr,
          "unknown group: %d %r" % (p.returncode, p.stderr))
    p = sipctl(sipd, "control", "socket-mode", "0777")
    check(p.returncode == 2, "mode 0777 accepted: %d %r" %
          (p.returncode, p.stderr))

    p = sipctl(sipd, "show", "config")
    check("control socket-mode 0666\n" in p.stdout and
          "socket-group" not in p.stdout, "show config:\n%s" % p.stdout)
    with open(sipd.conf_path) as f:
        saved = f.read()
    check("control socket-mode 0666\n" in saved, "saved:\n%s" % saved)
    sipdtest.stop_clean(sipd)

    # from the start
    second = Sipd(binary, conf="control allow nobody\n"
                  "control socket-mode 0666\n")
    started.append(second)
    os.chmod(second.dir.name, 0o755)
    second.start()
    check(mode_gid(second) == (0o666, 0), "at start: %o %d" %
          mode_gid(second))
    p = sipctl(second, "status", user="nobody")
    check(p.returncode == 0, "at start, nobody: %d %r" % (p.returncode,
                                                          p.stderr))
    sipdtest.stop_clean(second)


sipdtest.run(test)
