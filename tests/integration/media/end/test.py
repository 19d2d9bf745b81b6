"""Calls through sipd's media relay (set media-relay always) that end
without a BYE leave no port open:

- 486: the callee refuses; the relay made for the offer is freed.
- CANCEL after a 183 with early media: the early media flows through
  the relay (the 183's SDP names sipd), then the caller cancels; the
  callee answers 487 and the relay is freed.
- the callee's BYE (From and To swapped, sent by the Record-Route)
  frees a relay just as the caller's does.
- a call whose endpoints vanish: "set media-timeout 5", no packet, the
  relay is freed by the timeout.
Each time "show media" lists nothing and none of the relay's ports is
bound (/proc/net/udp).  Without the freeing (sipd before the relay was
wired into the proxy, or a hook removed) the relay stays listed and its
ports bound, and wait_no_relays() fails."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check, new_tag  # noqa: E402


def offer(sipd, caller, callee):
    """Caller INVITEs callee; returns (call, the INVITE callee got, the
    relay's ports)."""
    call = sipua.Call(caller, callee.uri("bob"))
    caller.send(mediaua.invite(call, None, caller.offer()), sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    addr, ports, _ = mediaua.sdp_media(inv.body)
    check(addr == "127.0.0.1" and len(ports) == 1,
          "INVITE not relayed: %r" % inv.body)
    rows = mediaua.relays(sipd)
    check(len(rows) == 1, "show media: %r" % rows)
    used = []
    for side in ("a", "b"):
        port = int(rows[0]["%s-local" % side].rsplit(":", 1)[1])
        used += [port, port + 1]
    check(all(mediaua.udp_bound(p) for p in used),
          "relay ports %r not bound" % used)
    return call, inv, used


def test(binary, started):
    lo, hi = mediaua.free_range(500)
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d\n"
                "set processors %d" % (lo, hi, sipua.processors()))
    started.append(sipd)
    sipd.start()
    caller = mediaua.Phone("127.0.0.2")
    callee = mediaua.Phone("127.0.0.3")

    # 486 Busy Here
    call, inv, used = offer(sipd, caller, callee)
    callee.respond(inv, 486)
    resp = caller.expect_response(486, call, "INVITE")
    caller.send(call.ack(resp), sipd.port)
    mediaua.wait_no_relays(sipd, used)

    # 183 with early media, then CANCEL
    call, inv, used = offer(sipd, caller, callee)
    tag = new_tag()
    mediaua.respond_sdp(callee, inv, 183, callee.offer(), to_tag=tag)
    early = caller.expect_response(183, call, "INVITE")
    addr, ports, _ = mediaua.sdp_media(early.body)
    check(addr == "127.0.0.1" and ports and ports[0] in used,
          "183 not relayed: %r" % early.body)
    relay_b = mediaua.sdp_media(inv.body)[1][0]
    callee.send_rtp("127.0.0.1", relay_b, 20)
    got, _ = caller.count_rtp(5, want=20)
    check(got == 20, "early media: caller got %d of 20" % got)
    caller.send(call.cancel(), sipd.port)
    caller.expect_response(200, call, "CANCEL")
    cancel = callee.expect_request("CANCEL", call.call_id)
    callee.respond(cancel, 200)
    callee.respond(inv, 487, to_tag=tag)
    resp = caller.expect_response(487, call, "INVITE")
    caller.send(call.ack(resp), sipd.port)
    mediaua.wait_no_relays(sipd, used)

    # 200, then the callee hangs up
    call, inv, used = offer(sipd, caller, callee)
    tag = new_tag()
    mediaua.respond_sdp(callee, inv, 200, callee.offer(), to_tag=tag)
    ok = caller.expect_response(200, call, "INVITE")
    caller.send(call.ack(ok), sipd.port)
    callee.expect_request("ACK", call.call_id)
    contact = ok.first("Contact")
    caller_contact = inv.first("Contact").strip("<>")
    check(contact, "no Contact in the 200")
    bye = mediaua.callee_request(callee, inv, "BYE", caller_contact, tag)
    callee.send(bye, sipd.port)
    got = caller.expect_request("BYE", call.call_id)
    caller.respond(got, 200)
    mediaua.wait_no_relays(sipd, used)

    # endpoints that vanish: the timeout frees the relay
    p = sipdtest.sipctl(sipd, "set", "media-timeout", "5")
    check(p.returncode == 0, "set media-timeout: %r" % p.stderr)
    call, inv, used = offer(sipd, caller, callee)
    mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, call, "INVITE")
    time.sleep(3)
    check(len(mediaua.relays(sipd)) == 1, "freed before the timeout")
    mediaua.wait_no_relays(sipd, used, timeout=8.0)
    check("no packet for 5 s" in sipd.log(), "no log line for the timeout")

    caller.close()
    callee.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
