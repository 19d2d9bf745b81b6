"""A call through sipd's media relay, forced by "set media-relay always":
a caller on 127.0.0.2 calls a callee on 127.0.0.3 through sipd.

- The INVITE the callee receives names sipd's address and a relay port
  (c=, m=, a=rtcp at port + 1), carries no ICE candidate any more, and
  sipd's Record-Route; the 200 the caller receives names sipd and
  another relay port.
- RTP flows both ways through the relay: each phone receives what the
  other sent, from the relay's port it was given (symmetric RTP), and
  "show media" counts it under the call's Call-ID.
- A re-INVITE from the caller with a new RTP port moves the media: the
  callee sees the same relay port, and what the callee sends reaches the
  caller's new socket, not the old one.
- an UPDATE from the callee (RFC 3311) with a new port moves its side:
  the caller sees the relay's caller-side port, the callee's new socket
  receives what the caller sends.
- a re-INVITE putting the call on hold with c=0.0.0.0 reaches the
  callee with 0.0.0.0 (on the relay's port), not sipd's address.
- a re-INVITE that adds a video line gets a relay for it, named in both
  the offer and the answer, and video packets pass.
- BYE (sent by the route set, through sipd) frees the relays: "show media"
  lists nothing and none of its ports is bound any more (/proc/net/udp).
Against a sipd that does not relay calls, the INVITE reaches the callee
with the caller's own address and the first check fails.

With SIPD_TEST_MEDIA_IO=epoll (integration/media/call-epoll) sipd runs
with "set media-io epoll" and says at start that its relay moves packets
by epoll; the same checks hold for that loop, whichever one the build
and the kernel would pick by default."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check  # noqa: E402

PACKETS = 40


def flow(a, a_dst, b, b_dst):
    """a sends PACKETS to a_dst, b to b_dst; each counts what came."""
    a.send_rtp("127.0.0.1", a_dst, PACKETS)
    got_b, src_b = b.count_rtp(5, want=PACKETS)
    b.send_rtp("127.0.0.1", b_dst, PACKETS)
    got_a, src_a = a.count_rtp(5, want=PACKETS)
    return got_a, src_a, got_b, src_b


def test(binary, started):
    lo, hi = mediaua.free_range(500)
    io = os.environ.get("SIPD_TEST_MEDIA_IO", "auto")
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d\n"
                "set media-io %s\n"
                "set processors %d" % (lo, hi, io, sipua.processors()))
    started.append(sipd)
    sipd.start()
    if io == "epoll":
        check(sipd.wait_log("media relay, packets moved by epoll", 5.0),
              "sipd says its relay moves packets by epoll")
    caller = mediaua.Phone("127.0.0.2")
    callee = mediaua.Phone("127.0.0.3")
    call = sipua.Call(caller, callee.uri("bob"))

    caller.send(mediaua.invite(call, None, caller.offer()
                               + "a=ice-ufrag:abcd\r\n"), sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    addr, ports, rtcp = mediaua.sdp_media(inv.body)
    check(addr == "127.0.0.1",
          "the callee's offer names %r, not sipd (127.0.0.1): %r" % (
              addr, inv.body))
    check(len(ports) == 1 and lo <= ports[0] <= hi and
          ports[0] != caller.rtp_port, "offer port %r" % ports)
    check(rtcp == [ports[0] + 1], "a=rtcp %r for port %r" % (rtcp, ports))
    check(b"a=candidate" not in inv.body and b"a=ice-" not in inv.body,
          "ICE attributes passed on: %r" % inv.body)
    check(inv.get("Record-Route"), "no Record-Route on a relayed INVITE")
    relay_b = ports[0]

    to = mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, call, "INVITE")
    addr, ports, _ = mediaua.sdp_media(ok.body)
    check(addr == "127.0.0.1" and len(ports) == 1 and
          lo <= ports[0] <= hi and ports[0] != relay_b,
          "the caller's answer: %r" % ok.body)
    relay_a = ports[0]
    caller.send(call.ack(ok), sipd.port)
    callee.expect_request("ACK", call.call_id)

    got_a, src_a, got_b, src_b = flow(caller, relay_a, callee, relay_b)
    check(got_b == PACKETS and src_b == {("127.0.0.1", relay_b)},
          "callee received %d of %d from %r" % (got_b, PACKETS, src_b))
    check(got_a == PACKETS and src_a == {("127.0.0.1", relay_a)},
          "caller received %d of %d from %r" % (got_a, PACKETS, src_a))
    rows = mediaua.relays(sipd)
    check(len(rows) == 1 and rows[0]["call-id"] == call.call_id and
          rows[0]["line"] == 0 and rows[0]["a-packets"] == PACKETS and
          rows[0]["b-packets"] == PACKETS and rows[0]["a-latched"] and
          rows[0]["b-latched"], "show media: %r" % rows)

    # the caller moves its media: a re-INVITE with a new port
    old = caller.rtp
    caller.rtp = None
    caller.rtcp.close()
    caller.rtp, caller.rtcp = mediaua.rtp_pair("127.0.0.2")
    reinv = mediaua.in_dialog(call, "INVITE", ok, to, caller.offer())
    caller.send(reinv, sipd.port)
    inv2 = callee.expect_request("INVITE", call.call_id)
    _, ports, _ = mediaua.sdp_media(inv2.body)
    check(ports == [relay_b], "re-INVITE offer port %r, relay %d" % (
        ports, relay_b))
    mediaua.respond_sdp(callee, inv2, 200, callee.offer())
    ok2 = caller.expect_response(200, call, "INVITE")
    _, ports, _ = mediaua.sdp_media(ok2.body)
    check(ports == [relay_a], "re-INVITE answer port %r" % ports)
    caller.send(call.ack(ok2), sipd.port)
    callee.send_rtp("127.0.0.1", relay_b, PACKETS)
    got_new, _ = caller.count_rtp(5, want=PACKETS)
    got_old, _ = caller.count_rtp(0.2, sock=old)
    old.close()
    check(got_new == PACKETS and got_old == 0,
          "after the re-INVITE: new socket %d, old %d" % (got_new, got_old))

    # the callee moves its media: an UPDATE (RFC 3311) the other way
    old = callee.rtp
    callee.rtcp.close()
    callee.rtp, callee.rtcp = mediaua.rtp_pair("127.0.0.3")
    tag = sipua.param(to, "tag")
    upd = mediaua.callee_request(callee, inv, "UPDATE",
                                 inv.first("Contact").strip("<>"), tag)
    callee.send(mediaua.with_body(upd, callee.offer()), sipd.port)
    got = caller.expect_request("UPDATE", call.call_id)
    _, ports, _ = mediaua.sdp_media(got.body)
    check(ports == [relay_a], "UPDATE offer port %r, relay %d" % (
        ports, relay_a))
    mediaua.respond_sdp(caller, got, 200, caller.offer())
    ok3 = callee.expect("200 to UPDATE", lambda m: m.status == 200 and
                        m.cseq()[1] == "UPDATE")
    _, ports, _ = mediaua.sdp_media(ok3.body)
    check(ports == [relay_b], "UPDATE answer port %r" % ports)
    caller.send_rtp("127.0.0.1", relay_a, PACKETS)
    got_new, _ = callee.count_rtp(5, want=PACKETS)
    got_old, _ = callee.count_rtp(0.2, sock=old)
    old.close()
    check(got_new == PACKETS and got_old == 0,
          "after the UPDATE: new socket %d, old %d" % (got_new, got_old))

    # the caller puts the call on hold the old way (c=0.0.0.0, RFC 3264
    # 8.4): the callee is told 0.0.0.0, on the relay's port
    held = caller.offer().replace("c=IN IP4 127.0.0.2", "c=IN IP4 0.0.0.0")
    caller.send(mediaua.in_dialog(call, "INVITE", ok, to, held), sipd.port)
    inv_h = callee.expect_request("INVITE", call.call_id)
    addr, ports, _ = mediaua.sdp_media(inv_h.body)
    check(addr == "0.0.0.0" and ports == [relay_b],
          "hold: %r" % inv_h.body)
    mediaua.respond_sdp(callee, inv_h, 200, callee.offer())
    ok_h = caller.expect_response(200, call, "INVITE")
    check(mediaua.sdp_media(ok_h.body)[1] == [relay_a],
          "hold answer: %r" % ok_h.body)
    caller.send(call.ack(ok_h), sipd.port)

    # the caller adds video (RFC 3264 8.2): the new line gets a relay
    va, _ = mediaua.rtp_pair("127.0.0.2")
    vb, _ = mediaua.rtp_pair("127.0.0.3")
    video = "m=video %d RTP/AVP 96\r\n"
    reinv = mediaua.in_dialog(call, "INVITE", ok, to, caller.offer() +
                              video % va.getsockname()[1])
    caller.send(reinv, sipd.port)
    inv3 = callee.expect_request("INVITE", call.call_id)
    _, ports, _ = mediaua.sdp_media(inv3.body)
    check(len(ports) == 2 and ports[0] == relay_b and lo <= ports[1] <= hi
          and ports[1] not in (relay_a, relay_b),
          "re-INVITE adding video: %r" % inv3.body)
    video_b = ports[1]
    mediaua.respond_sdp(callee, inv3, 200, callee.offer() +
                        video % vb.getsockname()[1])
    ok4 = caller.expect_response(200, call, "INVITE")
    _, ports, _ = mediaua.sdp_media(ok4.body)
    check(len(ports) == 2 and ports[0] == relay_a and
          ports[1] not in (relay_a, relay_b, video_b),
          "answer adding video: %r" % ok4.body)
    video_a = ports[1]
    caller.send(call.ack(ok4), sipd.port)
    for _ in range(10):
        va.sendto(b"\x80\x60" + b"\0" * 10 + b"v" * 100,
                  ("127.0.0.1", video_a))
    vb.settimeout(3)
    got = 0
    for _ in range(10):
        try:
            vb.recvfrom(2048)
            got += 1
        except OSError:
            break
    check(got == 10, "video through its relay: %d of 10" % got)
    va.close()
    vb.close()

    rows = mediaua.relays(sipd)
    check(len(rows) == 2, "relays of the call: %r" % rows)
    rows = [r for r in rows if r["line"] == 0]
    ports = [relay_a, relay_a + 1, relay_b, relay_b + 1, video_a,
             video_b]
    check(all(mediaua.udp_bound(p) for p in ports),
          "relay ports not bound during the call")
    caller.send(mediaua.in_dialog(call, "BYE", ok, to), sipd.port)
    bye = callee.expect_request("BYE", call.call_id)
    callee.respond(bye, 200)
    caller.expect_response(200, call, "BYE")
    mediaua.wait_no_relays(sipd, ports)
    check("media, relay %d freed" % rows[0]["id"] in sipd.log(),
          "no log line for the freed relay")

    caller.close()
    callee.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
