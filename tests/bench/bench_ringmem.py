#!/usr/bin/python3
"""bench_ringmem.py: the heap a ringing call holds in sipd, exactly.

Runs sipd as bench_proxy.py's `hold` phase does (one UDP worker, a static
route for bench.invalid, force-rr on) with memprobe.c preloaded, and plays
caller and callee itself: each INVITE (bench_proxy.py's uac.xml, SDP
included) is answered 180 by the callee and the caller sees the 180, so
sipd holds per call one INVITE server and one INVITE client transaction
in Proceeding, the response context and the call table's entry.  The
heap in use (mallinfo2(), every arena) and the allocations live are read
before and after N such calls, over a warm-up of calls rung and
cancelled first; the difference over N is the figure, the same on every
run of the same build, whatever the machine's load.  The calls are then
cancelled (the callee answers 487, the caller ACKs).

usage: bench_ringmem.py PATH-TO-SIPD [--calls N] [--warm N] [--json PATH]
The last line: `heap per ringing call: B bytes`.  Needs cc and glibc.
tests/integration/proxy/ring-memory runs it as a regression test.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import sipdtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"
DOMAIN = "bench.invalid"
SDP = ("v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
       "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
       "a=rtpmap:0 PCMU/8000\r\n")
BATCH = 50          # INVITEs in flight at once
WAIT_S = 5.0        # for any one answer


class Probe:
    """The FIFOs memprobe.c answers on."""

    def __init__(self, d):
        self.req = os.path.join(d, "req")
        self.resp = os.path.join(d, "resp")
        os.mkfifo(self.req)
        os.mkfifo(self.resp)

    def env(self, lib):
        return ["env", "LD_PRELOAD=" + lib, "MEMPROBE_REQ=" + self.req,
                "MEMPROBE_RESP=" + self.resp]

    def read(self):
        # opening a FIFO blocks until the other end opens: bounded by
        # an alarm-free poll of the O_NONBLOCK writer
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                fd = os.open(self.req, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise sipdtest.Fail("memprobe does not answer")
                time.sleep(0.01)
        os.write(fd, b"q\n")
        os.close(fd)
        with open(self.resp) as f:
            line = f.read()
        return {k: int(v) for k, v in
                (kv.split("=") for kv in line.split())}


def invite(i, uac_port, sipd_port):
    body = SDP.encode()
    return ("INVITE sip:service@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d-1-0\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:bench@%s:%d>;tag=%d\r\n"
            "To: <sip:service@%s>\r\n"
            "Call-ID: %d-ringmem@%s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:bench@%s:%d;transport=UDP>\r\n"
            "Content-Type: application/sdp\r\n"
            "Content-Length: %d\r\n\r\n" %
            (DOMAIN, HOST, uac_port, i, HOST, uac_port, i, DOMAIN, i, HOST,
             HOST, uac_port, len(body))).encode() + body


def cancel(i, uac_port):
    return ("CANCEL sip:service@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d-1-0\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:bench@%s:%d>;tag=%d\r\n"
            "To: <sip:service@%s>\r\n"
            "Call-ID: %d-ringmem@%s\r\n"
            "CSeq: 1 CANCEL\r\n"
            "Content-Length: 0\r\n\r\n" %
            (DOMAIN, HOST, uac_port, i, HOST, uac_port, i, DOMAIN, i,
             HOST)).encode()


def answer(data, status, reason, tag):
    """The callee's response to the request data: Via, Record-Route,
    From, To (tagged), Call-ID and CSeq copied, as uas.xml does."""
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")
    out = ["SIP/2.0 %d %s" % (status, reason)]
    for line in lines[1:]:
        name = line.split(":", 1)[0].strip().lower()
        if name in ("via", "v", "record-route", "from", "f", "call-id", "i",
                    "cseq"):
            out.append(line)
        elif name in ("to", "t"):
            out.append(line + ";tag=%sb" % tag)
    out.append("Contact: <sip:callee@%s:%d;transport=UDP>" % (HOST, 1))
    out.append("Content-Length: 0")
    return ("\r\n".join(out) + "\r\n\r\n").encode()


def recv_all(sock, want, timeout):
    """Datagrams until want(datagram) has said True for every one
    expected (it returns True when done); bounded by timeout."""
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        got.append(data)
        if want(data):
            return got
    return got


def call_of(data):
    """The call number in a datagram's Call-ID."""
    return data.split(b"Call-ID: ", 1)[1].split(b"-", 1)[0]


