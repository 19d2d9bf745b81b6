"""show transactions server|client and show stats: the replies' shape,
the abbreviation "sh tr s", and that the counters move when sipd handles
a request.  A real transaction is listed with every documented field and
its true values: an INVITE forwarded to a callee (127.0.0.2) that never
answers is a server transaction Proceeding (sipd sent 100, RFC 3261
16.2) with the caller as peer, and a client transaction Calling with the
callee as peer, no status yet, and its retransmissions counted once
Timer A has fired (T1 = 500 ms, 17.1.1.2)."""

import json
import socket

import sipdtest
from sipdtest import Peer, Sipd, check, new_tag, request, sipctl

FIELDS = {"id", "method", "state", "peer", "transport", "call-id",
          "age-ms", "retransmissions", "status"}


def invite(callee_port, caller_port, call_id):
    return ("INVITE sip:bob@127.0.0.2:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@example.invalid>;tag=%s\r\n"
            "To: <sip:bob@example.invalid>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:alice@127.0.0.1:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (
                callee_port, caller_port, new_tag(), new_tag(), call_id,
                caller_port)).encode()


def rows(sipd, kind, call_id):
    p = sipctl(sipd, "-j", "show", "transactions", kind)
    check(p.returncode == 0, "show transactions %s: %r" % (kind, p.stderr))
    data = json.loads(p.stdout)["data"]
    check(isinstance(data, list), "%s: not a list: %r" % (kind, data))
    return [r for r in data if r["call-id"] == call_id]


def test(binary, started):
    sipd = Sipd(binary, conf="set processors 2")
    started.append(sipd)
    sipd.start()
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        caller.bind(("127.0.0.1", 0))
        callee.bind(("127.0.0.2", 0))
        caller_port = caller.getsockname()[1]
        callee_port = callee.getsockname()[1]
        call_id = "txn-%s@sipdtest" % new_tag()
        caller.sendto(invite(callee_port, caller_port, call_id),
                      ("127.0.0.1", sipd.port))
        # the INVITE, then its first retransmission (Timer A, 500 ms)
        got = []
        callee.settimeout(3)
        for _ in range(2):
            got.append(callee.recvfrom(65536)[0])
        check(all(g.startswith(b"INVITE ") for g in got),
              "the callee got %r" % [g[:20] for g in got])
        srv = rows(sipd, "server", call_id)
        cli = rows(sipd, "client", call_id)
    finally:
        caller.close()
        callee.close()
    check(len(srv) == 1 and len(cli) == 1, "rows %r %r" % (srv, cli))
    for row in srv + cli:
        check(set(row) == FIELDS, "fields %r" % sorted(row))
        check(row["method"] == "INVITE" and row["transport"] == "udp" and
              row["call-id"] == call_id and isinstance(row["id"], int) and
              0 <= row["age-ms"] < 10000, "row %r" % row)
    s_row, c_row = srv[0], cli[0]
    check(s_row["state"] == "Proceeding" and s_row["status"] == 100 and
          s_row["peer"] == "127.0.0.1:%d" % caller_port and
          s_row["retransmissions"] == 0, "server row %r" % s_row)
    check(c_row["state"] == "Calling" and c_row["status"] == 0 and
          c_row["peer"] == "127.0.0.2:%d" % callee_port and
          c_row["retransmissions"] >= 1, "client row %r" % c_row)
    p = sipctl(sipd, "sh", "tr", "s")
    check(p.returncode == 0, "sh tr s: %d %r" % (p.returncode, p.stderr))
    check(p.stdout.startswith("id") and call_id in p.stdout,
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
