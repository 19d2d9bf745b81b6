"""The configuration round trip: settings changed through sipctl are
listed by "show config"; the file sipd saved is that listing exactly,
below its two comment lines (an account's digests included), and passes
"sipd -t"; a new sipd started on that listing shows the same
configuration; SIGHUP reads an edited file and applies the difference."""

import json
import os
import signal
import subprocess
import time

import sipdtest
from sipdtest import Sipd, check, free_udp_port, sipctl

CHANGES = [
    ["set", "t1", "600"], ["set", "timer-b", "40000"],
    ["set", "max-server", "5000"], ["set", "udp-tos", "46"],
    ["set", "size-limit-lan", "9000"], ["set", "force-rr", "on"],
    ["set", "idle-timeout", "300"], ["set", "input-channels", "99"],
    ["limits", "headers", "100"], ["log", "level", "server", "low-level"],
    ["lan", "add", "192.168.0.0/16"], ["lan", "add", "fd00::/8"],
    ["route", "add", "example.com", "192.0.2.10:5070", "transport", "tcp"],
    ["route", "add", "*", "192.0.2.20"],
    ["control", "allow", "65534"], ["control", "max-frame", "65536"],
    ["domain", "add", "example.org"],
    ["account", "add", "carol@example.org", "password", "carol-pw"],
]


def config(sipd):
    p = sipctl(sipd, "show", "config")
    check(p.returncode == 0, "show config: %r" % p.stderr)
    return p.stdout


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    for args in CHANGES:
        p = sipctl(sipd, *args)
        check(p.returncode == 0, "%r: %r" % (args, p.stderr))
    p = sipctl(sipd, "listener", "add", "udp",
               "127.0.0.1:%d" % free_udp_port())
    check(p.returncode == 0, "listener add: %r" % p.stderr)
    first = config(sipd)
    for line in ("set t1 600", "route add example.com 192.0.2.10:5070 "
                 "transport tcp", "lan add fd00::/8", "set force-rr on",
                 "log level server low-level", "control allow 65534"):
        check(line in first, "show config lacks %r:\n%s" % (line, first))

    with open(sipd.conf_path) as f:
        saved = f.read()
    # the file keeps its own comments and order (sipd.conf(5), Saving):
    # its commands are show config's, no more and no fewer
    lines = [l for l in saved.splitlines() if l and not l.startswith("#")]
    check(sorted(lines) == sorted(first.splitlines()),
          "the saved file's commands differ from show config:\n"
          "%s\n---\n%s" % (saved, first))
    check(saved.startswith("# written by sipdtest.py\n"),
          "the file's comment was lost:\n%s" % saved)
    check("account add carol@example.org ha1-md5 " in first and
          "hidden" not in first, "root's listing lacks the digests:\n%s" %
          first)
    p = subprocess.run([binary, "-t", "-c", sipd.conf_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(p.returncode == 0, "saved file refused: %r" % p.stderr)
    sipdtest.stop_clean(sipd)

    # a new sipd on the listing: the same configuration
    second = Sipd(binary)
    started.append(second)
    first = second.start_from(first)
    check(config(second) == first, "round trip differs:\n%s\n---\n%s" %
          (first, config(second)))

    # SIGHUP: an edited file is read again, the difference applied
    with open(second.conf_path, "a") as f:
        f.write("set t2 4500\nlan remove 192.168.0.0/16\n")
    os.kill(second.proc.pid, signal.SIGHUP)
    check(second.wait_log("configuration reloaded", 5), "no reload")
    p = sipctl(second, "-j", "show", "settings")
    rows = json.loads(p.stdout)["data"]
    check({r["setting"]: r["value"] for r in rows}["t2"] == 4500,
          "t2 not reloaded")
    p = sipctl(second, "lan", "list")
    check("192.168.0.0/16" not in p.stdout and "fd00::/8" in p.stdout,
          "lan after reload: %r" % p.stdout)
    # a broken file: sipd keeps its configuration and says why
    with open(second.conf_path, "a") as f:
        f.write("set t2 frog\n")
    os.kill(second.proc.pid, signal.SIGHUP)
    check(second.wait_log("reload failed", 5), "no reload failure line")
    check(second.alive(), "sipd died on a bad reload")
    sipdtest.stop_clean(second)


sipdtest.run(test)
