"""Offers the relay cannot follow, bodies it must look into, and a port
range that runs out, with "set media-relay always".

Bad SDP: the call goes on unrelayed, its body passed on byte for byte,
with a log line "media, call not relayed ... (bad SDP: ...)"; no relay
is left and sipd keeps serving:
- no c= line anywhere (a media line with no connection address),
- a bogus c= address (999.1.1.1), a bogus m= port ("notaport"),
- 100 media lines (more than the 16 a relay follows),
- a body that is not SDP at all.
Bodies it must look into:
- audio, video, text and T.38 (udptl) lines: each its own relay and
  ports;
- a=rtcp-mux with a=rtcp on the RTP port (RFC 5761): a=rtcp names the
  relay's RTP port;
- a multipart/mixed body: the SDP part is rewritten, the other part
  arrives unchanged.
Exhausted ports (set media-ports to eight free pairs, four relays):
the four-line call takes them all; the next call is refused with
488 and a log line naming the range, the first call's media still
flows, and once it ends a new call is relayed again.
On the landed sipd the first relayed case fails (nothing is relayed);
without the 488 the second call would reach the callee."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check  # noqa: E402

HEAD = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nt=0 0\r\n"


def offer(sipd, caller, callee, body, ctype="application/sdp"):
    call = sipua.Call(caller, callee.uri("bob"))
    caller.send(mediaua.invite(call, None, body, ctype=ctype), sipd.port)
    return call


def refuse(sipd, caller, callee, call):
    inv = callee.expect_request("INVITE", call.call_id)
    callee.respond(inv, 486)
    resp = caller.expect_response(486, call, "INVITE")
    caller.send(call.ack(resp), sipd.port)
    return inv


def test(binary, started):
    lo, hi = mediaua.free_range(8)
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d\n"
                # the 100 media lines go over UDP all the same
                "set size-limit-wan 65535\nset size-limit-lan 65535" % (lo, hi))
    started.append(sipd)
    sipd.start()
    caller = mediaua.Phone("127.0.0.2")
    callee = mediaua.Phone("127.0.0.3")
    p = caller.rtp_port

    bad = {
        "no c=": HEAD + "m=audio %d RTP/AVP 0\r\n" % p,
        "bogus c=": HEAD + "c=IN IP4 999.1.1.1\r\nm=audio %d RTP/AVP 0\r\n"
        % p,
        "bogus m=": HEAD + "c=IN IP4 127.0.0.2\r\n"
        "m=audio notaport RTP/AVP 0\r\n",
        "100 media lines": HEAD + "c=IN IP4 127.0.0.2\r\n" + "".join(
            "m=audio %d RTP/AVP 0\r\n" % (p + 2 * i) for i in range(100)),
        "not SDP": "hello, world\r\n",
    }
    for what, body in bad.items():
        call = offer(sipd, caller, callee, body)
        inv = refuse(sipd, caller, callee, call)
        check(inv.body == body.encode(),
              "%s: the body changed: %r" % (what, inv.body))
        check(not mediaua.relays(sipd), "%s: a relay was made" % what)
        check(sipd.wait_log("call '%s' (bad SDP" % call.call_id),
              "%s: no log line" % what)

    # rtcp-mux
    body = mediaua.sdp("127.0.0.2", p).replace(
        "a=rtcp:%d" % (p + 1), "a=rtcp:%d\r\na=rtcp-mux" % p)
    call = offer(sipd, caller, callee, body)
    inv = refuse(sipd, caller, callee, call)
    _, ports, rtcp = mediaua.sdp_media(inv.body)
    check(len(ports) == 1 and lo <= ports[0] <= hi and
          rtcp == ports, "rtcp-mux: %r" % inv.body)

    # multipart
    other = "Content-Type: text/plain\r\n\r\nkeep me\r\n"
    body = ("--b1\r\nContent-Type: application/sdp\r\n\r\n" +
            mediaua.sdp("127.0.0.2", p) + "\r\n--b1\r\n" + other +
            "--b1--\r\n")
    call = offer(sipd, caller, callee, body,
                 ctype="multipart/mixed;boundary=b1")
    inv = refuse(sipd, caller, callee, call)
    addr, ports, _ = mediaua.sdp_media(inv.body)
    check(addr == "127.0.0.1" and len(ports) == 1 and
          lo <= ports[0] <= hi, "multipart: %r" % inv.body)
    check(inv.body.endswith(("\r\n--b1\r\n" + other + "--b1--\r\n")
                            .encode()), "multipart: %r" % inv.body)
    mediaua.wait_no_relays(sipd, [])

    # audio, video, text and T.38 take every port of the range
    body = mediaua.sdp("127.0.0.2", p) + (
        "m=video %d RTP/AVP 96\r\nm=text %d RTP/AVP 98\r\n"
        "m=image %d udptl t38\r\n" % (p + 2, p + 4, p + 6))
    call = offer(sipd, caller, callee, body)
    inv = callee.expect_request("INVITE", call.call_id)
    addr, ports, _ = mediaua.sdp_media(inv.body)
    check(len(ports) == 4 and len(set(ports)) == 4 and
          all(lo <= x <= hi for x in ports),
          "audio, video, text, T.38: %r" % inv.body)
    to = mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, call, "INVITE")
    caller.send(call.ack(ok), sipd.port)
    relay_b = ports[0]
    relay_a = mediaua.sdp_media(ok.body)[1][0]

    # the range is exhausted: 488 and a log line, the first call intact
    call2 = offer(sipd, caller, callee, mediaua.sdp("127.0.0.2", p))
    resp = caller.expect_response(488, call2, "INVITE")
    caller.send(call2.ack(resp), sipd.port)
    check(sipd.wait_log("media ports %d-%d exhausted" % (lo, hi)),
          "no log line for the exhausted range")
    caller.send_rtp("127.0.0.1", relay_a, 20)
    got, _ = callee.count_rtp(5, want=20)
    check(got == 20, "first call's media after the 488: %d of 20" % got)

    caller.send(mediaua.in_dialog(call, "BYE", ok, to), sipd.port)
    callee.respond(callee.expect_request("BYE", call.call_id), 200)
    caller.expect_response(200, call, "BYE")
    mediaua.wait_no_relays(sipd, [relay_a, relay_b])
    call3 = offer(sipd, caller, callee, mediaua.sdp("127.0.0.2", p))
    inv = refuse(sipd, caller, callee, call3)
    check(mediaua.sdp_media(inv.body)[0] == "127.0.0.1",
          "not relayed once ports were free again: %r" % inv.body)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
