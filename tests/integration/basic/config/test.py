"""The configuration file and the command line: sipd -t accepts a good
file silently and refuses each bad line with "sipd: FILE:LINE: message"
and exit status 1; a bad file stops a real start the same way; usage
errors exit 2; a listener that cannot bind stops the start with 1."""

import os
import socket
import subprocess
import tempfile

import sipdtest
from sipdtest import check

GOOD = """# a comment, then a blank line

listener add udp 127.0.0.1:5060   # trailing comment
listener add udp [::1]:5060
listener add "udp" '127.0.0.2:5061'
log level all problems
log level Transport LOW-LEVEL
log level server none
log level client all
limits message-size 4096
limits headers 64
limits line 1024
"""

# (line, expected text in the message)
BAD = [
    ("listener add sctp 127.0.0.1:5060", "unknown transport 'sctp'"),
    ("listener add udp 127.0.0.1", "bad address '127.0.0.1'"),
    ("listener add udp 127.0.0.1:0", "bad address"),
    ("listener add udp 127.0.0.1:65536", "bad address"),
    ("listener add udp host.example:5060", "bad address"),
    ("listener add udp [::1:5060", "bad address"),
    ("listener add udp ::1:5060", "bad address"),
    ("listener add udp", "missing address"),
    ("listener add udp 127.0.0.1:5060 extra",
     "unexpected argument 'extra'"),
    ("listener remove udp 127.0.0.1:5060", "no listener udp 127.0.0.1:5060"),
    ("listener", "incomplete command 'listener'"),
    ("log level kernel all", "unknown component 'kernel'"),
    ("log level transport loud", "unknown level 'loud'"),
    ("limits message-size 10", "out of range"),
    ("limits message-size 99999999999999999999", "out of range"),
    ("limits headers many", "bad number 'many'"),
    ("limits headers -1", "bad number"),
    ("limits line", "missing bytes"),
    ("bogus command", "unknown command 'bogus'"),
    ("show config", "not allowed in the configuration file"),
    ("l add udp 127.0.0.1:5060", "ambiguous command 'l'"),
    ("log level \"transport all", "unterminated double quote (column 11)"),
    ("log level 'transport all", "unterminated single quote (column 11)"),
    ("log \"\\q\"", "unknown escape in double quotes (column 6)"),
]


def sipd(binary, *args):
    return subprocess.run([binary] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=10)


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as tmp:
        path = os.path.join(tmp, "sipd.conf")
        with open(path, "w") as f:
            f.write(GOOD)
        p = sipd(binary, "-t", "-c", path)
        check(p.returncode == 0, "good file refused: %r" % p.stderr)
        check(p.stdout == b"" and p.stderr == b"", "sipd -t not silent")

        for line, want in BAD:
            with open(path, "w") as f:
                f.write("# comment\nlog level all problems\n%s\n"
                        "log level all all\n" % line)
            p = sipd(binary, "-t", "-c", path)
            err = p.stderr.decode("utf-8", "replace").strip()
            check(p.returncode == 1, "%r: exit %d" % (line, p.returncode))
            check(err.startswith("sipd: %s:3: " % path),
                  "%r: message %r" % (line, err))
            check(want in err, "%r: %r lacks %r" % (line, err, want))
            check(len(err.splitlines()) == 1, "%r: several lines" % line)

        # The same refusal on a real start.
        p = sipd(binary, "-f", "-c", path)
        check(p.returncode == 1 and b"sipd: %s:3: " % path.encode()
              in p.stderr, "start with a bad file: %r" % p.stderr)

        p = sipd(binary, "-t", "-c", os.path.join(tmp, "missing.conf"))
        check(p.returncode == 1 and b"No such file" in p.stderr,
              "missing file: %d %r" % (p.returncode, p.stderr))

        # A listener that cannot be opened stops the start.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            with open(path, "w") as f:
                f.write("listener add udp 127.0.0.1:%d\n" % port)
            p = sipd(binary, "-f", "-c", path)
            check(p.returncode == 1, "busy port: exit %d" % p.returncode)
            check(b"cannot listen on udp 127.0.0.1:%d (Address already in use)"
                  % port in p.stderr, "busy port: %r" % p.stderr)

    p = sipd(binary, "-x")
    check(p.returncode == 2 and b"usage: sipd" in p.stderr, "bad option")
    p = sipd(binary, "-t", "extra")
    check(p.returncode == 2 and b"usage: sipd" in p.stderr, "extra argument")
    p = sipd(binary, "-c")
    check(p.returncode == 2, "-c without a file")
    p = sipd(binary, "-h")
    check(p.returncode == 0 and p.stdout.startswith(b"usage: sipd"), "-h")
    p = sipd(binary, "-V")
    check(p.returncode == 0 and p.stdout.startswith(b"sipd "), "-V")


sipdtest.run(test)
