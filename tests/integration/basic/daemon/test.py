"""Without -f sipd becomes a daemon: the command returns 0 once the daemon
listens, the pid file holds the daemon's pid and is locked, the daemon
answers OPTIONS, and SIGTERM stops it and removes the pid file.  A second
start is refused with exit 1 and sipd.8's message, each cause on its own:
the same pid file ("sipd is already running"), and the same listener with
another pid file ("cannot listen on ... (Address already in use)"; a
second daemon must not share the port).  After both the first daemon
still answers every request."""

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

        # the pid file alone: the same file, every other resource free
        # (another port, another control socket): refused by its lock
        other = Sipd(binary)
        started.append(other)
        other.write_conf()
        p = subprocess.run([binary, "-c", other.conf_path, "-p", pidfile,
                            "-s", other.sock_path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        check(p.returncode == 1, "same pid file: exit %d" % p.returncode)
        check(p.stderr.strip() == ("sipd: %s: sipd is already running" %
                                   pidfile).encode(),
              "same pid file: %r" % p.stderr)
        with open(pidfile) as f:
            check(int(f.read().strip()) == pid,
                  "the second start rewrote the pid file")

        # the listener alone: another pid file and control socket, the
        # first daemon's address: refused, not sharing the port
        pidfile2 = os.path.join(other.dir.name, "sipd2.pid")
        p = subprocess.run([binary, "-c", conf.conf_path, "-p", pidfile2,
                            "-s", other.sock_path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        if p.returncode == 0 and os.path.exists(pidfile2):
            with open(pidfile2) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        check(p.returncode == 1, "same listener: exit %d" % p.returncode)
        check(p.stderr.strip() == (
            "sipd: cannot listen on udp 127.0.0.1:%d (Address already "
            "in use)" % conf.port).encode(),
              "same listener: %r" % p.stderr)
        check(not os.path.exists(pidfile2), "refused start left a pid file")
        check(running(pid), "the second start hurt the first")
        peer = Peer()
        try:
            for i in range(20):
                r = peer.ask(request("OPTIONS", conf.port), conf.port)
                check(r is not None and r.status == 200,
                      "after the second starts, request %d: %r" % (i, r))
        finally:
            peer.close()

        os.kill(pid, signal.SIGTERM)
        check(wait_gone(pid, 5.0), "daemon ignored SIGTERM")
        check(not os.path.exists(pidfile), "pid file left behind")
    finally:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


sipdtest.run(test)
