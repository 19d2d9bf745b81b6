"""A call the callee refuses with 486 gives one record with status 486
and hangup "rejected".  A sipp UAC calls a sipp UAS through sipd with
call records on; the UAS answers 486 Busy Here.  Checked: the UAC
received the 486 (through sipd), and the CSV file holds one record
whose fields are those of the INVITE the UAC sent, no answer time,
duration 0.000, status 486, hangup "rejected"; nothing left in "show
calls" or "show dialogs".  sipd without call records refuses "set
cdr": a failure.  sipp missing: a skip (a failure under CI=true)."""

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
        call.run(cdrcall.BUSY)
        t1 = time.time()
        sipdtest.check(call.received(call.uac_trace, "SIP/2.0 486"),
                       "the UAC received no 486")
        recs = call.wait_records(1)
        cdrcall.check_record(call, recs[0], 486, "rejected", False, t0, t1)
        sipdtest.check(call.ctl_json("show", "calls") == [] and
                       call.ctl_json("show", "dialogs") == [],
                       "a call left in the table")
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)
