"""sipp calls through sipd from TCP to UDP: each call succeeds, the
INVITE reaches the UAS with sipd's UDP Via and two Record-Route entries
(RFC 5658: the UDP one facing the UAS on top, the TCP one facing the UAC
under it), the 200s bring them back, and the ACK and BYE go through
sipd.  Skipped without sipp."""

import tempfile

import sipdtest
import sipua


def test(binary, started):
    sipua.sipp_binary()
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = sipua.SippCall(binary, started, workdir, "t1", "u1").run()
        for method in ("INVITE", "ACK", "BYE"):
            call.check_via(method)
        call.check_record_route()
        call.check_routes_used()
        call.check_responses()
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)
