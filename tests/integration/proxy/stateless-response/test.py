"""A response no transaction knows (RFC 3261 16.7 / 18.2.2 upstream by
Via) is relayed only when its top Via is sipd's listener with a branch
sipd signed for the Via below it (security/orphan-response relays one);
one whose branch sipd did not make, even in sipd's shape, and one whose
top Via is not sipd's are dropped, and the peer named by the second Via
gets nothing."""

import sipdtest
import sipua
from sipdtest import check, new_tag


def response(status, reason, method, vias):
    hdrs = [("Via", v) for v in vias] + [
        ("From", "<sip:uac@127.0.0.1>;tag=%s" % new_tag()),
        ("To", "<sip:uas@127.0.0.1>;tag=%s" % new_tag()),
        ("Call-ID", "%s@sipua" % new_tag()),
        ("CSeq", "1 %s" % method),
        ("Content-Length", "0")]
    text = "SIP/2.0 %d %s\r\n" % (status, reason)
    return (text + "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n").encode()


def test(binary, started):
    sender, peer = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        below = "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKpeer%s" % (
            peer.port, new_tag())
        for branch in ("z9hG4bKs0.%s%s.00000000" % (new_tag(), new_tag()),
                       "z9hG4bKs0.%s%s.00000000.%s%s%s" % (
                           new_tag(), new_tag(), new_tag(), new_tag(),
                           new_tag()),
                       "z9hG4bKnotsipds%s" % new_tag()):
            top = "SIP/2.0/UDP 127.0.0.1:%d;branch=%s" % (sipd.port, branch)
            sent = response(200, "OK", "INVITE", [top, below])
            sender.send(sent, sipd.port)
            got = peer.recv(0.5)
            check(got is None,
                  "a 200 with sipd's Via but a branch sipd did not sign "
                  "(%s) reached the peer: %r" % (branch, got))
        check(sipd.wait_log("branch not sipd's") and
              sipd.wait_log("branch not signed by sipd"),
              "sipd did not log dropping the unsigned responses")
        # a top Via that is not sipd's: not sipd's to relay
        sender.send(response(180, "Ringing", "INVITE", [below, below]),
                    sipd.port)
        check(sipd.wait_log("top Via not sipd's"),
              "sipd did not log dropping the response")
        stray = peer.collect(0.5)
        check(stray == [], "a response with a foreign top Via was relayed: "
              "%s" % stray)
        check(sender.collect(0.2) == [], "the sender got something back")
    finally:
        sender.close()
        peer.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
