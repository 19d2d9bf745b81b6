"""What one read batch sends leaves whole and in order (sipd queues the
sends of a batch and writes them with sendmmsg() every 8 datagrams and at
the batch's end).  The UAC sends 48 requests back to back, more than one
batch of 32: OPTIONS for the UAS, which sipd relays, alternating with
OPTIONS for sipd itself, which it answers 200 (RFC 3261 11.2), so one
batch's sends go to two destinations in turn.  The UAS must receive each
relayed request once, in the order sent, and the UAC each of sipd's 200s
once; then the UAS answers its 24 back to back and the UAC must receive
each 200, in order.  A send lost from the queue (it comes late, by Timer
E, if at all) or reordered fails the case.  With two workers a request
may be handed to the other, so there only the sets are compared."""

import time

import sipdtest
import sipua
from sipdtest import check

N = 48


def collect(ua, n, what):
    """The first n messages of distinct Call-IDs (bounded: 3 s); a
    retransmission (Timer E, when the machine is slow) is passed over."""
    got, seen = [], set()
    deadline = time.monotonic() + 3.0
    while len(got) < n and time.monotonic() < deadline:
        m = ua.recv(max(0.01, deadline - time.monotonic()))
        if m is None:
            break
        if m.call_id() not in seen:
            seen.add(m.call_id())
            got.append(m)
    check(len(got) == n, "%s: received %d of %d: %s" % (
        what, len(got), n, [g.start for g in got]))
    return got


def same(got, sent):
    """In the order sent with one worker; with two, a request may wait
    in the other worker's inbox (a hand-off by Call-ID), so only the
    set is the same."""
    if sipua.processors() == 1:
        return got == sent
    return sorted(got) == sorted(sent)


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        relayed, local = [], []
        burst = []
        for i in range(N):
            if i % 2 == 0:
                call = sipua.Call(uac, uas.uri("uas"))
                relayed.append(call)
                burst.append(call.request("OPTIONS"))
            else:
                call = sipua.Call(uac, "sip:127.0.0.1:%d" % sipd.port)
                local.append(call)
                burst.append(call.request(
                    "OPTIONS", uri="sip:127.0.0.1:%d" % sipd.port))
        for data in burst:
            uac.send(data, sipd.port)

        reqs = collect(uas, len(relayed), "the UAS, the relayed OPTIONS")
        check(same([r.call_id() for r in reqs],
                   [c.call_id for c in relayed]),
              "relayed OPTIONS arrived as %s, sent as %s" % (
                  [r.call_id() for r in reqs],
                  [c.call_id for c in relayed]))
        answers = collect(uac, len(local), "the UAC, sipd's own 200s")
        check(sorted(a.call_id() for a in answers) ==
              sorted(c.call_id for c in local) and
              all(a.status == 200 for a in answers),
              "sipd answered %s, asked by %s" % (
                  [(a.status, a.call_id()) for a in answers],
                  [c.call_id for c in local]))

        for r in reqs:
            uas.respond(r, 200, to_tag="uas")
        oks = collect(uac, len(relayed), "the UAC, the relayed 200s")
        check(all(o.status == 200 for o in oks) and
              same([o.call_id() for o in oks],
                   [c.call_id for c in relayed]),
              "relayed 200s arrived as %s, sent as %s" % (
                  [(o.status, o.call_id()) for o in oks],
                  [c.call_id for c in relayed]))
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
