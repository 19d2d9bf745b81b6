#!/usr/bin/python3
"""A phone behind a NAT calls through sipd's media relay, in network
namespaces (tests/lib/netns.py): alice's phone at home (192.168.77.2,
behind a masquerading router whose public side is 203.0.113.2) and a
phone in the office LAN (10.20.0.2); sipd listens on both sides, its
relay ports from a range of its own.

- alice registers through the NAT; the office calls her.  The offer
  alice's phone receives names sipd's WAN address (203.0.113.1) and a
  relay port; the answer the office receives names sipd's LAN address
  (10.20.0.1) and another relay port.  Neither names a phone's own
  address: the office cannot reach 192.168.77.2, nor the home phone
  10.20.0.2.
- alice's phone sends 40 RTP packets from behind its NAT to the relay,
  which latches onto its NAT's public side: the office receives all 40,
  from the relay's LAN port.  The office sends 40 back: alice's phone
  receives all 40 through its NAT, from the relay's WAN port.
  "show media" counts the call's packets on both legs.
- BYE frees the relay: "show media" lists nothing, and none of the
  relay's ports is bound in sipd's namespace (its /proc/net/udp).
- With "set media-relay never" the same call carries each phone's own
  address to the other, and no RTP packet reaches alice's phone (nor
  the office): so the test fails against a sipd that does not relay.
- Everything the topology made is gone afterwards.
Needs root, iproute2 and nftables: where it cannot build the namespaces
it is skipped, and under CI=true it fails."""

import json
import os
import subprocess
import sys
import time

import netns
import sipdtest
from sipdtest import Skip, check, stop_clean

HERE = os.path.dirname(os.path.abspath(__file__))
UA = os.path.join(HERE, "ua.py")
PACKETS = 40
LO, HI = 40000, 40099
CONF = """domain add example.com
account add alice@example.com password a-pw
lan add 10.20.0.0/24
set media-ports %d-%d
""" % (LO, HI)


def ua(net, ns, *args):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return net.spawn(ns, [sys.executable, UA] + [str(a) for a in args],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                     stdin=subprocess.PIPE, env=env)


def bound(net, ports):
    """Which of ports a UDP socket holds in sipd's namespace."""
    out = net.run("cat", "/proc/net/udp", "/proc/net/udp6", ns="sipd")
    held = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) > 1 and ":" in f[1] and f[0] != "sl":
            held.add(int(f[1].rsplit(":", 1)[1], 16))
    return sorted(held & set(ports))


def media_rows(sipd):
    p = sipdtest.sipctl(sipd, "-j", "show", "media")
    check(p.returncode == 0, "show media: %r" % p.stderr)
    return json.loads(p.stdout)["data"]


def call(net):
    """The office calls alice; both phones' events, as dicts by name."""
    home = ua(net, "home", "phone", netns.SIPD_WAN, 5060, netns.HOME,
              "alice", "a-pw", PACKETS, 20)
    hev = netns.Events(home)
    e, _ = hev.wait("register", 5)
    check(e["status"] == 200, "REGISTER through the NAT: %r" % e)
    office = ua(net, "office", "call", netns.SIPD_LAN, 5060, netns.OFFICE,
                "sip:alice@example.com", PACKETS, 10)
    oev = netns.Events(office)
    got = {}
    got["invite"], _ = hev.wait("invite", 5)
    got["final"], _ = oev.wait("final", 5)
    check(got["final"]["status"] == 200, "office call: %r" % got["final"])
    got["heard"], _ = oev.wait("heard", 10)
    got["sent"], _ = hev.wait("sent", 5)
    return home, hev, office, oev, got


def hang_up(office, oev, hev):
    office.stdin.write(b"bye\n")
    office.stdin.flush()
    bye, _ = oev.wait("bye", 5)
    check(bye["status"] == 200, "office BYE: %r" % bye)
    e, _ = hev.wait("bye", 5)
    return e


def test(binary, started):
    why = netns.available()
    if why is not None:
        raise Skip("cannot build namespaces: %s" % why)
    net = netns.Topology(udp_timeout=30)
    try:
        try:
            net.build()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            raise Skip("cannot build namespaces: %s" % e)
        sipd = netns.NsSipd(binary, net, CONF)
        started.append(sipd)
        sipd.start()

        home, hev, office, oev, got = call(net)
        inv, fin = got["invite"], got["final"]
        check(inv["c"] == netns.SIPD_WAN and len(inv["m"]) == 1 and
              LO <= inv["m"][0] <= HI,
              "the offer alice's phone got: %r (not sipd's relay on "
              "%s)" % (inv, netns.SIPD_WAN))
        check(fin["c"] == netns.SIPD_LAN and len(fin["m"]) == 1 and
              LO <= fin["m"][0] <= HI and fin["m"] != inv["m"],
              "the answer the office got: %r (not sipd's relay on "
              "%s)" % (fin, netns.SIPD_LAN))
        heard = got["heard"]
        check(heard["got"] == PACKETS and heard["srcs"] ==
              ["%s:%d" % (netns.SIPD_LAN, fin["m"][0])],
              "the office heard %r of %d from alice" % (heard, PACKETS))
        rows = media_rows(sipd)
        ports = [fin["m"][0], fin["m"][0] + 1, inv["m"][0],
                 inv["m"][0] + 1]
        check(bound(net, ports) == sorted(ports),
              "relay ports during the call: %r" % bound(net, ports))
        e = hang_up(office, oev, hev)
        check(e["got"] == PACKETS and e["srcs"] ==
              ["%s:%d" % (netns.SIPD_WAN, inv["m"][0])],
              "alice heard %r of %d from the office" % (e, PACKETS))
        check(len(rows) == 1 and rows[0]["a-packets"] == PACKETS and
              rows[0]["b-packets"] >= PACKETS, "show media: %r" % rows)
        home.wait(timeout=5)
        office.wait(timeout=5)
        for _ in range(40):
            if not media_rows(sipd) and not bound(net, ports):
                break
            time.sleep(0.05)
        check(not media_rows(sipd), "relays after BYE: %r" %
              media_rows(sipd))
        check(not bound(net, ports), "ports bound after BYE: %r" %
              bound(net, ports))

        # no relay: each phone is told the other's own address
        p = sipdtest.sipctl(sipd, "set", "media-relay", "never")
        check(p.returncode == 0, "set media-relay never: %r" % p.stderr)
        home, hev, office, oev, got = call(net)
        check(got["invite"]["c"] == netns.OFFICE and
              got["final"]["c"] == netns.HOME,
              "without a relay: %r" % got)
        check(got["heard"]["got"] == 0, "the office heard alice without "
              "a relay: %r" % got["heard"])
        e = hang_up(office, oev, hev)
        check(e["got"] == 0, "alice heard the office without a relay: "
              "%r" % e)
        home.wait(timeout=5)
        office.wait(timeout=5)
        stop_clean(sipd)
    finally:
        net.close()
    left = net.leftovers()
    check(not left, "left behind: %r" % left)


if __name__ == "__main__":
    sipdtest.run(test)
