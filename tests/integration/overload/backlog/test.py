"""Overload beyond the CPU: a burst of INVITEs faster than one worker can
forward them, with no transaction limit in the way (set max-server at
its default, one worker).

Two processes send BURST INVITEs on new Call-IDs from one UDP socket as
fast as they can (a few tens of thousands a second), to a UAS that never
answers.  Once the socket's receive buffer is 90% full, sipd answers
new requests 503 Service Unavailable with Retry-After (RFC 3261 21.5.4,
sipd(8) Queues) instead of forwarding them late or letting the kernel
drop them unanswered.  On the wire:

- a share of the burst (at least 2%) is answered 503, each with
  Retry-After; every answer is 100 Trying (forwarded) or 503;
- OPTIONS for sipd, sent right after the burst and retransmitted as a
  UDP client does, is answered 200, and `sipctl show stats` answers,
  counting the refusals as busy-refused;
- once the burst is over, a new INVITE is forwarded again within a few
  seconds.

A sipd without the check answers no INVITE of the burst with 503 (it
forwards what it reads and the kernel drops the rest): this test fails
there."""

import json
import os
import socket
import time

import sipdtest
from sipdtest import check

BURST = 12000  # two processes, half each


def invite(uac_port, uas_port, call_id):
    return ("INVITE sip:uas@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:uac@127.0.0.1>;tag=%s\r\n"
            "To: <sip:uas@127.0.0.1>\r\n"
            "Call-ID: %s@ov\r\n"
            "CSeq: 1 INVITE\r\n"
            "Content-Length: 0\r\n\r\n" % (
                uas_port, uac_port, call_id, call_id, call_id)).encode()


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("127.0.0.1", 0))
    return s


def header(data, name):
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        n, _, v = line.partition(b":")
        if n.strip().lower() == name:
            return v.strip()
    return None


def test(binary, started):
    sipd = sipdtest.Sipd(binary, conf="set processors 1")
    started.append(sipd)
    sipd.start()
    uac, uas, probe = udp(), udp(), udp()
    uac_port = uac.getsockname()[1]
    uas_port = uas.getsockname()[1]
    dst = ("127.0.0.1", sipd.port)
    try:
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                for i in range(1, BURST, 2):
                    uac.sendto(invite(uac_port, uas_port, "b%d" % i), dst)
            finally:
                os._exit(0)
        for i in range(0, BURST, 2):
            uac.sendto(invite(uac_port, uas_port, "b%d" % i), dst)
        os.waitpid(pid, 0)
        burst_s = time.monotonic() - t0

        # OPTIONS for sipd, retransmitted at T1 as a UDP client does
        opt = sipdtest.request("OPTIONS", sipd.port, omit=("Max-Forwards",),
                               extra=[("Max-Forwards", "0")])
        pong = None
        for _ in range(4):
            probe.sendto(opt, dst)
            probe.settimeout(0.5)
            try:
                pong, _ = probe.recvfrom(65536)
                break
            except socket.timeout:
                continue
        check(pong is not None and pong.startswith(b"SIP/2.0 200 "),
              "OPTIONS after the burst got %r" % (pong[:40] if pong
                                                  else None))

        answers = {}
        uac.settimeout(1.0)
        for _ in range(4 * BURST):
            try:
                data, _ = uac.recvfrom(65536)
            except socket.timeout:
                break
            status = int(data.split(b" ", 2)[1])
            cid = header(data, b"call-id")
            answers.setdefault(cid, set()).add(status)
            check(status in (100, 503), "a burst INVITE answered %r" %
                  data[:40])
            if status == 503:
                check(header(data, b"retry-after"),
                      "503 without Retry-After")
        refused = sum(1 for v in answers.values() if 503 in v)
        trying = sum(1 for v in answers.values() if 100 in v)
        r = sipdtest.sipctl(sipd, "-j", "show", "stats", timeout=10)
        check(r.returncode == 0, "show stats failed: %s" % r.stderr)
        stats = json.loads(r.stdout.splitlines()[-1])["data"]
        print("burst of %d INVITEs in %.2f s (%.0f a second): %d answered "
              "503, %d 100, %d unanswered; busy-refused %s" % (
                  BURST, burst_s, BURST / burst_s, refused, trying,
                  BURST - len(answers), stats.get("busy-refused")))
        check(refused >= BURST // 50, "only %d of %d INVITEs sent faster "
              "than sipd forwards were answered 503" % (refused, BURST))
        check(stats.get("busy-refused", 0) >= refused,
              "busy-refused %s, %d refusals on the wire" %
              (stats.get("busy-refused"), refused))

        # the burst is over: a new call is forwarded again
        uas.settimeout(0.05)
        for _ in range(4 * BURST):
            try:
                uas.recvfrom(65536)
            except socket.timeout:
                break
        t_end = time.monotonic()
        through = None
        uas.settimeout(0.3)
        for i in range(10):
            uac.sendto(invite(uac_port, uas_port, "after%d" % i), dst)
            try:
                for _ in range(50):
                    data, _ = uas.recvfrom(65536)
                    if b"after%d@ov" % i in data:
                        through = time.monotonic() - t_end
                        break
            except socket.timeout:
                pass
            if through is not None:
                break
        check(through is not None, "no INVITE forwarded within 3 s after "
              "the burst")
        print("recovered: an INVITE forwarded %.3f s after the burst" %
              through)
    finally:
        uac.close()
        uas.close()
        probe.close()
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
