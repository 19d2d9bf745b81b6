"""A malformed configuration file: sipd -t and a real start both stop
with "sipd: FILE:LINE: message" and exit 1, for syntax, unknown,
ambiguous and not-allowed commands and for bad values."""

import os
import subprocess
import tempfile

import sipdtest
from sipdtest import check

BAD = [
    ("set t1 frog", "bad number 'frog' for ms"),
    ("set t1 5", "ms 5 out of range (10 to 60000)"),
    ("set force-rr maybe", "bad value 'maybe' (expected on or off)"),
    ("sh config", "'show config' is not allowed in the configuration file"),
    ("s", "ambiguous command 's' (set, show, shutdown or status)"),
    ("lan add 10.0.0.0/33", "bad range '10.0.0.0/33'"),
    ("route add example.com bad:host:x", "bad target"),
    ("listener add tls 127.0.0.1:5061", "a tls listener needs cert and key"),
    ("control allow no-such-user-here", "unknown user"),
    ("log output file", "log output file needs a file name"),
    ("log level all \"low-level", "unterminated double quote (column 15)"),
]


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as tmp:
        path = os.path.join(tmp, "sipd.conf")
        for line, want in BAD:
            with open(path, "w") as f:
                f.write("# ok\nset t2 4000\n\n%s\nset t4 5000\n" % line)
            for args in (["-t", "-c", path],
                         ["-f", "-c", path, "-s", path + ".sock"]):
                p = subprocess.run([binary] + args, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True,
                                   timeout=10)
                err = p.stderr.strip()
                check(p.returncode == 1, "%r: exit %d" % (line,
                                                          p.returncode))
                check(err == "sipd: %s:4: %s" % (path, want) or
                      err.startswith("sipd: %s:4: %s" % (path, want)),
                      "%r: %r" % (line, err))
        # abbreviations are fine in the file too
        with open(path, "w") as f:
            f.write("se t1 600\nli ad u 127.0.0.1:5099\nlo le s a\n")
        p = subprocess.run([binary, "-t", "-c", path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(p.returncode == 0, "abbreviated file: %r" % p.stderr)


sipdtest.run(test)
