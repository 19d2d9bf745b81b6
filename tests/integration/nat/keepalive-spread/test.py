"""Keep-alives spread over their interval: eight UDP bindings of alice,
each registered from behind a remote NAT (Via 10.0.0.5, packets from
its own port on 127.0.0.5), with "set nat-keepalive 4".  Each binding
gets its CRLF CRLF once per round, and the round's eight go out over
the interval, a share each second (two, here), not in one burst: the
first eight keep-alives arrive over at least 1.5 s, and no more than
five of them within 0.5 s (a late tick may send two shares at once).
sipd before this change sent all eight in the same instant and fails
the first check."""

import select
import time

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA

CONF = """domain add example.com
account add alice@example.com password a-pw
set nat-keepalive 4
"""
PHONES = 8


class NatUA(UA):
    def via(self, branch):
        return "SIP/2.0/UDP 10.0.0.5:5060;branch=%s;rport" % branch


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF)
    phones = [NatUA("127.0.0.5") for _ in range(PHONES)]
    try:
        for ua in phones:
            c = sipreg.RegClient(ua, sipd.port, "alice", "a-pw")
            r = c.register(["<sip:alice@%s:%d>" % (ua.host, ua.port)],
                           expires=600)
            check(r.status == 200, "REGISTER: %d" % r.status)
        # the first round starts within an interval and lasts one
        arrivals = []
        socks = {ua.sock: ua for ua in phones}
        deadline = time.monotonic() + 10.0
        for _ in range(1000):
            left = deadline - time.monotonic()
            if left <= 0 or len(arrivals) >= PHONES:
                break
            ready, _, _ = select.select(list(socks), [], [], left)
            for s in ready:
                data, _ = s.recvfrom(65536)
                if data == b"\r\n\r\n":
                    arrivals.append((time.monotonic(), socks[s].port))
        check(len(arrivals) == PHONES, "keep-alives in 10 s: %d of %d" % (
            len(arrivals), PHONES))
        check(len({p for _, p in arrivals}) == PHONES,
              "a binding got two in one round: %r" % arrivals)
        times = [t for t, _ in arrivals]
        span = times[-1] - times[0]
        check(span >= 1.5, "the round's keep-alives came within %.2f s: "
              "a burst, not spread over 4 s" % span)
        burst = max(sum(1 for u in times if t <= u < t + 0.5)
                    for t in times)
        check(burst <= 5, "%d keep-alives within 0.5 s" % burst)
    finally:
        for ua in phones:
            ua.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
