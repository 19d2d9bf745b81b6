"""A ringing call shows in show transactions: an INVITE forwarded to a
callee that answers 180 and waits is listed as a server transaction and
as a client transaction, both Proceeding, with its Call-ID, method and
peer; once the callee declines with 486 and the caller acknowledges,
the INVITE transactions move on to Completed.  Run with 1 and 2 workers.
"""

import json
import socket

import sipdtest
from sipdtest import Response, Sipd, check, new_tag, sipctl


def invite(sipd_port, uas_port, caller_port, call_id):
    body = "v=0\r\n"
    return ("INVITE sip:bob@127.0.0.2:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@example.invalid>;tag=%s\r\n"
            "To: <sip:bob@example.invalid>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:alice@127.0.0.1:%d>\r\n"
            "Content-Type: application/sdp\r\n"
            "Content-Length: %d\r\n\r\n%s" % (
                uas_port, caller_port, new_tag(), new_tag(), call_id,
                caller_port, len(body), body)).encode()


def answer(req, status, reason, to_tag):
    """A response to the raw request bytes req, as a UAS builds it."""
    head = req.split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")[1:]
    out = ["SIP/2.0 %d %s" % (status, reason)]
    for line in lines:
        name = line.split(":", 1)[0].strip().lower()
        if name in ("via", "from", "call-id", "cseq"):
            out.append(line)
        elif name == "to":
            out.append(line + ";tag=" + to_tag)
    out.append("Content-Length: 0")
    return ("\r\n".join(out) + "\r\n\r\n").encode()


def recv(sock, timeout=3.0):
    sock.settimeout(timeout)
    try:
        data, _ = sock.recvfrom(65536)
    except socket.timeout:
        return None
    return data


def rows(sipd, kind, call_id):
    p = sipctl(sipd, "-j", "show", "transactions", kind)
    check(p.returncode == 0, "show transactions %s: %r" % (kind, p.stderr))
    return [r for r in json.loads(p.stdout)["data"]
            if r["call-id"] == call_id]


def one_call(binary, started, workers):
    sipd = Sipd(binary, conf="set processors %d" % workers)
    started.append(sipd)
    sipd.start()
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        uas.bind(("127.0.0.2", 0))
        uac.bind(("127.0.0.1", 0))
        uas_port = uas.getsockname()[1]
        call_id = "ringing-%s@sipdtest" % new_tag()
        uac.sendto(invite(sipd.port, uas_port, uac.getsockname()[1],
                          call_id), ("127.0.0.1", sipd.port))
        req = recv(uas)
        check(req is not None and req.startswith(b"INVITE "),
              "the callee got no INVITE")
        uas.sendto(answer(req, 180, "Ringing", "callee1"),
                   ("127.0.0.1", sipd.port))
        statuses = []
        for _ in range(3):
            data = recv(uac)
            if data is None:
                break
            statuses.append(Response(data).status)
            if 180 in statuses:
                break
        check(180 in statuses, "the caller got %r, no 180" % statuses)

        srv = rows(sipd, "server", call_id)
        cli = rows(sipd, "client", call_id)
        check(len(srv) == 1 and srv[0]["method"] == "INVITE" and
              srv[0]["state"] == "Proceeding" and
              srv[0]["peer"].startswith("127.0.0.1:"),
              "server transactions %r" % srv)
        check(len(cli) == 1 and cli[0]["method"] == "INVITE" and
              cli[0]["state"] == "Proceeding" and
              cli[0]["peer"] == "127.0.0.2:%d" % uas_port and
              cli[0]["status"] == 180,
              "client transactions %r" % cli)

        # the callee declines; sipd ACKs it and passes the 486 up
        uas.sendto(answer(req, 486, "Busy Here", "callee1"),
                   ("127.0.0.1", sipd.port))
        ack = recv(uas)
        check(ack is not None and ack.startswith(b"ACK "),
              "sipd did not acknowledge the 486")
        final = None
        for _ in range(3):
            data = recv(uac)
            if data is None:
                break
            if Response(data).status == 486:
                final = Response(data)
                break
        check(final is not None, "the caller got no 486")
        srv = rows(sipd, "server", call_id)
        cli = rows(sipd, "client", call_id)
        check(srv and srv[0]["state"] == "Completed" and
              srv[0]["status"] == 486, "server after 486: %r" % srv)
        check(cli and cli[0]["state"] == "Completed",
              "client after 486: %r" % cli)
    finally:
        uas.close()
        uac.close()
    sipdtest.stop_clean(sipd)


def test(binary, started):
    for workers in (1, 2):
        one_call(binary, started, workers)


sipdtest.run(test)
