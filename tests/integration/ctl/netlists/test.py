#!/usr/bin/python3
"""The Network Address Lists as tables of the table engine, over the real
control socket, in the administrator's file, and on the wire.

- A bad range gets exit status 1 and a message naming the field
  ("bad range '10.0.0.1/8'"), a comment not after ";" one naming the
  comment; nothing changes.
- An exclusion keeps its place: lan 10.0.0.0/8, !10.9.0.0/16 (its comment
  a word that needs quoting, "#2"), 10.9.9.0/24 are listed in that order,
  saved in that order under the administrator's comment lines, which
  stay, and a sipd started on the saved file lists the same rows.
  Removing the exclusion takes out its line alone.
- The lists apply live: with "relay to-non-clients nobody" and the
  loopback not trusted, an OPTIONS from 127.0.0.2 is refused (403 or
  407) and never reaches the peer; after "client-ip add 127.0.0.0/24" it
  is relayed; after "client-ip add !127.0.0.2" (below it) refused
  again."""

import json

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl, stop_clean

CONF = """# our networks: the office, less its lab
lan add 10.0.0.0/8 ; the office
"""


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%r: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def rows(sipd, what):
    return [(e["range"], e["comment"])
            for e in json.loads(ok(sipd, "-j", what, "list"))["data"]]


def refused(sipd, want, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 1 and want in p.stderr,
          "%r: %d %r lacks %r" % (args, p.returncode, p.stderr, want))


def lists(binary, started):
    sipd = Sipd(binary, conf=CONF)
    started.append(sipd)
    sipd.start()
    ok(sipd, "lan", "add", "!10.9.0.0/16", ";", "the", "lab", "#2")
    ok(sipd, "lan", "add", "10.9.9.0/24")
    want = [("10.0.0.0/8", "the office"), ("!10.9.0.0/16", "the lab #2"),
            ("10.9.9.0/24", "")]
    check(rows(sipd, "lan") == want, "lan: %r" % rows(sipd, "lan"))

    refused(sipd, "bad range '10.0.0.1/8'", "lan", "add", "10.0.0.1/8")
    refused(sipd, "bad range '!x'", "nated", "add", "!x")
    refused(sipd, "a comment after the address starts with ';'", "lan",
            "add", "10.1.0.0/16", "office")
    refused(sipd, "range 10.9.9.0/24 already in the lan", "lan", "add",
            "10.9.9.0/24")
    refused(sipd, "no range 10.8.0.0/16 in the lan", "lan", "remove",
            "10.8.0.0/16")
    check(rows(sipd, "lan") == want, "bad input changed the lan")

    with open(sipd.conf_path) as f:
        saved = f.read()
    lines = saved.splitlines()
    check("# our networks: the office, less its lab" in lines and
          lines.index("lan add 10.0.0.0/8 ; the office") + 1 ==
          lines.index('lan add !10.9.0.0/16 ; the lab "#2"') and
          lines.index('lan add !10.9.0.0/16 ; the lab "#2"') + 1 ==
          lines.index("lan add 10.9.9.0/24"), "saved:\n" + saved)
    stop_clean(sipd)
    sipd.start_from(saved)
    check(rows(sipd, "lan") == want, "reloaded: %r" % rows(sipd, "lan"))
    ok(sipd, "lan", "remove", "!10.9.0.0/16")
    with open(sipd.conf_path) as f:
        after = f.read()
    check(after == saved.replace('lan add !10.9.0.0/16 ; the lab "#2"\n',
                                 ""), "after remove:\n" + after)
    stop_clean(sipd)


def relayed(sipd):
    """Whether an OPTIONS from 127.0.0.2 reaches a peer; else its answer
    is a refusal."""
    dst = Peer("127.0.0.3")
    src = Peer("127.0.0.2")
    try:
        req = request("OPTIONS", sipd.port, host="127.0.0.1",
                      uri="sip:bob@127.0.0.3:%d" % dst.port,
                      via_host="127.0.0.2", via_port=src.port)
        src.send(req, sipd.port, "127.0.0.1")
        dst.sock.settimeout(1.5)
        try:
            got = dst.sock.recvfrom(65536)[0]
        except OSError:
            got = None
        if got is not None:
            check(got.startswith(b"OPTIONS "), "peer got %r" % got)
            return True
        r = src.recv(2.0)
        check(r is not None and r.status in (403, 407),
              "stranger got %r" % r)
        return False
    finally:
        src.close()
        dst.close()


def live(binary, started):
    sipd = Sipd(binary, clients=False, conf="relay to-non-clients nobody\n")
    started.append(sipd)
    sipd.start()
    check(not relayed(sipd), "relayed before client-ip add")
    ok(sipd, "client-ip", "add", "127.0.0.0/24", ";", "loopback")
    check(relayed(sipd), "not relayed after client-ip add")
    ok(sipd, "client-ip", "add", "!127.0.0.2")
    check(not relayed(sipd), "relayed after the exclusion")
    stop_clean(sipd)


def test(binary, started):
    lists(binary, started)
    live(binary, started)


if __name__ == "__main__":
    sipdtest.run(test)
