"""What the shell tells a person, checked on what sipctl prints:

- "help listener add" (no quotes) shows that command's usage, and
  "help set t" lists only the set commands starting with t;
- "set t?" in the interactive shell lists only the words starting with t
  (t1, timer-b, ...), not every set option (force-rr, udp-tos);
- Tab after "help" completes command words;
- a mistyped word is refused (exit 2) naming its column and the nearest
  valid word; a word close to nothing gets the list of valid words;
- a route to a host name is refused when it is added (exit 1), and no
  route is added;
- "log follow" prints no reply line before the log lines, and a SIPDATA
  packet dump arrives as its header line and then the packet's lines,
  indented, while -j keeps it one escaped line."""

import json
import os
import select
import subprocess
import time

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl
from sipterm import Term

FOLLOW_TIMEOUT = 5.0


def one_shot(sipd):
    p = sipctl(sipd, "help", "listener", "add")
    check(p.returncode == 0, "help listener add: %r" % (p,))
    check(p.stdout.startswith("listener add udp|tcp|tls <address>"),
          "usage: %r" % p.stdout)

    p = sipctl(sipd, "help", "set", "t")
    names = [line.split()[1] for line in p.stdout.splitlines()]
    check(p.returncode == 0 and "t1" in names and "timer-b" in names,
          "help set t: %r" % p.stdout)
    check(all(n.startswith("t") for n in names),
          "help set t lists others: %r" % names)

    p = sipctl(sipd, "lsitener", "list")
    check(p.returncode == 2, "typo: exit %d" % p.returncode)
    check("unknown command 'lsitener' at column 1; did you mean "
          "'listener'?" in p.stderr, "typo: %r" % p.stderr)

    p = sipctl(sipd, "listener", "add", "udp", "127.0.0.1:9", "cret", "x")
    check(p.returncode == 2 and "at column 30; did you mean 'cert'?"
          in p.stderr, "keyword typo: %r" % p.stderr)

    # a route to a name is refused when added, not skipped later
    p = sipctl(sipd, "route", "add", "example.net", "sip.example.org")
    check(p.returncode == 1 and "bad target 'sip.example.org' (a route's "
          "target is an IP address: names are not looked up)" in p.stderr,
          "route to a name: %d %r" % (p.returncode, p.stderr))
    p = sipctl(sipd, "-j", "route", "list")
    check(p.returncode == 0 and json.loads(p.stdout)["data"] == [],
          "route added anyway: %r" % p.stdout)

    p = sipctl(sipd, "qzxv")
    check(p.returncode == 2 and "(expected account," in p.stderr and
          "did you mean" not in p.stderr, "no guess: %r" % p.stderr)


def interactive(sipd):
    home = os.path.join(sipd.dir.name, "home")
    os.mkdir(home)
    # libedit's own allocations at exit, as ctl/interactive has them
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "interactive", "lsan.supp")
    env = dict(os.environ, HOME=home, TERM="vt100",
               LSAN_OPTIONS="suppressions=%s" % supp)
    t = Term([sipdtest.sipctl_binary(), "-s", sipd.sock_path], env)
    try:
        check(t.read("sipctl> "), "no prompt: %r" % t.out)
        t.mark()
        t.type("set t?")
        check(t.read("timer-b") and t.read("sipctl> set t"),
              "?: %r" % t.out)
        check(b"t1" in t.out and b"force-rr" not in t.out and
              b"udp-tos" not in t.out, "set t? lists others: %r" % t.out)
        t.type("\x15")   # Ctrl-U: drop the line
        t.mark()
        t.type("help lis\t")
        check(t.read("tener "), "Tab after help: %r" % t.out)
        t.type("\x15quit\n")
        t.proc.wait(timeout=5)
        check(t.proc.returncode == 0, "exit %r" % t.proc.returncode)
    finally:
        t.close()


def follow(sipd, json_out):
    """Start log follow, send one OPTIONS, return what sipctl printed."""
    args = [sipdtest.sipctl_binary(), "-s", sipd.sock_path]
    if json_out:
        args.append("-j")
    proc = subprocess.Popen(args + ["log", "follow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    out = b""
    peer = Peer()
    try:
        # the stream is on once a line about our request shows; send
        # until then (bounded), a fresh Call-ID each time
        deadline = time.monotonic() + FOLLOW_TIMEOUT
        while b"OPTIONS sip:" not in out and time.monotonic() < deadline:
            resp = peer.ask(request("OPTIONS", sipd.port), sipd.port,
                            timeout=0.5)
            check(resp is not None and resp.status == 200,
                  "OPTIONS: %r" % resp)
            r, _, _ = select.select([proc.stdout], [], [], 0.3)
            if r:
                out += os.read(proc.stdout.fileno(), 65536)
        # the rest of the dump
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            r, _, _ = select.select([proc.stdout], [], [], 0.1)
            if r:
                data = os.read(proc.stdout.fileno(), 65536)
                if not data:
                    break
                out += data
    finally:
        peer.close()
        proc.terminate()
        proc.wait(timeout=5)
    return out.decode("utf-8", "replace")


def test(binary, started):
    sipd = Sipd(binary, conf="log level all all")
    started.append(sipd)
    sipd.start()
    one_shot(sipd)
    interactive(sipd)

    text = follow(sipd, False)
    lines = text.splitlines()
    check(lines and "stream" not in lines[0].split(),
          "a reply line before the log: %r" % lines[:2])
    head = [i for i, line in enumerate(lines)
            if "SIPDATA, " in line and "OPTIONS sip:" not in line]
    check(head, "no SIPDATA header line: %r" % text[:2000])
    i = head[0]
    check(lines[i].endswith("bytes)"), "header: %r" % lines[i])
    check(lines[i + 1].startswith("    ") and
          lines[i + 1].split()[0] in ("OPTIONS", "SIP/2.0"),
          "first packet line: %r" % lines[i + 1])
    check(any(line.startswith("    Via: ") for line in lines[i + 1:i + 12]),
          "packet lines: %r" % lines[i:i + 12])
    check("\\x0d\\x0a" not in "\n".join(lines[i:i + 12]),
          "escaped CR LF left: %r" % lines[i:i + 3])

    text = follow(sipd, True)
    records = [json.loads(line) for line in text.splitlines() if line]
    logs = [r["data"]["line"] for r in records
            if r.get("ev") == "log" and "line" in r.get("data", {})]
    check(any("SIPDATA, " in line and "\\x0d\\x0a" in line
              for line in logs), "-j: %r" % records[:3])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
