"""Overload: a burst of INVITEs far beyond what sipd may take at once.

sipd runs with two workers and a server transaction limit of 64 (set
max-server 64), in front of a UAS that answers every INVITE it gets
180 Ringing and holds it, so the first INVITEs fill the limit.  The UAC
then sends BURST more INVITEs on new Call-IDs, in chunks of 100 at up
to 5,000 a second (fifty times the limit each second; overload/backlog
goes past what the CPU takes).  On the wire:

- every INVITE answered is answered 100 Trying (one the UAS gets) or 503
  Service Unavailable with Retry-After (RFC 3261 21.5.4), and the 503s
  are most of the burst; at most 64 INVITEs reach the UAS;
- during the burst an OPTIONS with Max-Forwards 0 (for sipd itself)
  gets 200, and `sipctl -j show stats` answers, reporting at most 64
  server transactions and the counter of messages the workers' bounded
  inboxes refused (busy-refused, sipd(8) Queues);
- once the UAS answers 486 to what it holds (and the UAC ACKs), a new
  INVITE goes through again within a few seconds.

Against a sipd without the bounded inbox the stats lack busy-refused
and the test fails there."""

import json
import socket
import threading
import time

import sipdtest
from sipdtest import check

LIMIT = 64
BURST = 3000
CHUNK = 100


