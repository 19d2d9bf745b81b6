"""show transactions server|client and show stats: the replies' shape
(a list of records with the documented fields; counters summed over the
workers), the abbreviation "sh tr s", and that the counters move when
sipd handles a request.  A ringing call listed with its state is left to
the transaction tests of the proxy."""

import json

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl

FIELDS = {"id", "method", "state", "peer", "transport", "call-id",
          "age-ms", "retransmissions", "status"}


def test(binary, started):
    sipd = Sipd(binary, conf="set processors 2")
    started.append(sipd)
    sipd.start()
    for kind in ("server", "client"):
        p = sipctl(sipd, "-j", "show", "transactions", kind)
        check(p.returncode == 0, "%s: %r" % (kind, p.stderr))
        data = json.loads(p.stdout)["data"]
        check(isinstance(data, list), "%s: not a list: %r" % (kind, data))
        for row in data:
            check(set(row) == FIELDS, "fields %r" % sorted(row))
    p = sipctl(sipd, "sh", "tr", "s")
    check(p.returncode == 0, "sh tr s: %d %r" % (p.returncode, p.stderr))
    check(p.stdout.startswith("(none)") or p.stdout.startswith("id"),
          "sh tr s output %r" % p.stdout)

    peer = Peer()
    try:
        for _ in range(3):
            peer.ask(request("OPTIONS", sipd.port), sipd.port)
    finally:
        peer.close()
    p = sipctl(sipd, "-j", "show", "stats")
    check(p.returncode == 0, "stats: %r" % p.stderr)
    stats = json.loads(p.stdout)["data"]
    check(stats["workers"] == 2, "workers %r" % stats["workers"])
    check(stats["requests-in"].get("OPTIONS", 0) >= 3,
          "OPTIONS not counted: %r" % stats["requests-in"])
    for key in ("responses-out", "server-transactions", "connections-in",
                "retransmissions"):
        check(key in stats, "stats lack %s" % key)
    p = sipctl(sipd, "show", "stats")
    check("requests-in.OPTIONS" in p.stdout, "people's stats %r" % p.stdout)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
