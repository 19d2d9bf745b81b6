"""Logging as sipd.8 describes it ("Logging", "Security log lines"):

- levels filter: at the default (problems) a refused request is logged
  and an answered OPTIONS is not (low-level), nor any SIPDATA; with
  `log level server low-level` the OPTIONS shows; with `log level server
  none` not even the refusal; with `log level transport all` the
  packets (SIPDATA) do;
- `log output file PATH`: lines go to the file from then on, and no
  longer to the standard error output; a packet (SIPDATA) is written
  there as its header line and then its lines, indented;
- the fail2ban line: a REGISTER with a wrong password and one for an
  unknown user give lines that the failregex printed in sipd.8 matches,
  with the source address as <HOST>;
- as a daemon (no -f), lines go to syslog(3) with the facility daemon:
  a datagram socket at /dev/log receives the start and a refusal.
  Needs root (/dev/log is the system's); skipped otherwise (failed
  under CI, which runs as root)."""

import os
import re
import socket
import subprocess
import tempfile
import time

import sipdtest
import sipua
from sipdtest import Peer, Sipd, Skip, check, request, sipctl

CONF = """domain add example.com
account add alice@example.com password alice-pw"""
MAN = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "..", "..", "..", "man", "sipd.8")


def refused(port):
    """A request sipd refuses (483, logged at problems) from a new
    socket; returns "from ADDR:PORT", which sipd's lines about it hold."""
    peer = Peer()
    try:
        req = request("MESSAGE", port).replace(b"Max-Forwards: 70",
                                               b"Max-Forwards: 0")
        r = peer.ask(req, port)
        check(r is not None and r.status == 483, "MESSAGE with "
              "Max-Forwards 0 got %r" % r)
        return "from 127.0.0.1:%d" % peer.port
    finally:
        peer.close()


def options(port):
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", port), port)
        check(r is not None and r.status == 200, "OPTIONS got %r" % r)
        return "from 127.0.0.1:%d" % peer.port
    finally:
        peer.close()


def ctl(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "sipctl %s: %s" % (" ".join(args), p.stderr))


def settled(sipd, text):
    """sipd's log once it shows text (a marker request's line)."""
    check(sipd.wait_log(text, 5.0), "no %r in the log" % text)
    return sipd.log()


def levels(sipd):
    ask = options(sipd.port)
    log = settled(sipd, refused(sipd.port))
    check("refused MESSAGE" in log, "no refusal at problems")
    check(ask not in log, "a low-level line (answered OPTIONS) at the "
          "default level problems:\n" + log)
    check("SIPDATA" not in log, "packets logged at problems")

    ctl(sipd, "log", "level", "server", "low-level")
    ask = options(sipd.port)
    check(sipd.wait_log("answered OPTIONS " + ask, 5.0),
          "no answered OPTIONS at low-level")

    ctl(sipd, "log", "level", "server", "none")
    before = len(sipd.log())
    quiet = refused(sipd.port)
    ctl(sipd, "log", "level", "transport", "all")
    # the packets of the next one end the wait: the quiet one's line
    # would be before them
    mark = refused(sipd.port).replace("from", "received from")
    log = settled(sipd, mark)[before:]
    check(quiet not in log, "server none still logs a refusal:\n" + log)
    check("refused" not in log, "server none still logs refusals:\n" + log)
    ctl(sipd, "log", "level", "all", "problems")


def output_file(sipd, workdir):
    path = os.path.join(workdir, "sipd.log")
    ctl(sipd, "log", "output", "file", path)
    before = len(sipd.log())
    mark = refused(sipd.port)
    deadline = time.monotonic() + 5
    for _ in range(100):
        if os.path.exists(path) and mark in open(path).read():
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check(os.path.exists(path) and mark in open(path).read(),
          "the refusal is not in the log file")
    check(mark not in sipd.log()[before:],
          "the refusal went to stderr as well")
    # a packet in the file: its header line, then its lines, indented
    ctl(sipd, "log", "level", "transport", "all")
    refused(sipd.port)
    deadline = time.monotonic() + 5
    for _ in range(100):
        text = open(path).read()
        if "    Call-ID: " in text and "SIPDATA, received from" in text:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    lines = open(path).read().splitlines()
    heads = [i for i, l in enumerate(lines) if "SIPDATA, received from" in l]
    check(heads, "no packet in the log file")
    i = heads[-1]
    check(lines[i].endswith(" bytes)") and
          lines[i + 1].startswith("    MESSAGE sip:") and
          any(l.startswith("    Call-ID: ") for l in lines[i + 1:i + 12]),
          "a packet is not its lines in the file: %r" % lines[i:i + 4])
    check("\\x0d\\x0a" not in "\n".join(lines[i:i + 12]),
          "escaped line ends in the file: %r" % lines[i:i + 3])
    ctl(sipd, "log", "level", "all", "problems")
    ctl(sipd, "log", "output", "stderr")
    return path


