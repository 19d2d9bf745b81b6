"""set worker-ports with two workers: each worker reads a UDP port of its
own beside the listener (port + 1 + i with auto), writes it in the Via
and the Record-Route it adds and sends its requests from it, so every
message of a call reaches the worker that owns the call without a
hand-off between workers.

- With auto, 16 calls through sipd (new UAC and UAS sockets each, so the
  kernel spreads them over both workers), half ended by the callee's BYE:
  the INVITE reaches the UAS from a worker port P+1 or P+2, with that port
  in its top Via and in sipd's one Record-Route; the 100, 180 and 200
  reach the UAC; the ACK and the BYE, sent by the route set, arrive from
  the same worker port; the 200 to the BYE reaches its sender; and
  "show stats" counts handed-off 0.  With the setting off (as before it
  existed) the same calls show sipd's own port in Via and Record-Route
  and handed-off > 0 (half the calls, on average, cross workers).
- Retransmissions of a ringing INVITE from other source ports (until
  one is read by the other worker): each is absorbed (the UAS sees one INVITE,
  the UAC gets the 180 again), and a CANCEL from yet other ports gets 200
  and the call its 487.  The same after the owner's note has expired
  (set t1 10: 64*T1 + T4 = 0.65 s), where a CANCEL read by the worker
  without the INVITE goes round to the one that has it.  Without the
  notes, a retransmission read by the other worker became a second
  INVITE at the UAS, and a CANCEL there a 481.
- A stranger (loopback not a client) gets the same answers on a worker
  port as on the listener's: 403 for a relay to a foreign host or
  domain, 200 for OPTIONS to sipd, at its listener's port or at a
  worker's (sipd's own address: a worker port counts as one).
"""

import json
import os
import re

import sipdtest
import sipua
from sipdtest import Sipd, check, new_tag, request
from sipua import UA, Call, via_sent_by

os.environ["SIPD_TEST_PROCESSORS"] = "2"
CALLS = 16


def handed_off(sipd):
    r = sipdtest.sipctl(sipd, "-j", "show", "stats")
    check(r.returncode == 0, "show stats failed: %s" % r.stderr)
    m = re.search(r'"handed-off"\s*:\s*(\d+)', r.stdout)
    check(m is not None, "no handed-off in %s" % r.stdout)
    return int(m.group(1))


def rr_port(value):
    m = re.match(r"<sip:127\.0\.0\.1:(\d+)[;>]", value)
    check(m is not None, "Record-Route %r names no port" % value)
    return int(m.group(1))


def check_from_sipd(msg, ports, what):
    """msg came from one of ports, and its top Via names that port."""
    host, vport = via_sent_by(msg.first("Via"))
    check(vport in ports, "%s with top Via %r: not on %s" % (
        what, msg.first("Via"), ports))
    check(msg.src[1] == vport, "%s came from port %d, its Via says %d" % (
        what, msg.src[1], vport))
    return vport


def one_call(sipd, ports, callee_bye):
    uac, uas = UA(), UA()
    try:
        c = Call(uac, uas.uri("uas"))
        uac.send(c.request("INVITE"), sipd.port)
        uac.expect_response(100, c)
        inv = uas.expect_request("INVITE", c.call_id)
        port = check_from_sipd(inv, ports, "INVITE")
        rr = inv.get("Record-Route")
        check(len(rr) == 1 and rr_port(rr[0]) == port,
              "INVITE with Record-Route %s, not one on port %d" % (rr, port))
        tag = new_tag()
        uas.respond(inv, 180, to_tag=tag)
        uac.expect_response(180, c)
        uas.respond(inv, 200, to_tag=tag)
        ok = uac.expect_response(200, c)
        check(ok.get("Record-Route") == rr,
              "200 with Record-Route %s" % ok.get("Record-Route"))
        uac.send(c.ack(ok), port)
        ack = uas.expect_request("ACK", c.call_id)
        check(check_from_sipd(ack, ports, "ACK") == port,
              "ACK from another worker's port than the INVITE")
        if callee_bye:
            bye = ("BYE %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n"
                   "Route: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                   "CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n" % (
                       uac.uri("uac"), uas.via("z9hG4bK" + new_tag()),
                       rr[0], inv.first("To") + ";tag=" + tag,
                       inv.first("From"), c.call_id)).encode()
            uas.send(bye, port)
            got = uac.expect_request("BYE", c.call_id)
            check(check_from_sipd(got, ports, "BYE") == port,
                  "BYE from another worker's port than the INVITE")
            uac.respond(got, 200)
            uas.expect("200 to BYE", lambda m: not m.is_request() and
                       m.status == 200 and m.cseq()[1] == "BYE")
        else:
            contact = ok.first("Contact").strip("<>")
            uac.send(c.request("BYE", uri=contact, to=ok.first("To"),
                               extra=[("Route", rr[0])]), port)
            got = uas.expect_request("BYE", c.call_id)
            check(check_from_sipd(got, ports, "BYE") == port,
                  "BYE from another worker's port than the INVITE")
            uas.respond(got, 200)
            uac.expect_response(200, c, "BYE")
    finally:
        uac.close()
        uas.close()


