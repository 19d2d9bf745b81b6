"""sipctl scripts: -f FILE and commands on stdin run line by line, in the
configuration file's syntax (comments, quotes), and stop at the first
error with "sipctl: FILE:LINE: message": exit 2 for a syntax error, 1 for
a command sipd refused.  -j prints one JSON object per reply."""

import json
import os

import sipdtest
from sipdtest import Sipd, check, sipctl


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    script = os.path.join(sipd.dir.name, "script")
    with open(script, "w") as f:
        f.write("# a comment\n\nset t1 600   # trailing\n"
                "lan add '10.0.0.0/8'\nshow settings\n")
    p = sipctl(sipd, "-f", script)
    check(p.returncode == 0, "script: %d %r" % (p.returncode, p.stderr))
    check("t1" in p.stdout and "600" in p.stdout, "output: %r" % p.stdout)

    with open(script, "w") as f:
        f.write("set t2 5000\nlan add 10.0.0.0/8\nset t4 6000\n")
    p = sipctl(sipd, "-f", script)
    check(p.returncode == 1, "exists: exit %d" % p.returncode)
    check(p.stderr.strip() == "sipctl: %s:2: range 10.0.0.0/8 already in "
          "the lan (exists)" % script, "message: %r" % p.stderr)

    with open(script, "w") as f:
        f.write("set t2 5000\n\nset t4 \"6000\nset t4 7000\n")
    p = sipctl(sipd, "-f", script)
    check(p.returncode == 2 and p.stderr.startswith(
        "sipctl: %s:3: unterminated double quote" % script),
        "syntax: %d %r" % (p.returncode, p.stderr))

    p = sipctl(sipd, stdin="set t4 6000\nbogus\nset t4 7000\n")
    check(p.returncode == 2 and p.stderr.startswith(
        "sipctl: stdin:2: unknown command 'bogus'"),
        "stdin: %d %r" % (p.returncode, p.stderr))

    p = sipctl(sipd, "-j", stdin="show settings\nversion\n")
    check(p.returncode == 0, "-j stdin: %r" % p.stderr)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    check(len(lines) == 2, "two replies: %r" % p.stdout)
    values = {r["setting"]: r["value"] for r in lines[0]["data"]}
    check(values["t2"] == 5000 and values["t4"] == 6000 and
          values["t1"] == 600, "settings %r" % lines[0])
    check(lines[1]["data"]["proto"] == 1, "version %r" % lines[1])

    p = sipctl(sipd, "help")
    check(p.returncode == 0 and "show transactions server" in p.stdout,
          "help")
    p = sipctl(sipd, "help", "listener add")
    check(p.returncode == 0 and "listener add udp|tcp|tls <address>" in
          p.stdout, "help listener add: %r" % p.stdout)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
