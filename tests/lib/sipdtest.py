"""Start the real sipd on free loopback ports and talk SIP to it.

Used by the integration tests (tests/integration/<area>/<case>/test.py),
each run as: /usr/bin/python3 test.py PATH-TO-SIPD.  Every wait here is
bounded in time and in count.  A test passes by returning from main(),
is skipped by raising Skip (exit 77), and fails on any other exception
(exit 1), after printing the tail of sipd's stderr.  Under CI=true a
Skip fails too: CI has every tool and ::1, so a missing one is a fault
of the machine that must show, never a quiet pass.
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77
START_TIMEOUT = 10.0  # seconds until sipd must answer OPTIONS
STOP_TIMEOUT = 5.0    # seconds after SIGTERM before SIGKILL
START_TRIES = 3       # new ports when the chosen ones were taken meanwhile


class Skip(Exception):
    """The test cannot run here (a tool or ::1 is missing): exit 77."""


class Fail(Exception):
    """A check failed."""


def in_ci():
    """Whether this run is CI's (CI=true): nothing may be skipped."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def check(cond, what):
    if not cond:
        raise Fail(what)


def free_udp_port(host="127.0.0.1", low=None, high=None):
    """A UDP port free on host right now: the kernel's pick, or one drawn
    from low..high (at most 200 tries)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(200 if low else 1):
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            try:
                s.bind((host, random.randint(low, high) if low else 0))
            except OSError:
                continue
            return s.getsockname()[1]
    raise Fail("no free UDP port in %d..%d" % (low, high))


def free_tcp_port(host="127.0.0.1"):
    """A TCP port free on host right now (the kernel's pick)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# a listener line of a configuration: its protocol, host and port
LISTENER = re.compile(r"^listener add (\w+) (\[[^\]]+\]|[^\s:]+):(\d+)",
                      re.MULTILINE)


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def new_tag():
    return "%08x" % random.getrandbits(32)


def request(method, port, host="127.0.0.1", uri=None, call_id=None,
            cseq=None, via_host="127.0.0.1", via_port=None, rport=True,
            extra=(), omit=(), version="SIP/2.0", body=b""):
    """A request as bytes.  omit names headers to leave out; extra adds
    (name, value) pairs."""
    if uri is None:
        uri = "sip:ping@%s:%d" % (host if ":" not in host else
                                   "[%s]" % host, port)
    via = "SIP/2.0/UDP %s%s;branch=z9hG4bK%s%s" % (
        via_host, ":%d" % via_port if via_port else "", new_tag(),
        ";rport" if rport else "")
    hdrs = [
        ("Via", via),
        ("Max-Forwards", "70"),
        ("From", "<sip:test@example.invalid>;tag=%s" % new_tag()),
        ("To", "<sip:ping@example.invalid>"),
        ("Call-ID", call_id or "%s@sipdtest" % new_tag()),
        ("CSeq", cseq or "1 %s" % method),
    ]
    hdrs = [(n, v) for (n, v) in hdrs if n not in omit]
    hdrs += list(extra)
    if "Content-Length" not in omit:
        hdrs.append(("Content-Length", str(len(body))))
    text = "%s %s %s\r\n" % (method, uri, version)
    text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
    return text.encode() + body


class Response:
    """A parsed response: status, reason, headers (list of (name, value))."""

    def __init__(self, data):
        self.raw = data
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        check(len(parts) >= 2 and parts[0] == "SIP/2.0",
              "not a SIP response: %r" % lines[0])
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.strip(), value.strip()))

    def get(self, name):
        """Values of every header called name (any case), in order."""
        return [v for (n, v) in self.headers if n.lower() == name.lower()]

    def first(self, name):
        values = self.get(name)
        return values[0] if values else None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.reason)


