"""The addresses a relayed call's SDP names, for a server behind a NAT
that forwards its ports: "set lan-address 127.0.0.8" toward the LAN
(127.0.0.2, the caller) and "set wan-address 127.0.0.9" toward the rest
(the callee, 127.0.0.3), under "set media-relay always".  sipd itself
listens on 127.0.0.1 and binds its relays there.

- The offer the callee receives names 127.0.0.9 (c= and a=rtcp) and a
  relay port; the answer the caller receives names 127.0.0.8 and another
  relay port.  "show media" shows both legs bound on 127.0.0.1, the
  local address: the NAT in front of sipd forwards the public addresses
  there.
- Packets sent to the relay's ports on 127.0.0.1 (where the NAT would
  deliver them) flow both ways.
- A re-INVITE from the caller and its answer are rewritten the same way:
  127.0.0.9 toward the callee, 127.0.0.8 toward the caller.
- With both set to none, a new call names 127.0.0.1 again.
Against a sipd that writes its bound address into SDP, the first check
fails (the callee gets c=127.0.0.1)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check, sipctl  # noqa: E402

PACKETS = 20
PUBLIC = ("127.0.0.8", "127.0.0.9")


class Phone(mediaua.Phone):
    """A phone whose responses to sipd's public addresses go to sipd's
    own: what the NAT in front of sipd does."""

    def send_response(self, req, data):
        host, port = sipua.via_sent_by(req.first("Via"))
        self.send(data, port, "127.0.0.1" if host in PUBLIC else host)


def rtcp_addr(body):
    m = re.search(rb"^a=rtcp:\d+ IN IP4 (\S+)", body, re.M)
    return m.group(1).decode() if m else None


def call(sipd, caller, callee):
    """A relayed call: (INVITE the callee got, 200 the caller got, call,
    To of the dialog)."""
    c = sipua.Call(caller, callee.uri("bob"))
    caller.send(mediaua.invite(c, None, caller.offer()), sipd.port)
    inv = callee.expect_request("INVITE", c.call_id)
    to = mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, c, "INVITE")
    caller.send(c.ack(ok), sipd.port)
    callee.expect_request("ACK", c.call_id)
    return inv, ok, c, to


def hang_up(sipd, caller, callee, c, ok, to):
    caller.send(mediaua.in_dialog(c, "BYE", ok, to), sipd.port)
    bye = callee.expect_request("BYE", c.call_id)
    callee.respond(bye, 200)
    caller.expect_response(200, c, "BYE")


def test(binary, started):
    lo, hi = mediaua.free_range(50)
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d\n"
                "lan add 127.0.0.2\n"
                "set lan-address 127.0.0.8\n"
                "set wan-address 127.0.0.9\n" % (lo, hi))
    started.append(sipd)
    sipd.start()
    caller = Phone("127.0.0.2")
    callee = Phone("127.0.0.3")

    inv, ok, c, to = call(sipd, caller, callee)
    addr, ports, _ = mediaua.sdp_media(inv.body)
    check(addr == "127.0.0.9" and rtcp_addr(inv.body) in (None,
                                                          "127.0.0.9"),
          "the callee (WAN) was offered %r, not the WAN address "
          "127.0.0.9: %r" % (addr, inv.body))
    check(len(ports) == 1 and lo <= ports[0] <= hi, "offer %r" % ports)
    relay_b = ports[0]
    addr, ports, _ = mediaua.sdp_media(ok.body)
    check(addr == "127.0.0.8" and rtcp_addr(ok.body) in (None,
                                                         "127.0.0.8"),
          "the caller (LAN) was answered %r, not the LAN address "
          "127.0.0.8: %r" % (addr, ok.body))
    check(len(ports) == 1 and lo <= ports[0] <= hi and
          ports[0] != relay_b, "answer %r" % ports)
    relay_a = ports[0]
    rows = mediaua.relays(sipd)
    check(len(rows) == 1 and
          rows[0]["a-local"] == "127.0.0.1:%d" % relay_a and
          rows[0]["b-local"] == "127.0.0.1:%d" % relay_b,
          "the relay is not bound on sipd's own address: %r" % rows)

    # the NAT in front of sipd delivers to the bound ports
    caller.send_rtp("127.0.0.1", relay_a, PACKETS)
    got_b, src_b = callee.count_rtp(5, want=PACKETS)
    callee.send_rtp("127.0.0.1", relay_b, PACKETS)
    got_a, src_a = caller.count_rtp(5, want=PACKETS)
    check(got_b == PACKETS and src_b == {("127.0.0.1", relay_b)},
          "callee received %d of %d from %r" % (got_b, PACKETS, src_b))
    check(got_a == PACKETS and src_a == {("127.0.0.1", relay_a)},
          "caller received %d of %d from %r" % (got_a, PACKETS, src_a))

    # a re-INVITE: its offer and answer the same way
    caller.send(mediaua.in_dialog(c, "INVITE", ok, to, caller.offer()),
                sipd.port)
    inv2 = callee.expect_request("INVITE", c.call_id)
    check(mediaua.sdp_media(inv2.body)[:2] == ("127.0.0.9", [relay_b]),
          "re-INVITE offer: %r" % inv2.body)
    mediaua.respond_sdp(callee, inv2, 200, callee.offer())
    ok2 = caller.expect_response(200, c, "INVITE")
    check(mediaua.sdp_media(ok2.body)[:2] == ("127.0.0.8", [relay_a]),
          "re-INVITE answer: %r" % ok2.body)
    caller.send(c.ack(ok2), sipd.port)
    hang_up(sipd, caller, callee, c, ok, to)
    mediaua.wait_no_relays(sipd, [relay_a, relay_a + 1, relay_b,
                                  relay_b + 1])

    # none: sipd's own address again
    for k in ("lan-address", "wan-address"):
        p = sipctl(sipd, "set", k, "none")
        check(p.returncode == 0, "set %s none: %r" % (k, p.stderr))
    inv, ok, c, to = call(sipd, caller, callee)
    check(mediaua.sdp_media(inv.body)[0] == "127.0.0.1" and
          mediaua.sdp_media(ok.body)[0] == "127.0.0.1",
          "with no address set: %r / %r" % (inv.body, ok.body))
    hang_up(sipd, caller, callee, c, ok, to)

    caller.close()
    callee.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
