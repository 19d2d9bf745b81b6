#!/usr/bin/python3
"""Far-end NAT registrations (RFC 3581, RFC 5626 5.3): a client whose
own address (its Via sent-by) is in the nated list while its packets
come from elsewhere is behind a NAT; its bindings are reached where its
packets came from, whatever its Contact says, and sipd stays on its
dialogs' path (Record-Route) with force-rr off.

On the loopback: alice's phone sends from 127.0.0.5 but writes Via
10.0.0.5:5060 (a private address, in the default nated list) and a
Contact of 127.0.0.5 with another port, as a phone that learnt its
public address by STUN but not its NAT's port mapping.  bob's phone on
127.0.0.6 writes its own address.
- show registrations: alice's binding "nat": true, bob's false; after a
  restart (the store keeps it) the same.
- an INVITE to alice reaches the socket she registered from, not her
  Contact's port (which gets nothing), and carries sipd's Record-Route;
- an INVITE from alice to bob carries sipd's Record-Route;
- bob, not behind a NAT, is reached at his Contact with no Record-Route.
sipd before this change sent alice's INVITE to her Contact's port, and
added no Record-Route."""

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA, Call

CONF = """domain add example.com
account add alice@example.com password a-pw
account add bob@example.com password b-pw
"""


class NatUA(UA):
    """A phone behind a NAT: its Via names its private address."""

    def via(self, branch):
        return "SIP/2.0/UDP 10.0.0.5:5060;branch=%s;rport" % branch


def register(sipd, ua, user, password, contact):
    c = sipreg.RegClient(ua, sipd.port, user, password)
    r = c.register(["<%s>" % contact], expires=600)
    check(r.status == 200, "%s: REGISTER got %s" % (user, r.start))


def nat_of(sipd):
    return {r["aor"]: r["nat"] for r in sipreg.registrations(sipd)}


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF)
    alice = NatUA("127.0.0.5")
    decoy = UA("127.0.0.5")  # alice's Contact port: not her socket
    bob = UA("127.0.0.6")
    caller = UA("127.0.0.7")
    try:
        register(sipd, alice, "alice", "a-pw",
                 "sip:alice@127.0.0.5:%d" % decoy.port)
        register(sipd, bob, "bob", "b-pw", bob.uri("bob"))
        got = nat_of(sipd)
        check(got == {"alice@example.com": True, "bob@example.com": False},
              "nat marks: %r" % got)

        call = Call(caller, "sip:alice@example.com")
        caller.send(call.request("INVITE"), sipd.port)
        inv = alice.expect_request("INVITE", call.call_id, timeout=3.0)
        check(inv.first("Record-Route") is not None,
              "no Record-Route toward the NATed phone: %r" % inv.start)
        stray = [m for m in decoy.collect(0.5) if m.is_request()]
        check(not stray, "the Contact's port got %r" % stray)
        alice.respond(inv, 486)
        caller.expect_response(486, call)
        caller.send(call.ack(caller.seen[-1]), sipd.port)

        call = Call(alice, "sip:bob@example.com")
        alice.send(call.request("INVITE"), sipd.port)
        inv = bob.expect_request("INVITE", call.call_id, timeout=3.0)
        check(inv.first("Record-Route") is not None,
              "no Record-Route from the NATed phone: %r" % inv.start)
        bob.respond(inv, 486)
        alice.expect_response(486, call)
        alice.send(call.ack(alice.seen[-1]), sipd.port)

        call = Call(caller, "sip:bob@example.com")
        caller.send(call.request("INVITE"), sipd.port)
        inv = bob.expect_request("INVITE", call.call_id, timeout=3.0)
        check(inv.first("Record-Route") is None,
              "Record-Route between phones not behind NAT: %r" %
              inv.first("Record-Route"))
        bob.respond(inv, 486)
        caller.expect_response(486, call)
        caller.send(call.ack(caller.seen[-1]), sipd.port)

        sipdtest.stop_clean(sipd)
        sipd.start()
        got = nat_of(sipd)
        check(got == {"alice@example.com": True, "bob@example.com": False},
              "nat marks after a restart: %r" % got)
        sipdtest.stop_clean(sipd)
    finally:
        for ua in (alice, decoy, bob, caller):
            ua.close()


if __name__ == "__main__":
    sipdtest.run(test)
