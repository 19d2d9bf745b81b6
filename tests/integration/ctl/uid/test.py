"""The peer check: the socket is created 0600, so another user cannot
even connect; with the mode opened, sipd itself refuses a uid that is
not allowed (SO_PEERCRED) with a "denied" error and a log line; after
"control allow nobody" that user may read but not write.  Needs root and
setpriv (exit 77 otherwise)."""

import os
import pwd
import shutil
import stat

import sipdtest
from sipdtest import Sipd, Skip, check, sipctl


def test(binary, started):
    if os.geteuid() != 0:
        raise Skip("not root")
    if shutil.which("setpriv") is None:
        raise Skip("no setpriv")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        raise Skip("no user nobody")
    sipd = Sipd(binary)
    started.append(sipd)
    # nobody must reach the socket and run sipctl from the directory
    os.chmod(sipd.dir.name, 0o755)
    os.chmod(os.path.dirname(sipdtest.sipctl_binary()), 0o755)
    sipd.start()
    mode = stat.S_IMODE(os.stat(sipd.sock_path).st_mode)
    check(mode == 0o600, "socket mode %o" % mode)

    p = sipctl(sipd, "status", user="nobody")
    check(p.returncode == 3 and "cannot connect" in p.stderr,
          "0600 socket: %d %r" % (p.returncode, p.stderr))

    os.chmod(sipd.sock_path, 0o666)
    p = sipctl(sipd, "status", user="nobody")
    check(p.returncode == 3 and "refused by sipd" in p.stderr and
          "denied" in p.stderr, "not allowed: %d %r" % (p.returncode,
                                                       p.stderr))
    check(sipd.wait_log("refused uid %d" % nobody.pw_uid),
          "no log line for the refused uid")

    p = sipctl(sipd, "control", "allow", "nobody")
    check(p.returncode == 0, "control allow: %r" % p.stderr)
    p = sipctl(sipd, "status", user="nobody")
    check(p.returncode == 0, "allowed reader: %d %r" % (p.returncode,
                                                        p.stderr))
    p = sipctl(sipd, "set", "t1", "600", user="nobody")
    check(p.returncode == 1 and "(denied)" in p.stderr,
          "reader writing: %d %r" % (p.returncode, p.stderr))
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