def calls(binary, started, setting):
    sipd = sipua.start_proxy(
        binary, started,
        conf=lambda s: "set force-rr on\nset worker-ports %s" % setting)
    ports = [sipd.port + 1, sipd.port + 2] if setting == "auto" \
        else [sipd.port]
    for i in range(CALLS):
        one_call(sipd, ports, i % 2 == 1)
    n = handed_off(sipd)
    sipdtest.stop_clean(sipd)
    return n


def ringing(sipd, uac, uas, c):
    inv_bytes = c.request("INVITE")
    uac.send(inv_bytes, sipd.port)
    uac.expect_response(100, c)
    inv = uas.expect_request("INVITE", c.call_id)
    uas.respond(inv, 180, to_tag="r1")
    uac.expect_response(180, c)
    return inv_bytes, inv


def cancel_from_others(sipd, uac, uas, c, inv):
    """A CANCEL sent from four other ports: one 200, one CANCEL at the
    UAS, then the 487."""
    others = [UA() for _ in range(4)]
    try:
        for o in others:
            o.send(c.cancel(), sipd.port)
        # the first CANCEL sipd takes is answered; the others, the same
        # transaction's retransmissions, resend that 200 to where the
        # first came from
        cancel = uas.expect_request("CANCEL", c.call_id)
        uas.respond(cancel, 200)
        uas.respond(inv, 487, to_tag="r1")
        uas.expect_request("ACK", c.call_id)
        term = uac.expect_response(487, c, "INVITE")
        uac.send(c.ack(term), sipd.port)
        late = uas.collect(0.3)
        check([m for m in late if m.method in ("CANCEL", "INVITE")] == [],
              "the UAS got more: %s" % late)
        got = [m for o in others for m in o.collect(0.05)]
        check(any(m.status == 200 for m in got) and
              all(m.status == 200 for m in got),
              "the CANCELs were answered %s" % [m.start for m in got])
    finally:
        for o in others:
            o.close()


def retransmissions(binary, started):
    sipd = sipua.start_proxy(
        binary, started,
        conf=lambda s: "set worker-ports auto\nset t1 10\nset t4 10\n"
        "set timer-c 60000")
    uac, uas = UA(), UA()
    try:
        # retransmissions and a CANCEL from other ports, within 64*T1
        # of the INVITE: found by the owner's note
        c = Call(uac, uas.uri("uas"))
        before = handed_off(sipd)
        inv_bytes, inv = ringing(sipd, uac, uas, c)
        # six ports at a time until one of them is read by the other
        # worker (handed to the owner), at most five times: 2^-30 that
        # none is
        for _ in range(5):
            others = [UA() for _ in range(6)]
            try:
                for o in others:
                    o.send(inv_bytes, sipd.port)
                again = uac.collect(0.3)
            finally:
                for o in others:
                    o.close()
            check(any(m.status == 180 for m in again),
                  "the retransmitted INVITEs got no 180 back: %s" % again)
            late = uas.collect(0.1)
            check([m for m in late if m.method == "INVITE"] == [],
                  "a retransmission reached the UAS as a new INVITE: %s" %
                  late)
            if handed_off(sipd) > before:
                break
        else:
            check(False, "no retransmission was read by the other worker "
                  "(or the counter is broken)")
        cancel_from_others(sipd, uac, uas, c, inv)
        # after the note expired (0.65 s): the CANCEL goes round
        c = Call(uac, uas.uri("uas"))
        inv_bytes, inv = ringing(sipd, uac, uas, c)
        uac.collect(1.0)
        cancel_from_others(sipd, uac, uas, c, inv)
    finally:
        uac.close()
        uas.close()
    sipdtest.stop_clean(sipd)


def stranger(binary, started):
    sipd = Sipd(binary, conf="set processors 2\nset worker-ports auto",
                clients=False)
    started.append(sipd)
    sipd.start()
    p = sipd.port
    answers = {}
    for port in (p, p + 1, p + 2):
        peer = sipdtest.Peer()
        try:
            got = []
            for method, uri in (("INVITE", "sip:bob@192.0.2.9"),
                                ("MESSAGE", "sip:bob@example.net"),
                                ("OPTIONS", "sip:127.0.0.1:%d" % p),
                                ("OPTIONS", "sip:127.0.0.1:%d" % (p + 2))):
                r = peer.ask(request(method, port, uri=uri), port)
                for _ in range(5):
                    if r is None or r.status >= 200:
                        break
                    r = peer.recv()
                check(r is not None, "no final answer to %s on port %d" % (
                    method, port))
                got.append("%d %s" % (r.status, r.reason))
            answers[port] = got
        finally:
            peer.close()
    check(answers[p + 1] == answers[p] and answers[p + 2] == answers[p],
          "a stranger's answers differ by port: %s" % answers)
    check(answers[p] == ["403 Relaying Denied"] * 2 + ["200 OK"] * 2,
          "a stranger's answers: %s" % answers[p])
    sipdtest.stop_clean(sipd)


def test(binary, started):
    steered = calls(binary, started, "auto")
    check(steered == 0, "%d messages handed between workers with "
          "worker-ports" % steered)
    off = calls(binary, started, "off")
    check(off > 0, "no message handed between workers without "
          "worker-ports: the counter proves nothing")
    retransmissions(binary, started)
    stranger(binary, started)


sipdtest.run(test)