def fail2ban(sipd):
    with open(MAN) as f:
        page = f.read()
    m = re.search(r"^failregex = (.*)$", page, re.MULTILINE)
    check(m is not None, "no failregex in sipd.8")
    # mdoc's \e is a backslash; fail2ban's <HOST> an address
    regex = m.group(1).replace("\\e", "\\").replace(
        "<HOST>", r"(?P<host>[0-9.]+)")
    ua = sipua.UA()
    try:
        for user in ("alice", "mallory"):
            resp = sipua.register(ua, sipd.port, user, "example.com",
                                  "wrong-pw")
            check(resp.status in (401, 403), "a wrong password got %d" %
                  resp.status)
    finally:
        ua.close()
    for user, why in (("alice", "bad password"),
                      ("mallory", "unknown user")):
        line = "user='%s' src=127.0.0.1:%d" % (user, ua.port)
        check(sipd.wait_log(line, 5.0), "no auth failure line for %s:\n%s"
              % (user, sipd.log()[-2000:]))
        got = [ln for ln in sipd.log().splitlines() if line in ln]
        check(re.search(regex, got[0]) and
              re.search(regex, got[0]).group("host") == "127.0.0.1",
              "sipd.8's failregex %r does not match %r" % (regex, got[0]))
        check(got[0].endswith("realm='example.com' (%s)" % why),
              "not sipd.8's line: %r" % got[0])


class Syslog:
    """A datagram socket at /dev/log for the test's time (root)."""

    def __init__(self, workdir):
        if os.geteuid() != 0:
            raise Skip("not root: /dev/log cannot be taken over")
        self.path = "/dev/log"
        self.wrapper = []
        self.made = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.exists(self.path):
            # the system's syslog: bind ours over it in sipd's own mount
            # namespace only
            mine = os.path.join(workdir, "log")
            self.sock.bind(mine)
            self.wrapper = ["unshare", "--mount", "--propagation",
                            "private", "sh", "-c",
                            'mount --bind "$0" /dev/log && exec "$@"', mine]
        else:
            self.sock.bind(self.path)
            self.made = True
        os.chmod(self.sock.getsockname(), 0o666)

    def lines(self, pid, timeout):
        """Every line of pid read within timeout: (priority, text)."""
        out = []
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536).decode("utf-8", "replace")
            except socket.timeout:
                break
            m = re.match(r"<(\d+)>.*?sipd\[(\d+)\]: (.*)", data, re.DOTALL)
            if m and int(m.group(2)) == pid:
                out.append((int(m.group(1)), m.group(3).strip()))
        return out

    def close(self):
        self.sock.close()
        if self.made:
            os.unlink(self.path)


def daemon(binary, workdir):
    log = Syslog(workdir)
    pidfile = os.path.join(workdir, "sipd.pid")
    sipd = Sipd(binary)
    sipd.write_conf()
    pid = None
    try:
        p = subprocess.run(
            log.wrapper + [binary, "-c", sipd.conf_path, "-s",
                           sipd.sock_path, "-p", pidfile],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=20, text=True)
        check(p.returncode == 0, "the daemon did not start: %s" % p.stdout)
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
        mark = refused(sipd.port)
        got = []
        for _ in range(50):
            got += log.lines(pid, 0.1)
            if any(mark in text for _, text in got):
                break
        check(any("started" in text for _, text in got),
              "no start line in syslog: %s" % got)
        check(any(mark in text for _, text in got),
              "no refusal line in syslog: %s" % got)
        print("syslog: %d lines from the daemon, e.g. <%d> %s" % (
            len(got), got[0][0], got[0][1]))
        check(all(pri >> 3 == 3 for pri, _ in got),
              "not the facility daemon (3): %s" % got)
    finally:
        if pid is not None:
            os.kill(pid, 15)
            for _ in range(100):
                if not os.path.exists("/proc/%d" % pid):
                    break
                time.sleep(0.05)
        log.close()
        sipd.cleanup()


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        sipd = Sipd(binary, conf=CONF)
        started.append(sipd)
        sipd.start()
        levels(sipd)
        output_file(sipd, workdir)
        fail2ban(sipd)
        check(sipd.alive(), "sipd died")
        sipdtest.stop_clean(sipd)
        daemon(binary, workdir)


sipdtest.run(test)
