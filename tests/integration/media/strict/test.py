"""Strict latching ("set media-strict-latch on"): a relay leg sends to
its endpoint only after a packet from the address that endpoint's SDP
gave (any port) latched it, and nothing else latches it.

A call through sipd with "set media-relay always":

- A caller (127.0.0.2) whose offer names a victim's address (127.0.0.4)
  instead of its own: the callee (127.0.0.3) sends RTP to the relay; the
  victim's socket receives none of it (without strict latching the
  relay sends it all to the address the offer named).  The caller's own
  packets, from 127.0.0.2, are not the offer's address: the callee
  receives none of them (without strict latching they latch the leg and
  reach the callee).
- An honest call: the caller names its own address.  What the callee
  sends before the caller has sent anything reaches no socket of the
  caller (the leg has not latched).  Then the caller sends from a
  socket on its own address but on another port than its SDP named:
  the callee receives it, and the callee's packets reach that socket
  (any port latches).  A stranger on 127.0.0.5 sending with a new SSRC
  does not move the latch (with strict latching off it would, by "set
  media-relatch on"): the callee receives none of the stranger's
  packets and the caller keeps receiving."""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

import mediaua  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Sipd, check  # noqa: E402

PACKETS = 20


def udp(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    return s


def send(sock, port, count, ssrc):
    for seq in range(count):
        pkt = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc)
        sock.sendto(pkt + b"\xff" * 160, ("127.0.0.1", port))


def count(sock, duration, want=None):
    """Packets sock receives within duration s (0.2 s more after want)."""
    n = 0
    deadline = time.monotonic() + duration
    for _ in range(mediaua.MAX_PACKETS):
        if want is not None and n >= want:
            deadline = min(deadline, time.monotonic() + 0.2)
            want = None
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            sock.recvfrom(4096)
        except socket.timeout:
            break
        n += 1
    return n


def setup(sipd, caller, callee, offer_host, offer_port):
    """A call whose offer names offer_host:offer_port; returns the relay
    ports (the caller's side, the callee's side) and the call."""
    call = sipua.Call(caller, callee.uri("bob"))
    caller.send(mediaua.invite(call, None, mediaua.sdp(offer_host,
                                                       offer_port)),
                sipd.port)
    inv = callee.expect_request("INVITE", call.call_id)
    _, ports, _ = mediaua.sdp_media(inv.body)
    check(len(ports) == 1, "offer ports %r: %r" % (ports, inv.body))
    mediaua.respond_sdp(callee, inv, 200, callee.offer())
    ok = caller.expect_response(200, call, "INVITE")
    addr, aports, _ = mediaua.sdp_media(ok.body)
    check(addr == "127.0.0.1" and len(aports) == 1,
          "the caller's answer: %r" % ok.body)
    caller.send(call.ack(ok), sipd.port)
    return aports[0], ports[0]


def test(binary, started):
    lo, hi = mediaua.free_range(50)
    sipd = Sipd(binary, conf="set media-relay always\n"
                "set media-ports %d-%d\nset media-strict-latch on" % (lo, hi))
    started.append(sipd)
    sipd.start()
    caller = mediaua.Phone("127.0.0.2")
    callee = mediaua.Phone("127.0.0.3")

    # 1. an offer naming a victim
    victim = udp("127.0.0.4")
    to_a, to_b = setup(sipd, caller, callee, "127.0.0.4",
                       victim.getsockname()[1])
    send(callee.rtp, to_b, PACKETS, 0xb0b)
    got = count(victim, 1.0)
    check(got == 0, "the victim named in the offer received %d of %d "
          "packets" % (got, PACKETS))
    send(caller.rtp, to_a, PACKETS, 0xa1ce)
    got = count(callee.rtp, 1.0)
    check(got == 0, "the callee received %d packets from 127.0.0.2, "
          "not the offer's address" % got)
    victim.close()

    # 2. an honest offer
    to_a, to_b = setup(sipd, caller, callee, "127.0.0.2", caller.rtp_port)
    send(callee.rtp, to_b, PACKETS, 0xb0b)
    got = count(caller.rtp, 1.0)
    check(got == 0, "the caller received %d packets before it latched" %
          got)
    other = udp("127.0.0.2")  # the caller's address, another port
    send(other, to_a, PACKETS, 0xa1ce)
    got = count(callee.rtp, 5.0, want=PACKETS)
    check(got == PACKETS, "the callee received %d of %d from the caller's "
          "address" % (got, PACKETS))
    send(callee.rtp, to_b, PACKETS, 0xb0b)
    got = count(other, 5.0, want=PACKETS)
    check(got == PACKETS, "the caller's latched socket received %d of %d" %
          (got, PACKETS))
    stranger = udp("127.0.0.5")
    send(stranger, to_a, PACKETS, 0x5eed)
    got = count(callee.rtp, 1.0)
    check(got == 0, "the callee received %d packets from a stranger" % got)
    send(callee.rtp, to_b, PACKETS, 0xb0b)
    got = count(other, 5.0, want=PACKETS)
    check(got == PACKETS, "after the stranger, the caller received %d of "
          "%d" % (got, PACKETS))
    got = count(stranger, 0.5)
    check(got == 0, "the stranger received %d packets" % got)
    other.close()
    stranger.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
