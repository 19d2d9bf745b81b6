"""A call records file that cannot be opened is refused with a clear
error and changes nothing.  Checked:
- sipd started with "set cdr on" and "set cdr-file" in a directory that
  does not exist exits with status 1 and says "cannot open the call
  records file PATH (No such file or directory)";
- on a running sipd with records on: "sipctl set cdr-file" to a missing
  directory, and to a directory, fail (exit 1) with that message (No
  such file or directory; Is a directory); "show settings" still has
  the old path, and a call made after them is recorded in the old file;
- with records off, "set cdr-file" to a missing directory fails the
  same way (a path that would fail when records start);
- "set cdr-file relative/path" fails (exit 1): "the path must be
  absolute".
sipd without call records refuses "set cdr": a failure.  sipp missing:
a skip (a failure under CI=true)."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import sipdtest  # noqa: E402
from sipdtest import check, sipctl  # noqa: E402


def setting(sipd, key):
    p = sipctl(sipd, "-j", "show", "settings")
    check(p.returncode == 0, "show settings: %s" % p.stderr)
    data = json.loads(p.stdout)["data"]
    for s in data:
        if s.get("name") == key or s.get("setting") == key:
            return s.get("value")
    raise sipdtest.Fail("no setting %s in %r" % (key, data[:3]))


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        missing = os.path.join(workdir, "no-such-dir", "cdr.csv")

        # at start: refused, sipd exits
        conf = os.path.join(workdir, "bad.conf")
        with open(conf, "w") as f:
            f.write("listener add udp 127.0.0.1:%d\nset cdr on\n"
                    "set cdr-file %s\n" % (sipdtest.free_udp_port(),
                                           missing))
        p = subprocess.run([binary, "-f", "-c", conf, "-s",
                            os.path.join(workdir, "bad.sock")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, text=True, timeout=10)
        want = "cannot open the call records file %s (No such file or " \
               "directory)" % missing
        check(p.returncode == 1 and want in p.stderr,
              "start with a bad cdr-file: exit %d, %r" % (p.returncode,
                                                          p.stderr))

        # live: refused, nothing changed
        call = cdrcall.CdrCall(binary, started, workdir)
        sipd = call.sipd
        old = setting(sipd, "cdr-file")
        check(old == call.csv_path, "cdr-file is %r" % old)
        for path, why in ((missing, "No such file or directory"),
                          (workdir, "Is a directory")):
            r = sipctl(sipd, "set", "cdr-file", path)
            check(r.returncode == 1 and
                  ("cannot open the call records file %s (%s)" % (
                      path, why)) in r.stderr,
                  "set cdr-file %s: exit %d, %r" % (path, r.returncode,
                                                    r.stderr))
            check(setting(sipd, "cdr-file") == old,
                  "cdr-file changed to %r" % setting(sipd, "cdr-file"))
        call.run(cdrcall.CALLER_BYE)
        call.wait_records(1)

        # records off: the same check of the path
        r = sipctl(sipd, "set", "cdr", "off")
        check(r.returncode == 0, "set cdr off: %s" % r.stderr)
        r = sipctl(sipd, "set", "cdr-file", missing)
        check(r.returncode == 1 and want in r.stderr,
              "set cdr-file with records off: exit %d, %r" % (
                  r.returncode, r.stderr))
        check(setting(sipd, "cdr-file") == old, "cdr-file changed")

        r = sipctl(sipd, "set", "cdr-file", "relative/cdr.csv")
        check(r.returncode == 1 and "must be absolute" in r.stderr,
              "a relative path: exit %d, %r" % (r.returncode, r.stderr))
        check(setting(sipd, "cdr-file") == old, "cdr-file changed")
        sipdtest.stop_clean(sipd)


sipdtest.run(test)
