"""The server transaction limit does not cap the request rate: with set
max-server 2, eight OPTIONS in a row, each answered 200 by the UAS, all
come back 200.  Each leaves its server transaction waiting out Timer J
(64*T1, 32 s) only to absorb retransmissions; at the limit the one
waiting longest gives way instead of the next request being refused 503.
The stats count what gave way (reclaimed) and nothing refused.  With two
workers the Call-IDs fall on both shards: a worker whose own table has
nothing waiting is not refused for the other's waiting ones."""

import json

import sipdtest
import sipua
from sipdtest import check


def test(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started,
                                 conf=lambda s: "set max-server 2\n")
        for i in range(8):
            call = sipua.Call(uac, uas.uri("uas"), "waiting-%d@sipua" % i)
            uac.send(call.request("OPTIONS"), sipd.port)
            req = uas.expect_request("OPTIONS", call.call_id)
            uas.respond(req, 200, to_tag="uas%d" % i)
            resp = uac.expect(
                "the final response to OPTIONS %d" % i,
                lambda m: m.status is not None and m.status >= 200 and
                m.call_id() == call.call_id)
            check(resp.status == 200,
                  "OPTIONS %d of 8 with set max-server 2 (%d workers): "
                  "%d %s" % (i + 1, sipua.processors(), resp.status,
                             resp.start))
    finally:
        uac.close()
        uas.close()
    p = sipdtest.sipctl(sipd, "-j", "show", "stats")
    check(p.returncode == 0, "stats: %r" % p.stderr)
    stats = json.loads(p.stdout)["data"]
    check(stats["refused"] == 0, "refused %r" % stats["refused"])
    # eight transactions, at most two live at the end, the rest gave way
    # (with two workers, each keeps up to two of its own)
    live = stats["server-transactions"]
    check(stats["reclaimed"] == 8 - live and live <= 2 * sipua.processors(),
          "reclaimed %r with %r server transactions live" %
          (stats["reclaimed"], live))
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
