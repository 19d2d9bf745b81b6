#!/usr/bin/python3
"""The Network Address Lists (lan, client-ip, nated) through sipctl,
over the real control socket, in the saved configuration, and on the
wire.

- A line is an address, a range a-b, or addr/n, each with an optional
  leading "!" and "; comment".  "list" shows the lines in the order they
  were added, with their comments.
- Bad input gets exit status 1 and changes nothing: host bits set
  ("10.0.0.1/8"), ends out of order, mixed families, a name, a prefix
  too long; a duplicate gets "already".
- "nated list" starts with the private ranges (RFC 1918, RFC 6598 and
  fd00::/8), each marked default; a default is not a line: removing one
  fails and names "set nated-defaults off"; with that off the list holds
  only its lines.
- Every change is saved: a sipd started on the file lists the same.
- On the wire: client-ip 127.0.0.0/8 then !127.0.0.1 makes 127.0.0.2 a
  client whose OPTIONS is relayed to a peer (with "relay to-non-clients
  nobody"), and 127.0.0.1 a stranger whose OPTIONS is refused (403 or
  407) and never reaches the peer."""

import json

import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl, stop_clean

DEFAULTS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
            "100.64.0.0/10", "fd00::/8"]


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%s: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def listed(sipd, what="nated"):
    return json.loads(ok(sipd, "-j", what, "list"))["data"]


def ranges(sipd, what="nated"):
    return [e["range"] for e in listed(sipd, what)]


def lists(sipd):
    ok(sipd, "lan", "add", "10.0.0.0/8", ";", "the", "office")
    ok(sipd, "lan", "add", "!10.9.0.0/16", "; lab")
    ok(sipd, "lan", "add", "10.9.9.1-10.9.9.9")
    ok(sipd, "lan", "add", "FD00:0::5")
    got = listed(sipd, "lan")
    check([(e["range"], e.get("comment", "")) for e in got] ==
          [("10.0.0.0/8", "the office"), ("!10.9.0.0/16", "lab"),
           ("10.9.9.1-10.9.9.9", ""), ("fd00::5", "")], "lan: %r" % got)
    for bad, why in (("10.0.0.1/8", "host bits"),
                     ("10.9.9.9-10.9.9.1", "comes first"),
                     ("10.0.0.1-fd00::1", "one family"),
                     ("example.com", "bad range"),
                     ("10.0.0.0/33", "0 to 32"),
                     ("192.0.2.300", "bad range")):
        p = sipctl(sipd, "lan", "add", bad)
        check(p.returncode == 1 and why in p.stderr,
              "%r: %d %r" % (bad, p.returncode, p.stderr))
    p = sipctl(sipd, "lan", "add", "10.0.0.0/8")
    check(p.returncode == 1 and "already" in p.stderr,
          "duplicate: %d %r" % (p.returncode, p.stderr))
    check(len(listed(sipd, "lan")) == 4, "bad input changed the lan")
    ok(sipd, "lan", "remove", "!10.9.0.0/16")
    check(ranges(sipd, "lan") ==
          ["10.0.0.0/8", "10.9.9.1-10.9.9.9", "fd00::5"],
          "lan after remove: %r" % ranges(sipd, "lan"))

    got = listed(sipd)
    check([e["range"] for e in got] == DEFAULTS, "defaults: %r" % got)
    check(all(e["default"] for e in got), "marked default: %r" % got)
    ok(sipd, "nated", "add", "192.0.2.0/24")
    ok(sipd, "nated", "add", "!192.168.99.0/24", ";", "a", "routed", "LAN")
    got = listed(sipd)
    check([e["range"] for e in got] ==
          DEFAULTS + ["192.0.2.0/24", "!192.168.99.0/24"],
          "added: %r" % got)
    check(not got[-1]["default"] and got[-1]["comment"] == "a routed LAN",
          "an entry is no default: %r" % got)
    p = sipctl(sipd, "nated", "remove", "10.0.0.0/8")
    check(p.returncode == 1 and "nated-defaults off" in p.stderr,
          "default removed: %d %r" % (p.returncode, p.stderr))
    ok(sipd, "nated", "remove", "192.0.2.0/24")
    ok(sipd, "set", "nated-defaults", "off")
    check(ranges(sipd) == ["!192.168.99.0/24"], "off: %r" % ranges(sipd))

    with open(sipd.conf_path) as f:
        text = f.read()
    check("nated add !192.168.99.0/24 ; a routed LAN\n" in text and
          "lan add 10.0.0.0/8 ; the office\n" in text and
          "set nated-defaults off\n" in text and "192.0.2.0" not in text,
          "saved file:\n" + text)
    stop_clean(sipd)
    sipd.start_from(text)
    check(ranges(sipd) == ["!192.168.99.0/24"],
          "after restart: %r" % ranges(sipd))
    check(ranges(sipd, "lan") ==
          ["10.0.0.0/8", "10.9.9.1-10.9.9.9", "fd00::5"],
          "lan after restart: %r" % ranges(sipd, "lan"))
    stop_clean(sipd)


def raw(peer, timeout):
    """The next datagram peer receives, or None after timeout."""
    peer.sock.settimeout(timeout)
    try:
        return peer.sock.recvfrom(65536)[0]
    except OSError:
        return None


def wire(binary, started):
    sipd = Sipd(binary, clients=False,
                conf="relay to-non-clients nobody\n"
                     "client-ip add 127.0.0.0/8\n"
                     "client-ip add !127.0.0.1 ; the stranger\n")
    started.append(sipd)
    sipd.start()
    for host, client in (("127.0.0.2", True), ("127.0.0.1", False)):
        # a peer of its own: the first OPTIONS goes on being resent
        dst = Peer("127.0.0.3")
        src = Peer(host)
        req = request("OPTIONS", sipd.port, host="127.0.0.1",
                      uri="sip:bob@127.0.0.3:%d" % dst.port,
                      via_host=host, via_port=src.port)
        src.send(req, sipd.port, "127.0.0.1")
        got = raw(dst, 2.0 if client else 1.0)
        if client:
            check(got is not None and got.startswith(b"OPTIONS "),
                  "client %s not relayed: %r" % (host, got))
        else:
            r = src.recv(2.0)
            check(got is None, "stranger %s relayed: %r" % (host, got))
            check(r is not None and r.status in (403, 407),
                  "stranger %s got %r" % (host, r))
        src.close()
        dst.close()
    stop_clean(sipd)


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    lists(sipd)
    wire(binary, started)


if __name__ == "__main__":
    sipdtest.run(test)
