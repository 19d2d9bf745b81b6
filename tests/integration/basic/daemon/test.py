"""Without -f sipd becomes a daemon: the command returns 0 once the daemon
listens, the pid file holds the daemon's pid and is locked (a second start
is refused), the daemon answers OPTIONS, and SIGTERM stops it and removes
the pid file."""

import os
import signal
import subprocess
import time

import sipdtest
from sipdtest import Peer, Sipd, check, request


def running(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 1):
        if not running(pid):
            return True
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return not running(pid)


def test(binary, started):
    conf = Sipd(binary)  # only for its temporary config and free port
    started.append(conf)
    conf.write_conf()
    pidfile = os.path.join(conf.dir.name, "sipd.pid")
    p = subprocess.run([binary, "-c", conf.conf_path, "-p", pidfile,
                        "-s", conf.sock_path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    check(p.returncode == 0, "daemon start: %d %r" % (p.returncode,
                                                      p.stderr))
    with open(pidfile) as f:
        pid = int(f.read().strip())
    try:
        check(running(pid), "no daemon at pid %d" % pid)
        peer = Peer()
        try:
            r = peer.ask(request("OPTIONS", conf.port), conf.port)
            check(r is not None and r.status == 200, "daemon: got %r" % r)
        finally:
            peer.close()

        p = subprocess.run([binary, "-c", conf.conf_path, "-p", pidfile,
                        "-s", conf.sock_path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        check(p.returncode == 1, "second start: exit %d" % p.returncode)
        check(b"already running" in p.stderr or b"in use" in p.stderr,
              "second start: %r" % p.stderr)
        check(running(pid), "the second start hurt the first")

        os.kill(pid, signal.SIGTERM)
        check(wait_gone(pid, 5.0), "daemon ignored SIGTERM")
        check(not os.path.exists(pidfile), "pid file left behind")
    finally:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


sipdtest.run(test)
