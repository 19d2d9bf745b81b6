"""Forked early dialogs through the media relay (set media-relay always).

carol has two registered phones (127.0.0.3, 127.0.0.4); an INVITE to her
rings both.  Each branch gets its own relay: the two INVITEs name
different relay ports, and the two 183s the caller receives (one early
dialog each, RFC 3261 12.1; RFC 3264 answers) name different relay ports
too.  Early media from each phone reaches the caller, from the relay
port of its own 183.  Phone 1 answers 200: sipd cancels phone 2, whose
487 frees its relay, so "show media" lists one relay and phone 2's ports
are closed; the BYE frees the last.  With one relay shared by both
branches the second check fails."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check, new_tag  # noqa: E402


def test(binary, started):
    lo, hi = mediaua.free_range(100)
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d\n"
                "domain add example.com\n"
                "account add carol@example.com password c4rol-pw\n"
                "set processors %d" % (lo, hi, sipua.processors()))
    started.append(sipd)
    sipd.start()
    caller = mediaua.Phone("127.0.0.2")
    phones = [mediaua.Phone("127.0.0.3"), mediaua.Phone("127.0.0.4")]
    for ph in phones:
        ok = sipua.register(ph, sipd.port, "carol", "example.com",
                            "c4rol-pw")
        check(ok.status == 200, "REGISTER: %d" % ok.status)

    call = sipua.Call(caller, "sip:carol@example.com")
    caller.send(mediaua.invite(call, None, caller.offer()), sipd.port)
    invs = [ph.expect_request("INVITE", call.call_id) for ph in phones]
    relay_b = [mediaua.sdp_media(inv.body)[1][0] for inv in invs]
    check(relay_b[0] != relay_b[1] and all(lo <= p <= hi for p in relay_b),
          "the branches' offers name ports %r" % relay_b)
    check(len(mediaua.relays(sipd)) == 2, "not a relay per branch")

    tags = [new_tag(), new_tag()]
    relay_a = {}
    for ph, inv, tag in zip(phones, invs, tags):
        mediaua.respond_sdp(ph, inv, 183, ph.offer(), to_tag=tag)
        early = caller.expect_response(183, call, "INVITE")
        to_tag = sipua.param(early.first("To"), "tag")
        relay_a[to_tag] = mediaua.sdp_media(early.body)[1][0]
    check(set(relay_a) == set(tags) and len(set(relay_a.values())) == 2,
          "the two early dialogs' answers: %r" % relay_a)
    for ph, rb, tag in zip(phones, relay_b, tags):
        ph.send_rtp("127.0.0.1", rb, 10)
        got, srcs = caller.count_rtp(5, want=10)
        check(got == 10 and srcs == {("127.0.0.1", relay_a[tag])},
              "early media of %s: %d of 10 from %r" % (ph.host, got, srcs))

    to = mediaua.respond_sdp(phones[0], invs[0], 200, phones[0].offer(),
                             to_tag=tags[0])
    ok = caller.expect_response(200, call, "INVITE")
    caller.send(call.ack(ok), sipd.port)
    cancel = phones[1].expect_request("CANCEL", call.call_id)
    phones[1].respond(cancel, 200)
    phones[1].respond(invs[1], 487, to_tag=tags[1])
    phones[1].expect_request("ACK", call.call_id)
    gone = [relay_b[1], relay_b[1] + 1, relay_a[tags[1]],
            relay_a[tags[1]] + 1]
    # the freed branch's ports close at the relay thread's next round
    for _ in range(100):
        if (len(mediaua.relays(sipd)) == 1 and
                not any(mediaua.udp_bound(p) for p in gone)):
            break
        time.sleep(0.05)
    check(len(mediaua.relays(sipd)) == 1 and
          not any(mediaua.udp_bound(p) for p in gone),
          "after the 487: %r" % mediaua.relays(sipd))

    caller.send(mediaua.in_dialog(call, "BYE", ok, to), sipd.port)
    phones[0].respond(phones[0].expect_request("BYE", call.call_id), 200)
    caller.expect_response(200, call, "BYE")
    mediaua.wait_no_relays(sipd, [relay_b[0], relay_a[tags[0]]])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
