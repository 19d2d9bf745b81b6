"""The registration backoff follows "set gateway-backoff" (the first
wait) and "set gateway-backoff-max" (its cap).  A registrar stand-in (a
Python UA on 127.0.0.2) answers every REGISTER with 503 and no
Retry-After.  With gateway-backoff 1 and gateway-backoff-max 2, the
REGISTERs of gateway P come 0.75 to 1 s apart first (1 s less up to a
quarter of jitter), then 1.5 to 2 s (doubled), then no more than 2 s
(the cap).  "set gateway-backoff 3" applies at once: the next waits are
2.25 to 3 s (a cap below the first wait counts as the first wait), and
"show settings" gives both values.  Out of range (0 and 3601 for the first,
0 and 86401 for the cap): refused, the settings kept.  The old sipd waits 5 s, doubling up to 15
minutes, and knows neither setting: a failure."""

import json
import time

import sipdtest
import sipua
from sipdtest import check

SLACK = 0.35  # a loaded machine's late timer


def registers(ua, n, timeout):
    """The arrival times of the next n REGISTERs (each answered 503)."""
    times = []
    deadline = time.monotonic() + timeout
    for _ in range(200):
        left = deadline - time.monotonic()
        if len(times) >= n or left <= 0:
            break
        m = ua.recv(left)
        if m is None:
            break
        if m.is_request() and m.method == "REGISTER":
            times.append(time.monotonic())
            ua.respond(m, 503)
    check(len(times) >= n, "%d REGISTERs, not %d, in %.0f s" % (
        len(times), n, timeout))
    return times


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def test(binary, started):
    reg = sipua.UA("127.0.0.2")
    try:
        sipd = sipdtest.Sipd(binary, clients=False, conf=(
            "domain add example.com\n"
            "account add P@example.com password x\n"
            "set gateway-backoff 1\n"
            "set gateway-backoff-max 2\n"
            "gateway add P domain provider.test via 127.0.0.2:%d "
            "username u password p register-every 60\n" % reg.port))
        started.append(sipd)
        sipd.start()

        g = gaps(registers(reg, 5, 12))
        check(0.75 - SLACK <= g[0] <= 1.0 + SLACK, "first wait %.2f s, "
              "not 0.75-1 (gaps %s)" % (g[0], g))
        check(1.5 - SLACK <= g[1] <= 2.0 + SLACK, "second wait %.2f s, "
              "not 1.5-2 (gaps %s)" % (g[1], g))
        for x in g[2:]:
            check(1.5 - SLACK <= x <= 2.0 + SLACK, "a wait past the cap: "
                  "%.2f s, not 1.5-2 (gaps %s)" % (x, g))

        p = sipdtest.sipctl(sipd, "set", "gateway-backoff", "3")
        check(p.returncode == 0, "set gateway-backoff 3: %s" % p.stderr)
        p = sipdtest.sipctl(sipd, "-j", "show", "settings")
        check(p.returncode == 0, "show settings: %s" % p.stderr)
        out = {r["setting"]: r["value"]
               for r in json.loads(p.stdout)["data"]}
        want = {"gateway-backoff": 3, "gateway-backoff-max": 2}
        got = {k: out.get(k) for k in want}
        check(got == want or {k: str(v) for k, v in got.items()} ==
              {k: str(v) for k, v in want.items()},
              "show settings: %r" % got)
        for bad in (("gateway-backoff", "0"), ("gateway-backoff", "3601"),
                    ("gateway-backoff-max", "0"),
                    ("gateway-backoff-max", "86401")):
            p = sipdtest.sipctl(sipd, "set", *bad)
            check(p.returncode != 0, "set %s %s was taken" % bad)
        out = {r["setting"]: r["value"] for r in json.loads(
            sipdtest.sipctl(sipd, "-j", "show", "settings").stdout)["data"]}
        check(str(out.get("gateway-backoff")) == "3" and
              str(out.get("gateway-backoff-max")) == "2",
              "a refused value changed the settings: %r" % out)
        # the wait in progress may be the old one: count from the next
        g = gaps(registers(reg, 4, 14))
        for x in g[1:]:
            check(2.25 - SLACK <= x <= 3.0 + SLACK, "a wait of %.2f s "
                  "after gateway-backoff 3, not 2.25-3 (gaps %s)" % (x, g))
        sipdtest.stop_clean(sipd)
    finally:
        reg.close()


sipdtest.run(test)
