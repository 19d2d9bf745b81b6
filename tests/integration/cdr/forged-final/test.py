"""A final response names its call by the request's Call-ID and From tag,
never by ones the callee changed.  sipd with call records on; a raw UDP
caller on 127.0.0.1 places two calls, A and B, through sipd to a raw UDP
callee on 127.0.0.2.  The callee answers B's INVITE (by B's Vias, so the
transaction is B's) with a 486 whose Call-ID and From tag are A's.
Checked: the caller received the 486 through sipd; the CSV file holds
one record, B's (its Call-ID, status 486, hangup "rejected"), not A's;
"show calls" still lists A, ringing, and not B.  A sipd that took the
response's Call-ID and From tag at their word would end A as rejected
and leave B in the table: a failure.  Then the callee answers A with a
200 of its own Call-ID and From tag: "show calls" lists A answered.
Every wait is bounded."""

import csv
import json
import os
import socket
import sys
import time

import sipdtest
from sipdtest import check


def invite(caller_port, callee_port, call_id, ftag):
    return ("INVITE sip:bob@127.0.0.2:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@127.0.0.1>;tag=%s\r\n"
            "To: <sip:bob@127.0.0.2>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:alice@127.0.0.1:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (
                callee_port, caller_port, sipdtest.new_tag(), ftag,
                call_id, caller_port)).encode()


def recv_request(sock, method, timeout=3.0):
    """The next request of method the socket receives (headers as (name,
    value) pairs, and where it came from), None after timeout."""
    deadline = time.monotonic() + timeout
    for _ in range(50):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, addr = sock.recvfrom(65536)
        except socket.timeout:
            return None
        lines = data.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        if lines[0].startswith(method + " "):
            return [tuple(x.strip() for x in ln.split(":", 1))
                    for ln in lines[1:]], addr
    return None


def first(hdrs, name):
    return [v for (n, v) in hdrs if n.lower() == name.lower()][0]


def response(status, reason, hdrs, call_id, from_, to):
    """A response to the request of hdrs: its Vias and Record-Route, its
    CSeq, and the Call-ID, From and To given."""
    out = ["SIP/2.0 %d %s" % (status, reason)]
    out += ["%s: %s" % (n, v) for (n, v) in hdrs
            if n.lower() in ("via", "record-route")]
    out += ["From: " + from_, "To: " + to, "Call-ID: " + call_id,
            "CSeq: " + first(hdrs, "CSeq"),
            "Contact: <sip:bob@127.0.0.2>", "Content-Length: 0", "", ""]
    return "\r\n".join(out).encode()


def show_calls(sipd):
    p = sipdtest.sipctl(sipd, "-j", "show", "calls")
    check(p.returncode == 0, "sipctl show calls: %s" % p.stderr)
    return json.loads(p.stdout)["data"]


def test(binary, started):
    sipd = sipdtest.Sipd(binary, conf="")
    csv_path = os.path.join(sipd.dir.name, "cdr.csv")
    sipd.extra_conf = "set cdr on\nset cdr-file %s" % csv_path
    started.append(sipd)
    sipd.start()
    caller = sipdtest.Peer("127.0.0.1")
    callee = sipdtest.Peer("127.0.0.2")
    a_id, a_tag = "a-%s@caller" % sipdtest.new_tag(), sipdtest.new_tag()
    b_id, b_tag = "b-%s@caller" % sipdtest.new_tag(), sipdtest.new_tag()

    caller.send(invite(caller.port, callee.port, a_id, a_tag), sipd.port)
    got_a = recv_request(callee.sock, "INVITE")
    check(got_a is not None, "the callee received no INVITE for A")
    a_hdrs, a_from = got_a
    check(first(a_hdrs, "Call-ID") == a_id, "not A's INVITE: %r" % a_hdrs)
    callee.send(response(180, "Ringing", a_hdrs, a_id,
                         first(a_hdrs, "From"),
                         first(a_hdrs, "To") + ";tag=calleeA"),
                a_from[1], a_from[0])

    caller.send(invite(caller.port, callee.port, b_id, b_tag), sipd.port)
    got_b = recv_request(callee.sock, "INVITE")
    check(got_b is not None, "the callee received no INVITE for B")
    b_hdrs, b_from = got_b
    check(first(b_hdrs, "Call-ID") == b_id, "not B's INVITE: %r" % b_hdrs)

    # B's transaction (its Vias), A's Call-ID and From tag
    callee.send(response(486, "Busy Here", b_hdrs, a_id,
                         first(a_hdrs, "From"),
                         first(a_hdrs, "To") + ";tag=calleeB"),
                b_from[1], b_from[0])
    busy = None
    for _ in range(10):
        r = caller.recv(3.0)
        if r is None or r.status == 486:
            busy = r
            break
    check(busy is not None, "the caller received no 486")

    recs = []
    deadline = time.monotonic() + 5
    for _ in range(100):
        if os.path.exists(csv_path):
            with open(csv_path, newline="") as f:
                recs = list(csv.reader(f))[1:]
        if recs or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check(len(recs) == 1, "%d records, not 1: %r" % (len(recs), recs))
    # call_id first, status and hangup last (tests/integration/cdr)
    check(recs[0][0] == b_id and recs[0][-2:] == ["486", "rejected"],
          "the record is not B's, rejected with 486: %r" % recs[0])
    calls = show_calls(sipd)
    check([c["call-id"] for c in calls] == [a_id],
          "show calls lists %r, not A alone" % calls)

    # A's own 200: answered
    callee.send(response(200, "OK", a_hdrs, a_id, first(a_hdrs, "From"),
                         first(a_hdrs, "To") + ";tag=calleeA"),
                a_from[1], a_from[0])
    ok = None
    for _ in range(10):
        r = caller.recv(3.0)
        if r is None or r.status == 200:
            ok = r
            break
    check(ok is not None, "the caller received no 200 for A")
    calls = show_calls(sipd)
    check(len(calls) == 1 and calls[0]["call-id"] == a_id and
          calls[0].get("state") == "answered",
          "A is not answered: %r" % calls)
    caller.close()
    callee.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