class Peer:
    """A UDP socket on the loopback that sends requests and reads answers."""

    def __init__(self, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()

    def send(self, data, port, host=None):
        self.sock.sendto(data, (host or self.host, port))

    def recv(self, timeout=2.0):
        """The next datagram as a Response, or None after timeout."""
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return None
        return Response(data)

    def ask(self, data, port, host=None, timeout=2.0):
        """Send data and return the response (None if none came)."""
        self.send(data, port, host)
        return self.recv(timeout)

    def drain(self, timeout=0.2):
        """Read and drop whatever is queued, at most 100 datagrams."""
        for _ in range(100):
            if self.recv(timeout) is None:
                return


class Sipd:
    """The real sipd in the foreground on free loopback ports.

    listeners: hosts to listen on ("127.0.0.1", "::1"), one free port each.
    conf: further configuration lines.  Use as a context manager."""

    def __init__(self, binary, listeners=("127.0.0.1",), conf="",
                 port_range=None, clients=True):
        self.binary = binary
        self.hosts = list(listeners)
        self.extra_conf = conf
        self.dir = tempfile.TemporaryDirectory(prefix="sipdtest-")
        self.conf_path = os.path.join(self.dir.name, "sipd.conf")
        self.err_path = os.path.join(self.dir.name, "stderr")
        # the control socket, private to this instance (ctest -j)
        self.sock_path = os.path.join(self.dir.name, "sipd.sock")
        self.proc = None
        self.ports = []
        self.returncode = None
        self.port_range = port_range or (None, None)
        self.clients = clients
        self.listing = False  # started from a file start_from() wrote
        # a command sipd's command line is given to, which must exec it
        # (so that the process signalled is sipd): unshare, setpriv
        self.wrapper = []

    @property
    def port(self):
        return self.ports[0]

    def write_conf(self):
        self.ports = [free_udp_port(h, *self.port_range) for h in self.hosts]
        lines = ["# written by sipdtest.py"]
        for host, port in zip(self.hosts, self.ports):
            addr = "[%s]" % host if ":" in host else host
            lines.append("listener add udp %s:%d" % (addr, port))
        # each sipd its own registrations; the loopback counts as clients
        # (the relay policy), as the default sipd.conf has it
        lines.append("set reg-store %s" %
                     os.path.join(self.dir.name, "registrations.db"))
        if self.clients:
            lines.append("client-ip add 127.0.0.0/8")
            lines.append("client-ip add ::1/128")
        lines.append(self.extra_conf)
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def log(self):
        """Everything sipd wrote to stderr so far."""
        try:
            with open(self.err_path, encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, text, timeout=2.0):
        """True once text shows in sipd's stderr (bounded)."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            if text in self.log():
                return True
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return text in self.log()

    def launch(self):
        """One start on the file as written: True once sipd answers, else
        False with sipd stopped (see log() for why)."""
        err = open(self.err_path, "w")
        try:
            self.proc = subprocess.Popen(
                self.wrapper + [self.binary, "-f", "-c", self.conf_path,
                                "-s", self.sock_path],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        finally:
            err.close()
        if self.wait_ready():
            return True
        self.stop()
        return False

    def port_taken(self):
        """Whether the last start failed on a port taken meanwhile."""
        return "Address already in use" in self.log()

    def start(self):
        if self.listing:
            # started from a listing before: that file again, as it is now
            with open(self.conf_path) as f:
                self.start_from(f.read())
            return self
        for _ in range(START_TRIES):
            self.write_conf()
            if self.launch():
                return self
            if not self.port_taken():
                break
        raise Fail("sipd did not start:\n" + self.log())

    def start_from(self, text):
        """Start on text, a configuration another sipd wrote (its
        listing), on the same listener ports; when one was taken
        meanwhile (EADDRINUSE), every listener of text moves to a new
        free port and sipd starts again (at most START_TRIES times).
        Returns the text sipd runs on, to compare with its listing.
        Later start()s start from the file as it is then."""
        self.listing = True
        for _ in range(START_TRIES):
            with open(self.conf_path, "w") as f:
                f.write(text)
            udp = [(m.group(2).strip("[]"), int(m.group(3)))
                   for m in LISTENER.finditer(text) if m.group(1) == "udp"]
            self.hosts = [h for h, _ in udp]
            self.ports = [p for _, p in udp]
            if self.launch():
                return text
            if not self.port_taken():
                break

            def move(m):
                host = m.group(2).strip("[]")
                port = (free_udp_port(host) if m.group(1) == "udp"
                        else free_tcp_port(host))
                return "%s%d" % (m.group(0)[:-len(m.group(3))], port)
            text = LISTENER.sub(move, text)
        raise Fail("sipd did not start:\n" + self.log())

    def wait_ready(self):
        """True once sipd answers an OPTIONS on every listener."""
        deadline = time.monotonic() + START_TIMEOUT
        for host, port in zip(self.hosts, self.ports):
            # the kernel may hand the asking socket the very port sipd is
            # about to bind (it was free a moment ago): then it would
            # read its own OPTIONS; take another
            peer = Peer(host)
            for _ in range(10):
                if peer.port != port:
                    break
                peer.close()
                peer = Peer(host)
            try:
                ok = False
                for _ in range(int(START_TIMEOUT / 0.1) + 1):
                    if self.proc.poll() is not None:
                        return False
                    try:
                        resp = peer.ask(request("OPTIONS", port, host),
                                        port, timeout=0.1)
                    except Fail:
                        resp = None  # not an answer: ask again
                    if resp is not None:
                        ok = True
                        break
                    if time.monotonic() > deadline:
                        break
                if not ok:
                    return False
            finally:
                peer.close()
        return True

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; returns the status."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
        self.returncode = self.proc.returncode
        self.proc = None
        return self.returncode

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def cleanup(self):
        self.dir.cleanup()


def sipd_binary():
    if len(sys.argv) not in (2, 3):
        print("usage: %s PATH-TO-SIPD [PATH-TO-SIPCTL]" % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    return sys.argv[1]


def sipctl_binary():
    """The sipctl given as the second argument (the ctl tests)."""
    if len(sys.argv) != 3:
        print("usage: %s PATH-TO-SIPD PATH-TO-SIPCTL" % sys.argv[0],
              file=sys.stderr)
        sys.exit(2)
    return sys.argv[2]


def sipctl(sipd, *args, stdin=None, timeout=10, user=None):
    """Run sipctl -s SOCKET ARGS against sipd; returns the
    CompletedProcess (text).  user: run it as that user (setpriv)."""
    cmd = [sipctl_binary(), "-s", sipd.sock_path] + list(args)
    if user is not None:
        import pwd
        pw = pwd.getpwnam(user)
        cmd = ["setpriv", "--reuid=%d" % pw.pw_uid,
               "--regid=%d" % pw.pw_gid, "--clear-groups"] + cmd
    return subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout,
                          text=True,
                          stdin=None if stdin is not None
                          else subprocess.DEVNULL)


def run(test):
    """Run test(binary) and exit 0 (pass), 77 (skip) or 1 (fail).

    test may return the Sipd instances it used so their logs are shown on
    failure; it should check that each stopped with status 0."""
    binary = sipd_binary()
    started = []
    try:
        test(binary, started)
    except Skip as e:
        if in_ci():
            print("failed: %s (CI=true: a skip is a failure)" % e)
            sys.exit(1)
        print("skipped: %s" % e)
        sys.exit(SKIP)
    except Exception:  # any failure, including a broken assumption
        traceback.print_exc()
        for s in started:
            s.stop()
            print("--- sipd stderr (last 40 lines) ---")
            print("\n".join(s.log().splitlines()[-40:]))
        sys.exit(1)
    finally:
        for s in started:
            s.stop()
            s.cleanup()
    print("passed")
    sys.exit(0)


def thread_sleeps(pid):
    """How many times process pid's threads have slept so far: the sum of
    their voluntary context switches (/proc/PID/task/*/status)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except OSError:
            pass  # a thread that ended meanwhile
    return total


def stop_clean(sipd):
    """Stop sipd and check that SIGTERM ended it with status 0."""
    rc = sipd.stop()
    check(rc == 0, "sipd exited with status %r after SIGTERM" % rc)
