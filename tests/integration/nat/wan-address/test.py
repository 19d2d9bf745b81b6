#!/usr/bin/python3
"""The addresses sipd gives for itself: "set wan-address" and "set
lan-address" (a server behind a NAT that forwards its ports).

sipd listens on 127.0.0.1; the LAN is 127.0.0.2 and 127.0.0.4.  With
force-rr on, an OPTIONS from a client is relayed to a peer:
- outside the LAN (127.0.0.3): sipd's Via and Record-Route name the WAN
  address (127.0.0.77) with sipd's port;
- inside the LAN (127.0.0.2): the LAN address (127.0.0.66), and two
  Record-Route entries (RFC 5658): 127.0.0.66 on top, facing the LAN
  peer, then 127.0.0.77 facing the caller outside it;
- with both set to none: sipd's own address (127.0.0.1).
A request addressed to the WAN address is sipd's own: an OPTIONS to
sip:127.0.0.77:PORT is answered 200 by sipd, not sent on to 127.0.0.77.
A bad address (a name, a wildcard, a port) is refused by sipctl with
status 1 and changes nothing."""

import json

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl, stop_clean


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%s: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def raw(peer, timeout):
    peer.sock.settimeout(timeout)
    try:
        return peer.sock.recvfrom(65536)[0].decode("utf-8", "replace")
    except OSError:
        return None


def headers(text, name):
    out = []
    for line in text.split("\r\n"):
        n, _, v = line.partition(":")
        if n.strip().lower() == name.lower():
            out += [x.strip() for x in v.split(",")]
    return out


def header(text, name):
    v = headers(text, name)
    return v[0] if v else None


def relayed(sipd, to):
    """What a peer at host `to` receives of an OPTIONS relayed by sipd."""
    dst = Peer(to)
    src = Peer("127.0.0.1")
    try:
        req = request("OPTIONS", sipd.port,
                      uri="sip:bob@%s:%d" % (to, dst.port),
                      via_port=src.port)
        src.send(req, sipd.port)
        got = raw(dst, 2.0)
        check(got is not None and got.startswith("OPTIONS "),
              "nothing relayed to %s: %r" % (to, got))
        return got
    finally:
        src.close()
        dst.close()


def test(binary, started):
    sipd = Sipd(binary, conf="set force-rr on\n"
                             "lan add 127.0.0.2\nlan add 127.0.0.4\n"
                             "set wan-address 127.0.0.77\n"
                             "set lan-address 127.0.0.66\n")
    started.append(sipd)
    sipd.start()
    port = sipd.port

    got = relayed(sipd, "127.0.0.3")
    check(header(got, "Via").startswith("SIP/2.0/UDP 127.0.0.77:%d;" % port),
          "WAN Via: %r" % header(got, "Via"))
    rr = headers(got, "Record-Route")
    check(len(rr) == 1 and rr[0].startswith("<sip:127.0.0.77:%d;" % port),
          "WAN Record-Route: %r" % rr)
    got = relayed(sipd, "127.0.0.2")
    check(header(got, "Via").startswith("SIP/2.0/UDP 127.0.0.66:%d;" % port),
          "LAN Via: %r" % header(got, "Via"))
    # two entries (RFC 5658): the LAN side on top, the caller's below
    rr = headers(got, "Record-Route")
    check(len(rr) == 2 and rr[0].startswith("<sip:127.0.0.66:%d;" % port)
          and rr[1].startswith("<sip:127.0.0.77:%d;" % port),
          "LAN Record-Route: %r" % rr)

    # addressed to the WAN address: sipd's own
    peer = Peer("127.0.0.1")
    r = peer.ask(request("OPTIONS", port,
                         uri="sip:127.0.0.77:%d" % port), port)
    check(r is not None and r.status == 200,
          "OPTIONS to the WAN address: %r" % r)
    peer.close()

    for bad in ("sip.example.com", "0.0.0.0", "127.0.0.77:5060", "::"):
        p = sipctl(sipd, "set", "wan-address", bad)
        check(p.returncode == 1 and "bad address" in p.stderr,
              "%r: %d %r" % (bad, p.returncode, p.stderr))
    rows = json.loads(ok(sipd, "-j", "show", "settings"))["data"]
    out = {r["setting"]: r["value"] for r in rows}
    check(out.get("wan-address") == "127.0.0.77" and
          out.get("lan-address") == "127.0.0.66",
          "settings: %r" % {k: v for k, v in out.items() if "address" in k})

    ok(sipd, "set", "wan-address", "none")
    ok(sipd, "set", "lan-address", "none")
    for to in ("127.0.0.3", "127.0.0.2"):
        got = relayed(sipd, to)
        check(header(got, "Via").startswith("SIP/2.0/UDP 127.0.0.1:%d;" %
                                             port),
              "own Via toward %s: %r" % (to, header(got, "Via")))
    stop_clean(sipd)


if __name__ == "__main__":
    sipdtest.run(test)
