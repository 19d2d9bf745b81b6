#!/usr/bin/python3
"""A phone behind a NAT, in network namespaces (tests/lib/netns.py): the
home network 192.168.77.0/24 behind a masquerading router whose UDP
mappings expire after 2 s of silence, an office LAN 10.20.0.0/24, and
sipd listening on both sides (0.0.0.0:5060).

- alice's phone at home registers through the NAT: show registrations
  marks the binding nat, its source the router's 203.0.113.2.
- With "set nat-keepalive 1" the phone gets CRLF CRLF keep-alives
  through the NAT (at least 2 in 4 s), and a call from the office after
  4 s of no traffic from the phone reaches it (its INVITE comes from
  sipd's WAN address through the router); the office gets its 200, and
  the ACK and the BYE the office sends through sipd to the phone's
  private Contact reach the phone too (through its NAT mapping), and
  the office gets the BYE's 200.
- With "set nat-keepalive 0" the mapping expires: after 4 s the same
  call never reaches the phone and the office gets a final failure
  (408 from Timer B, 2.5 s here).  So the test fails without
  keep-alives, and without far-end NAT (sipd would send to the private
  Contact, which it cannot reach).
- Everything the topology made is gone afterwards.
Needs root, iproute2 and nftables: where it cannot build the namespaces
it is skipped, and under CI=true it fails."""

import json
import os
import subprocess
import sys

import netns
import sipdtest
from sipdtest import Skip, check, sipctl, stop_clean

HERE = os.path.dirname(os.path.abspath(__file__))
UA = os.path.join(HERE, "ua.py")
CONF = """domain add example.com
account add alice@example.com password a-pw
lan add 10.20.0.0/24
set nat-keepalive 1
set timer-b 2500
"""


def ua(net, ns, *args):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return net.spawn(ns, [sys.executable, UA] + [str(a) for a in args],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                     stdin=subprocess.DEVNULL, env=env)


def office_call(net):
    """The final status of a call from the office, and of its BYE (None
    when not answered 200)."""
    p = ua(net, "office", "call", netns.SIPD_LAN, 5060, netns.OFFICE,
           "sip:alice@example.com", 5)
    ev = netns.Events(p)
    e, _ = ev.wait("final", 8)
    bye = ev.wait("bye", 8)[0]["status"] if e["status"] == 200 else None
    p.wait(timeout=5)
    return e["status"], bye


def test(binary, started):
    why = netns.available()
    if why is not None:
        raise Skip("cannot build namespaces: %s" % why)
    net = netns.Topology(udp_timeout=2)
    try:
        try:
            net.build()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            raise Skip("cannot build namespaces: %s" % e)
        sipd = netns.NsSipd(binary, net, CONF)
        started.append(sipd)
        sipd.start()
        phone = ua(net, "home", "phone", netns.SIPD_WAN, 5060, netns.HOME,
                   "alice", "a-pw", 40)
        events = netns.Events(phone)
        e, _ = events.wait("register", 5)
        check(e["status"] == 200, "REGISTER through the NAT: %r" % e)
        p = sipctl(sipd, "-j", "show", "registrations")
        regs = json.loads(p.stdout)["data"]
        check(len(regs) == 1 and regs[0]["nat"] and
              regs[0]["source"].startswith(netns.ROUTER_WAN + ":"),
              "registration: %r" % regs)

        # keep-alives hold the mapping past its 2 s timeout
        got = events.read(4.0)
        kas = [x for x in got if x["ev"] == "keepalive"]
        check(len(kas) >= 2, "keep-alives in 4 s: %r" % got)
        status, bye = office_call(net)
        e, got = events.wait("invite", 3)
        check(e["src"] == netns.SIPD_WAN + ":5060",
              "INVITE came from %r" % e["src"])
        check(status == 200, "office call: final %r" % status)
        check(bye == 200, "office BYE: final %r" % bye)
        got = got + events.read(0.5)
        evs = [x["ev"] for x in got]
        check("ack" in evs and "bye" in evs,
              "the phone's dialog requests: %r" % got)

        # without them the mapping expires and the phone is lost
        ok = sipctl(sipd, "set", "nat-keepalive", "0")
        check(ok.returncode == 0, "set nat-keepalive 0: %r" % ok.stderr)
        events.read(4.0)
        status, _ = office_call(net)
        late = [x for x in events.read(1.0) if x["ev"] == "invite"]
        check(not late, "INVITE reached the phone after its mapping "
              "expired: %r" % late)
        check(status >= 400, "office call after expiry: final %r" % status)
        stop_clean(sipd)
    finally:
        net.close()
    left = net.leftovers()
    check(not left, "left behind: %r" % left)


if __name__ == "__main__":
    sipdtest.run(test)
