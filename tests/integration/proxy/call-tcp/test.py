"""sipp calls through sipd over TCP on both legs (a rule sends the UAS's
address over TCP): each call succeeds, the INVITE, ACK and BYE reach the
UAS with sipd's Via on top, and the 200s come back without it.  Skipped
without sipp."""

import tempfile

import sipdtest
import sipua


def test(binary, started):
    sipua.sipp_binary()
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = sipua.SippCall(binary, started, workdir, "t1", "t1").run()
        for method in ("INVITE", "ACK", "BYE"):
            call.check_via(method)
        call.check_responses()
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)
