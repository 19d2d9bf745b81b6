"""The seed's Sample 1 Router records on the wire, with two gateways
standing in for the providers (sipp's own UAS scenario on 127.0.0.2,
two ports): NoRelay:Signal:<1*> = *@Provider1.sipgw and
NoRelay:Signal:<+*> = 011*@IntlProvider.sipgw.

- a client's INVITE for 12125551234@example.com reaches Provider1 as
  sip:2125551234@prov1.test (the 1 is literal and dropped) and is
  answered, ACKed and hung up;
- +442071234567@example.com reaches IntlProvider as
  sip:011442071234567@intl.test;
- neither provider gets the other's call;
- `router test` names the gateway that exists and where it sends.
The old sipd knows no gateways: the configuration does not load."""

import json
import os
import sys
import tempfile

import sipdtest
import sipua
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import check  # noqa: E402


def call(ua, sipd, uri):
    c = sipua.Call(ua, uri)
    ua.send(c.request("INVITE"), sipd.port)
    r = ua.expect("a final response", lambda m: (
        not m.is_request() and m.status >= 200 and
        m.call_id() == c.call_id), 8.0)
    check(r.status == 200, "%s got %d" % (uri, r.status))
    ua.send(c.ack(r), sipd.port)
    contact = r.first("Contact").strip("<>")
    ua.send(c.request("BYE", uri=contact, to=r.first("To")), sipd.port)
    ua.expect_response(200, c, "BYE", 5.0)
    return c


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-sample1-")
    p1 = gwlib.Provider(work.name, "prov1", "sn:uas", 5)
    p2 = gwlib.Provider(work.name, "intl", "sn:uas", 5)
    ua = sipua.UA("127.0.0.1")
    try:
        sipd = sipdtest.Sipd(binary, conf=(
            "domain add example.com\n"
            "account add alice@example.com password alice-pw\n"
            "gateway add Provider1 domain prov1.test via 127.0.0.2:%d\n"
            "gateway add IntlProvider domain intl.test via 127.0.0.2:%d\n"
            "router add NoRelay:Signal:<1*> = *@Provider1.sipgw\n"
            "router add \"NoRelay:Signal:<+*> = 011*@IntlProvider.sipgw\"\n"
            % (p1.port, p2.port)))
        started.append(sipd)
        sipd.start()
        c1 = call(ua, sipd, "sip:12125551234@example.com")
        c2 = call(ua, sipd, "sip:+442071234567@example.com")
        inv1 = [m for m in p1.received("INVITE")]
        inv2 = [m for m in p2.received("INVITE")]
        check([m.uri for m in inv1] == ["sip:2125551234@prov1.test"] and
              inv1[0].call_id() == c1.call_id,
              "Provider1 got %s" % [(m.uri, m.call_id()) for m in inv1])
        check([m.uri for m in inv2] == ["sip:011442071234567@intl.test"]
              and inv2[0].call_id() == c2.call_id,
              "IntlProvider got %s" % [(m.uri, m.call_id())
                                       for m in inv2])
        p = sipdtest.sipctl(sipd, "-j", "router", "test",
                            "12125551234@example.com")
        d = json.loads(p.stdout)["data"]
        check(d["decision"] == "gateway" and
              "no gateway" not in d["target"] and
              "prov1.test" in d["target"], "router test: %s" % d)
        sipdtest.stop_clean(sipd)
    finally:
        p1.stop()
        p2.stop()
        ua.close()


sipdtest.run(test)
