"""CANCEL of a ringing call (RFC 3261 9, 16.10): the UAS rings (180), the
UAC cancels; sipd answers the CANCEL with 200 itself and sends its own
CANCEL to the UAS, in the branch of the INVITE it forwarded; the UAS
answers it 200 and the INVITE 487; sipd's client transaction ACKs the 487
(17.1.1.3: same branch, the 487's To tag), the 487 goes on to the UAC,
whose ACK sipd's server transaction absorbs.  The UAS's 200 to the CANCEL
stays with sipd (hop by hop)."""

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("INVITE"), sipd.port)
        uac.expect_response(100, call)
        inv = uas.expect_request("INVITE", call.call_id)
        uas.respond(inv, 180, to_tag="uas1")
        uac.expect_response(180, call)

        uac.send(call.cancel(), sipd.port)
        ok = uac.expect_response(200, call, "CANCEL")
        check(sipua.branches(ok) == [call.branch],
              "200 to CANCEL came with Vias %s" % ok.get("Via"))
        cancel = uas.expect_request("CANCEL", call.call_id)
        check(sipua.branches(cancel) == [inv.branch()],
              "sipd's CANCEL has Vias %s, not the one Via of its INVITE "
              "(branch %s)" % (cancel.get("Via"), inv.branch()))
        check(cancel.uri == inv.uri,
              "CANCEL for %s, the INVITE was for %s" % (cancel.uri, inv.uri))
        check(cancel.cseq() == (inv.cseq()[0], "CANCEL"),
              "CANCEL with CSeq %s" % cancel.first("CSeq"))
        check(cancel.first("To") == inv.first("To"),
              "CANCEL with To %s, the INVITE had %s" % (
                  cancel.first("To"), inv.first("To")))
        uas.respond(cancel, 200)
        uas.respond(inv, 487, to_tag="uas1")

        ack = uas.expect_request("ACK", call.call_id)
        check(sipua.branches(ack) == [inv.branch()],
              "sipd's ACK of the 487 has Vias %s, not its INVITE's one "
              "(branch %s)" % (ack.get("Via"), inv.branch()))
        check(ack.cseq() == (inv.cseq()[0], "ACK"),
              "ACK with CSeq %s" % ack.first("CSeq"))
        check(sipua.param(ack.first("To"), "tag") == "uas1",
              "ACK with To %s, not the 487's tag" % ack.first("To"))
        check(ack.uri == inv.uri, "ACK for %s, the INVITE was for %s" % (
            ack.uri, inv.uri))

        term = uac.expect_response(487, call, "INVITE")
        check(sipua.branches(term) == [call.branch],
              "487 came with Vias %s" % term.get("Via"))
        uac.send(call.ack(term), sipd.port)
        # Timer E would resend the CANCEL after T1
        late = uas.collect(sipua.silence())
        check([m for m in late if m.method == "ACK"] == [],
              "the UAC's ACK of the 487 reached the UAS: %s" % late)
        check([m for m in late if m.method == "CANCEL"] == [],
              "sipd resent its CANCEL after the 200: %s" % late)
        uac.collect(0.2)
        oks = [m for m in uac.seen if not m.is_request() and
               m.cseq()[1] == "CANCEL"]
        check(len(oks) == 1, "the UAC got %d responses to CANCEL: %s" % (
            len(oks), oks))
        again = [m for m in uac.seen if not m.is_request() and
                 m.status == 487]
        check(len(again) == 1, "the 487 came %d times: the ACK was not "
              "absorbed" % len(again))
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