def ring(first, n, uac, uas, sipd_port, invites):
    """Calls first..first+n-1 ringing: INVITE, the callee's 180, the
    caller's 180 seen.  Returns how many rang and the 180 each caller
    got, by number; ring.invites keeps each INVITE the callee got."""
    rang = 0
    got = {}
    for b in range(first, first + n, BATCH):
        ids = list(range(b, min(b + BATCH, first + n)))
        for i in ids:
            uac.sendto(invites(i), (HOST, sipd_port))
        seen = set()

        def at_uas(data):
            if data.startswith(b"INVITE "):
                cid = call_of(data)
                if cid not in seen:
                    seen.add(cid)
                    ring.invites[cid] = data
                    uas.sendto(answer(data, 180, "Ringing", cid.decode()),
                               (HOST, sipd_port))
            return len(seen) == len(ids)
        recv_all(uas, at_uas, WAIT_S)
        ringing = set()

        def at_uac(data):
            if data.startswith(b"SIP/2.0 180"):
                ringing.add(call_of(data))
                got[int(call_of(data))] = data
            return len(ringing) == len(ids)
        recv_all(uac, at_uac, WAIT_S)
        rang += len(ringing)
    return rang, got


ring.invites = {}


def ack(resp, uac_port):
    """The caller's ACK of a 487 (RFC 3261 17.1.1.3: the INVITE's
    branch, the 487's To)."""
    head = resp.split(b"\r\n\r\n", 1)[0].decode()
    to = [line for line in head.split("\r\n")
          if line.lower().startswith("to:")][0]
    i = int(call_of(resp))
    return ("ACK sip:service@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d-1-0\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:bench@%s:%d>;tag=%d\r\n"
            "%s\r\n"
            "Call-ID: %d-ringmem@%s\r\n"
            "CSeq: 1 ACK\r\n"
            "Content-Length: 0\r\n\r\n" %
            (DOMAIN, HOST, uac_port, i, HOST, uac_port, i, to, i,
             HOST)).encode()


def cancel_all(ids, uac, uas, sipd_port, uac_port):
    """CANCEL each ringing call of ids; the callee answers each CANCEL
    200 and its INVITE 487, the caller ACKs each 487.  Returns how many
    487s the caller got (bounded by time)."""
    ended = set()
    want = set(ids)
    for i in ids:
        uac.sendto(cancel(i, uac_port), (HOST, sipd_port))

    def at_uas(data):
        if data.startswith(b"CANCEL "):
            cid = call_of(data)
            uas.sendto(answer(data, 200, "OK", "c"), (HOST, sipd_port))
            uas.sendto(answer(ring.invites[cid], 487, "Request Terminated",
                              cid.decode()), (HOST, sipd_port))
        return False

    def at_uac(data):
        if data.startswith(b"SIP/2.0 487") and b"1 INVITE" in data:
            uac.sendto(ack(data, uac_port), (HOST, sipd_port))
            ended.add(int(call_of(data)))
        return want <= ended
    deadline = time.monotonic() + 4 * WAIT_S
    while not want <= ended and time.monotonic() < deadline:
        recv_all(uas, at_uas, 0.05)
        recv_all(uac, at_uac, 0.05)
    return len(want & ended)