def parse(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        hdrs.setdefault(name.strip().lower(), []).append(value.strip())
    return lines[0], hdrs


def invite(uac_port, uas_port, call_id, branch):
    return ("INVITE sip:uas@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:uac@127.0.0.1>;tag=%s\r\n"
            "To: <sip:uas@127.0.0.1>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:uac@127.0.0.1:%d>\r\n"
            "Content-Length: 0\r\n\r\n" % (
                uas_port, uac_port, branch, branch, call_id,
                uac_port)).encode()


def ack(uac_port, uas_port, call_id, branch, to):
    return ("ACK sip:uas@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:uac@127.0.0.1>;tag=%s\r\n"
            "To: %s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 ACK\r\n"
            "Content-Length: 0\r\n\r\n" % (
                uas_port, uac_port, branch, branch, to,
                call_id)).encode()


def answer(req, status, reason):
    """A response to a request the UAS received (raw bytes)."""
    _, hdrs = parse(req)
    out = "SIP/2.0 %d %s\r\n" % (status, reason)
    for v in hdrs.get("via", []):
        out += "Via: %s\r\n" % v
    out += "From: %s\r\n" % hdrs["from"][0]
    out += "To: %s;tag=uas\r\n" % hdrs["to"][0]
    out += "Call-ID: %s\r\n" % hdrs["call-id"][0]
    out += "CSeq: %s\r\n" % hdrs["cseq"][0]
    out += "Content-Length: 0\r\n\r\n"
    return out.encode()


def udp(rcvbuf=8 << 20):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(("127.0.0.1", 0))
    return s


def read_all(sock, quiet, limit=100000):
    """Every datagram until none came for quiet seconds (bounded)."""
    out = []
    sock.settimeout(quiet)
    for _ in range(limit):
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        out.append(data)
    return out


def stats(sipd):
    r = sipdtest.sipctl(sipd, "-j", "show", "stats", timeout=10)
    check(r.returncode == 0, "show stats failed: %s" % r.stderr)
    return json.loads(r.stdout.splitlines()[-1])["data"]


def test(binary, started):
    sipd = sipdtest.Sipd(binary, conf="set max-server %d\n"
                         "set processors 2" % LIMIT)
    started.append(sipd)
    sipd.start()
    uac, uas, probe = udp(), udp(), udp(1 << 20)
    uac_port = uac.getsockname()[1]
    uas_port = uas.getsockname()[1]
    try:
        # fill the limit: INVITEs the UAS holds
        for i in range(LIMIT):
            uac.sendto(invite(uac_port, uas_port, "fill-%d@ov" % i,
                              "fill%d" % i), ("127.0.0.1", sipd.port))
        held = {}
        for data in read_all(uas, 0.3):
            held.setdefault(parse(data)[1]["call-id"][0], data)
        held = list(held.values())
        # ringing: no retransmissions, and the transactions stay
        for req in held:
            uas.sendto(answer(req, 180, "Ringing"),
                       ("127.0.0.1", sipd.port))
        check(len(held) == LIMIT, "%d of %d INVITEs reached the UAS "
              "before the burst" % (len(held), LIMIT))

        seen = {}
        during = {}

        def control():
            t0 = time.monotonic()
            during["stats"] = stats(sipd)
            during["stats_s"] = time.monotonic() - t0

        ctl = threading.Thread(target=control)
        options_sent = None
        t0 = time.monotonic()
        for i in range(BURST):
            if i == BURST // 2:
                ctl.start()
                options_sent = time.monotonic()
                probe.sendto(sipdtest.request(
                    "OPTIONS", sipd.port,
                    extra=[("Max-Forwards", "0")],
                    omit=("Max-Forwards",)), ("127.0.0.1", sipd.port))
            uac.sendto(invite(uac_port, uas_port, "burst-%d@ov" % i,
                              "burst%d" % i), ("127.0.0.1", sipd.port))
            if i % CHUNK == CHUNK - 1:
                # bounded chunks, so the burst tests the limit, not the
                # kernel's socket buffer (overload/backlog does that):
                # at most 5,000 a second, still 50 times the limit
                time.sleep(0.02)
        burst_s = time.monotonic() - t0
        probe.settimeout(3.0)
        try:
            data, _ = probe.recvfrom(65536)
            options_s = time.monotonic() - options_sent
            status_line = parse(data)[0]
        except socket.timeout:
            status_line, options_s = None, None
        check(status_line is not None and " 200 " in status_line,
              "OPTIONS during the burst got %r" % status_line)
        ctl.join(15)
        check(not ctl.is_alive() and "stats" in during,
              "show stats during the burst did not answer")
        s = during["stats"]
        check("busy-refused" in s, "show stats has no busy-refused "
              "counter (the workers' inboxes are not bounded)")
        check(s["server-transactions"] <= LIMIT,
              "%d server transactions over set max-server %d" %
              (s["server-transactions"], LIMIT))

        for data in read_all(uac, 1.5):
            first, hdrs = parse(data)
            cid = hdrs.get("call-id", ["?"])[0]
            if not cid.startswith("burst-"):
                continue
            code = int(first.split(" ")[1])
            seen.setdefault(cid, []).append(code)
            if code == 503:
                check(hdrs.get("retry-after"),
                      "503 without Retry-After: %r" % first)
            check(code in (100, 503), "burst INVITE %s answered %r" %
                  (cid, first))
        refused = sum(1 for v in seen.values() if 503 in v)
        trying = sum(1 for v in seen.values() if 100 in v)
        more = read_all(uas, 0.5)
        reached = [d for d in more if d.startswith(b"INVITE ")]
        print("burst of %d INVITEs in %.2f s: %d answered 503, %d 100, "
              "%d unanswered; %d reached the UAS; OPTIONS answered in "
              "%.3f s, show stats in %.3f s; busy-refused %d" % (
                  BURST, burst_s, refused, trying, BURST - len(seen),
                  len(reached), options_s, during["stats_s"],
                  s["busy-refused"]))
        check(trying == 0 and not reached,
              "%d burst INVITEs got 100 and %d reached the UAS with the "
              "limit full" % (trying, len(reached)))
        check(refused >= BURST * 9 // 10, "only %d of %d burst INVITEs "
              "were answered 503" % (refused, BURST))

        # the load drops: the UAS answers 486 to what it holds
        for req in held:
            uas.sendto(answer(req, 486, "Busy Here"),
                       ("127.0.0.1", sipd.port))
        busy = set()
        for data in read_all(uac, 0.5):
            first, hdrs = parse(data)
            if " 486 " in first:
                cid = hdrs["call-id"][0]
                busy.add(cid)
                uac.sendto(ack(uac_port, uas_port, cid,
                               cid.split("@")[0].replace("-", ""),
                               hdrs["to"][0]), ("127.0.0.1", sipd.port))
        check(len(busy) == LIMIT, "%d of %d calls got their 486" %
              (len(busy), LIMIT))
        t_drop = time.monotonic()
        ok = None
        for i in range(25):
            uac.sendto(invite(uac_port, uas_port, "after-%d@ov" % i,
                              "after%d" % i), ("127.0.0.1", sipd.port))
            got = read_all(uas, 0.2, 10)
            if any(d.startswith(b"INVITE ") for d in got):
                ok = time.monotonic() - t_drop
                break
        check(ok is not None and ok < 3.0,
              "no INVITE got through within 5 s after the burst")
        print("recovered: an INVITE reached the UAS %.3f s after the "
              "load dropped" % ok)
        check(sipd.alive(), "sipd died")
    finally:
        uac.close()
        uas.close()
        probe.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
