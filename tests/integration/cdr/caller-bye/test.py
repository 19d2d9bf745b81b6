"""A call answered and hung up by the caller gives one record.  A sipp
UAC calls a sipp UAS through sipd with "set cdr on" and the CSV file in
the test's directory; the UAS answers, the UAC sends the BYE.  Checked:
the INVITE reached the UAS with sipd's Record-Route (so the BYE comes
through sipd), and the CSV file holds exactly one record whose fields
are those of the INVITE the UAC sent (Call-ID, From, To, Request-URI,
the UAC's address), no user (not authenticated) and no gateway, the
times in order inside the call, the duration the answer-to-end time,
status 200 and hangup "caller-bye".  A second call gives a second
record (the file is appended to).  Without call records (sipd that
does not know "set cdr") sipd refuses to start: a failure.  sipp
missing: a skip (a failure under CI=true)."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import sipdtest  # noqa: E402


def test(binary, started):
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = cdrcall.CdrCall(binary, started, workdir)
        t0 = time.time()
        call.run(cdrcall.CALLER_BYE)
        t1 = time.time()
        cdrcall.check_rr(call)
        byes = call.received(call.uas_trace, "BYE")
        sipdtest.check(len(byes) == 1, "the UAS received %d BYEs" %
                       len(byes))
        recs = call.wait_records(1)
        cdrcall.check_record(call, recs[0], 200, "caller-bye", True, t0, t1)
        sipdtest.check(float(recs[0]["duration"]) >= 0.29,
                       "duration %s under the UAC's pause" %
                       recs[0]["duration"])

        # a second call: appended, its own record
        t0 = time.time()
        call.run(cdrcall.CALLER_BYE)
        t1 = time.time()
        recs = call.wait_records(2)
        cdrcall.check_record(call, recs[1], 200, "caller-bye", True, t0, t1)
        sipdtest.check(recs[0]["call_id"] != recs[1]["call_id"],
                       "two records of one call")
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)