def measure(binary, calls=1000, warm=200, started=None):
    """Ring warm calls and cancel them, then ring calls more and read the
    heap: a dict with heap_bytes_per_call, allocs_live_per_call and the
    raw readings.  Checks on the way, as the caller received them: every
    call rang; a retransmitted INVITE of a ringing call gets its 180
    again, the same bytes (RFC 3261 17.2.1); each CANCEL of one gets a
    487 for the INVITE (built from the request kept as bytes).  started,
    a list, receives the Sipd (for sipdtest.run()'s logs)."""
    with tempfile.TemporaryDirectory(prefix="bench_ringmem-") as d:
        lib = os.path.join(d, "memprobe.so")
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-pthread", "-o",
                        lib, os.path.join(HERE, "memprobe.c")], check=True)
        probe = Probe(d)
        uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (uac, uas):
            s.bind((HOST, 0))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        uac_port = uac.getsockname()[1]
        uas_port = uas.getsockname()[1]
        sipd = sipdtest.Sipd(binary, clients=True, conf=(
            "route add %s %s:%d\nset force-rr on\nset processors 1\n"
            "log level all none\n" % (DOMAIN, HOST, uas_port)))
        sipd.wrapper = probe.env(lib)
        if started is not None:
            started.append(sipd)
        with sipd:
            port = sipd.port

            def inv(i):
                return invite(i, uac_port, port)
            # warm-up: ring and cancel, then wait for the CANCELs' and
            # 487s' transactions to be through (they wait 64*T1 on little)
            warm_rang, _ = ring(1, warm, uac, uas, port, inv)
            cancel_all(range(1, warm + 1), uac, uas, port, uac_port)
            time.sleep(1.0)
            before = probe.read()
            first = warm + 1
            rang, ringing = ring(first, calls, uac, uas, port, inv)
            time.sleep(0.5)
            held = probe.read()
            sipdtest.check(rang == calls,
                           "%d of %d calls rang" % (rang, calls))
            sipdtest.check(sipd.alive(), "sipd stopped")
            res = dict(
                calls=calls, warm=warm_rang, before=before, held=held,
                heap_bytes_per_call=round(
                    (held["inuse"] + held["mmap"] - before["inuse"] -
                     before["mmap"]) / calls, 1),
                allocs_live_per_call=round(
                    ((held["allocs"] - held["frees"]) -
                     (before["allocs"] - before["frees"])) / calls, 2),
                allocs_per_call=round(
                    (held["allocs"] - before["allocs"]) / calls, 2))
            # RFC 3261 17.2.1: a retransmission gets the last provisional
            uac.sendto(inv(first), (HOST, port))
            again = recv_all(uac, lambda data: True, WAIT_S)
            sipdtest.check(again == [ringing[first]],
                           "the INVITE sent again got %r, not its 180 %r" %
                           (again, ringing[first]))
            ended = cancel_all(range(first, first + calls), uac, uas, port,
                               uac_port)
            sipdtest.check(ended == calls,
                           "%d of %d cancelled calls got a 487" %
                           (ended, calls))
            time.sleep(0.5)
            res["after_cancel"] = probe.read()
            sipdtest.check(sipd.alive(), "sipd stopped")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sipd")
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--warm", type=int, default=200,
                    help="calls rung and cancelled first, so that what "
                    "sipd makes once (buffers, tables) is not counted")
    ap.add_argument("--json")
    args = ap.parse_args()
    res = measure(args.sipd, args.calls, args.warm)
    print("sipd %s: %d calls ringing over %d warm-up calls" %
          (args.sipd, args.calls, args.warm))
    print("  heap in use %d -> %d B (mmap %d -> %d); allocations live "
          "+%.2f a call, made %.2f a call" % (
              res["before"]["inuse"], res["held"]["inuse"],
              res["before"]["mmap"], res["held"]["mmap"],
              res["allocs_live_per_call"], res["allocs_per_call"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    print("heap per ringing call: %.0f bytes" % res["heap_bytes_per_call"])


if __name__ == "__main__":
    main()
