"""sipd under a service manager (sipd.8, "Running under systemd").

The test plays systemd: NOTIFY_SOCKET names a datagram socket it reads,
WATCHDOG_USEC asks for a watchdog of 1 s.  It checks, from the notices
that arrive there and what sipd's sockets do:

- READY=1 comes once the SIP listener answers OPTIONS and the control
  socket greets: both are checked right after READY=1 arrives.
- WATCHDOG=1 comes at least every half interval (0.5 s) while sipd runs.
- A stuck worker stops the pings: the worker threads are stopped with
  ptrace (the main thread keeps running); within SIPD_STUCK_MS (3 s) the
  pings stop and sipd logs the stuck worker; let go, they come again.
- SIGHUP: RELOADING=1 then READY=1; a file with an error gives the same
  pair, READY=1 saying the reload failed.
- SIGTERM: STOPPING=1, then sipd exits 0.
- Without "set reg-store", the registration store goes to
  $STATE_DIRECTORY (systemd's StateDirectory=), not /run.

A sipd without these notices (built without libsystemd, or before they
existed) fails at the first check: no READY=1 within 5 s."""

import ctypes
import os
import signal
import socket
import subprocess
import time

import sipdtest
from sipdtest import Peer, Skip, check, request

WATCHDOG_USEC = 1000000
STUCK_MS = 3000  # SIPD_STUCK_MS in sipd/main.c

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000


class Notices:
    """The datagrams sipd sends to NOTIFY_SOCKET, with their arrival."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.got = []  # (monotonic time, {key: value})

    def read(self, timeout):
        """Read what arrives within timeout seconds; returns it."""
        new = []
        deadline = time.monotonic() + timeout
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                break
            fields = dict(line.split("=", 1) for line in
                          data.decode().split("\n") if "=" in line)
            new.append((time.monotonic(), fields))
        self.got.extend(new)
        return new

    def wait(self, key, timeout=5.0):
        """The first notice with key=1 within timeout, or None; the
        notices read before it are kept in self.got."""
        deadline = time.monotonic() + timeout
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return None
            fields = dict(line.split("=", 1) for line in
                          data.decode().split("\n") if "=" in line)
            self.got.append((time.monotonic(), fields))
            if fields.get(key) == "1":
                return fields
        return None


def ctl_greets(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(path)
        return len(s.recv(4096)) > 4  # the length and the hello map
    except OSError:
        return False
    finally:
        s.close()


def options_answered(port):
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", port), port, timeout=0.5)
        return r is not None and r.status == 200
    finally:
        peer.close()


def pings(notices, seconds):
    return [t for t, f in notices.read(seconds) if f.get("WATCHDOG") == "1"]


def worker_threads(pid):
    return [int(t) for t in os.listdir("/proc/%d/task" % pid)
            if int(t) != pid]


def stop_threads(libc, tids):
    for tid in tids:
        if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
            raise Skip("ptrace not allowed here (errno %d)"
                       % ctypes.get_errno())
        check(libc.ptrace(PTRACE_INTERRUPT, tid, None, None) == 0,
              "PTRACE_INTERRUPT %d" % tid)
        os.waitpid(tid, WALL)


def release_threads(libc, tids):
    for tid in tids:
        libc.ptrace(PTRACE_DETACH, tid, None, None)


def test(binary, started):
    if os.environ.get("SIPD_HAVE_SYSTEMD") == "0":
        raise Skip("sipd built without libsystemd (libsystemd-dev)")
    s = sipdtest.Sipd(binary)
    started.append(s)
    state = os.path.join(s.dir.name, "state")
    notify = os.path.join(s.dir.name, "notify")
    notices = Notices(notify)
    s.write_conf()
    with open(s.conf_path) as f:
        conf = [ln for ln in f.read().splitlines()
                if not ln.startswith("set reg-store ")]
    with open(s.conf_path, "w") as f:
        f.write("\n".join(conf) + "\n")
    env = dict(os.environ, NOTIFY_SOCKET=notify, STATE_DIRECTORY=state,
               WATCHDOG_USEC=str(WATCHDOG_USEC))
    err = open(s.err_path, "w")
    s.proc = subprocess.Popen([binary, "-f", "-c", s.conf_path,
                               "-s", s.sock_path], env=env,
                              stdin=subprocess.DEVNULL, stdout=err,
                              stderr=err)
    err.close()

    ready = notices.wait("READY")
    check(ready is not None, "no READY=1 within 5 s")
    check(options_answered(s.port),
          "READY=1 sent before the listener answers OPTIONS")
    check(ctl_greets(s.sock_path),
          "READY=1 sent before the control socket greets")
    check("STATUS" in ready, "READY=1 without STATUS: %r" % ready)
    check(os.path.exists(os.path.join(state, "registrations.db")),
          "the store is not in $STATE_DIRECTORY")

    # the watchdog: 1 s asked, a ping every 0.5 s
    ts = pings(notices, 2.6)
    check(len(ts) >= 4, "%d WATCHDOG=1 in 2.6 s, want >= 4" % len(ts))
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    check(max(gaps) < 0.9, "WATCHDOG=1 gaps %r, want < 0.9 s" % gaps)

    # a stuck worker: its thread stopped, the main thread running
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p,
                            ctypes.c_void_p]
    tids = worker_threads(s.proc.pid)
    check(tids, "no worker thread in /proc/%d/task" % s.proc.pid)
    stop_threads(libc, tids)
    try:
        pings(notices, STUCK_MS / 1000 + 0.6)
        late = pings(notices, 1.5)
        check(not late, "%d WATCHDOG=1 while the workers are stopped"
              % len(late))
    finally:
        release_threads(libc, tids)
    check(s.wait_log("is stuck"), "no log line for the stuck worker")
    again = pings(notices, 2.0)
    check(len(again) >= 2, "no WATCHDOG=1 after the workers run again")
    check(s.wait_log("every worker turns again"), "no recovery log line")

    # SIGHUP: RELOADING=1, then READY=1
    notices.got = []
    os.kill(s.proc.pid, signal.SIGHUP)
    check(notices.wait("READY") is not None, "no READY=1 after SIGHUP")
    keys = [k for _, f in notices.got for k in ("RELOADING", "READY")
            if f.get(k) == "1"]
    check(keys == ["RELOADING", "READY"],
          "SIGHUP gave %r, want RELOADING=1 then READY=1" % keys)
    check(s.wait_log("configuration reloaded"), "the reload did not run")

    # a file with an error: the same pair, READY=1 says it failed
    with open(s.conf_path, "a") as f:
        f.write("no such command\n")
    notices.got = []
    os.kill(s.proc.pid, signal.SIGHUP)
    ready = notices.wait("READY")
    check(ready is not None, "no READY=1 after a failed reload")
    keys = [k for _, f in notices.got for k in ("RELOADING", "READY")
            if f.get(k) == "1"]
    check(keys == ["RELOADING", "READY"],
          "failed SIGHUP gave %r" % keys)
    check("failed" in ready.get("STATUS", ""),
          "READY=1 after a failed reload says %r" % ready)
    check(options_answered(s.port), "sipd stopped answering")

    # SIGTERM: STOPPING=1, exit 0
    notices.got = []
    os.kill(s.proc.pid, signal.SIGTERM)
    check(notices.wait("STOPPING") is not None, "no STOPPING=1 on SIGTERM")
    rc = s.proc.wait(timeout=10)
    s.proc = None
    s.returncode = rc
    check(rc == 0, "sipd exited %r after SIGTERM" % rc)


sipdtest.run(test)
