"""The call records file is rotated by size, by "cdr rotate" and on
SIGHUP, and no record is lost or written twice.  With call records on
and "set cdr-rotate-size 300" (a record is longer than that): call 1's
record goes to cdr.csv; at call 2 the file is over the size, so it
becomes cdr.csv.1 and call 2's record starts a new cdr.csv.  "sipctl
cdr rotate" moves cdr.csv to cdr.csv.1 (and .1 to .2) and leaves a
new file with the header alone; SIGHUP does it again (.2 to .3); call 3
goes to the new cdr.csv.  Each file is checked for its header and its
records' Call-IDs (each the INVITE the UAC sent).  With records off,
"cdr rotate" fails (exit 1) naming why.  sipd without call records
refuses "set cdr": a failure.  sipp missing: a skip (a failure under
CI=true)."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import sipdtest  # noqa: E402

import signal  # noqa: E402


def one_call(call):
    call.run(cdrcall.CALLER_BYE)
    return call.sent(call.uac_trace, "INVITE")[0].call_id()


def ids(call, path):
    return [r["call_id"] for r in call.records(path)]


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = cdrcall.CdrCall(binary, started, workdir,
                               conf=["set cdr-rotate-size 300"])
        p = call.csv_path
        c1 = one_call(call)
        call.wait_records(1)
        c2 = one_call(call)
        call.wait_records(1)
        sipdtest.check(ids(call, p + ".1") == [c1] and
                       ids(call, p) == [c2],
                       "after the size: %r %r" % (ids(call, p + ".1"),
                                                  ids(call, p)))
        r = sipdtest.sipctl(call.sipd, "cdr", "rotate")
        sipdtest.check(r.returncode == 0, "cdr rotate: %s" % r.stderr)
        sipdtest.check(ids(call, p) == [] and ids(call, p + ".1") == [c2]
                       and ids(call, p + ".2") == [c1],
                       "after cdr rotate: %r %r %r" % (
                           ids(call, p), ids(call, p + ".1"),
                           ids(call, p + ".2")))
        os.kill(call.sipd.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while not os.path.exists(p + ".3") and time.monotonic() < deadline:
            time.sleep(0.05)
        sipdtest.check(ids(call, p) == [] and ids(call, p + ".1") == [] and
                       ids(call, p + ".2") == [c2] and
                       ids(call, p + ".3") == [c1],
                       "after SIGHUP: %r" % [ids(call, p + s) for s in
                                             ("", ".1", ".2", ".3")])
        c3 = one_call(call)
        call.wait_records(1)
        sipdtest.check(ids(call, p) == [c3], "after SIGHUP, call 3: %r" %
                       ids(call, p))
        r = sipdtest.sipctl(call.sipd, "set", "cdr", "off")
        sipdtest.check(r.returncode == 0, "set cdr off: %s" % r.stderr)
        r = sipdtest.sipctl(call.sipd, "cdr", "rotate")
        sipdtest.check(r.returncode == 1 and "off" in r.stderr,
                       "cdr rotate with records off: %d %r" % (
                           r.returncode, r.stderr))
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)
