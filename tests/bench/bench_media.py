#!/usr/bin/python3
"""bench_media.py: sipd's media relay against rtpengine, side by side, on
the loopback: packets relayed per CPU-second of the relay process at N
calls (default 500) of P packets a second (default 50) per direction.

Each relay gets the same calls: sipd through SIP (an INVITE with an SDP
offer naming endpoint A, 127.0.0.2, and a 200 with an answer naming
endpoint B, 127.0.0.3, through sipd with "set media-relay always");
rtpengine through its ng control protocol (offer and answer with the
same SDP).  The ports each side is given are written to a file and
bench_media -x (tests/bench/bench_media.c) pumps RTP between the two
endpoints through them with sendmmsg(), receives with recvmmsg(), and
divides the packets received by the relay process's CPU time (every
thread, user and system, /proc/PID/stat) over the pumping.

rtpengine is configured for userspace forwarding as its documentation
has it for a machine without the kernel module: --table=-1 (no kernel
forwarding, no fallback attempt), no configuration file but the command
line, one interface, a worker thread per core (--num-threads), logging
at errors only, no recording, no Redis, no HTTP or CLI listener,
and the ng flags a SIP proxy module sends for a plain RTP/AVP call
(ICE removed, origin and session connection replaced).

Not part of ctest.  Needs rtpengine (Debian's rtpengine-daemon) and a
build with -DSIPD_BENCH=ON.  The last line is
"media packets per CPU-second ratio vs rtpengine: X.XX" (sipd over
rtpengine)."""

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
A, B = "127.0.0.2", "127.0.0.3"


def free_udp(host):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def sdp(host, port, sess):
    return ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=sendrecv\r\n" % (sess, host, host, port))


def sdp_port(body):
    m = re.search(rb"^m=audio (\d+)", body, re.M)
    c = re.search(rb"^c=IN IP4 (\S+)", body, re.M)
    if m is None or c is None:
        raise RuntimeError("no audio in %r" % body[:300])
    return c.group(1).decode(), int(m.group(1))


# ------------------------------------------------------------------ sipd

def sip_recv(sock, want, timeout=5.0):
    """The next message on sock whose first line matches want."""
    deadline = time.monotonic() + timeout
    for _ in range(1000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data, src = sock.recvfrom(65536)
        except socket.timeout:
            break
        if re.match(want, data):
            return data, src
    raise RuntimeError("no %r" % want)


def header(data, name):
    m = re.search(rb"^" + name.encode() + rb":\s*(.*?)\r$", data,
                  re.M | re.I)
    return m.group(1) if m else None


def body_of(data):
    return data.partition(b"\r\n\r\n")[2]


def sipd_calls(sipd_port, n, pa, pb):
    """n calls through sipd; returns the lines for bench_media -x."""
    uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uac.bind((A, 0))
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uas.bind((B, 0))
    ua, ub = uac.getsockname()[1], uas.getsockname()[1]
    lines = []
    for i in range(n):
        cid = "bench-%d-%d@%s" % (i, random.getrandbits(32), A)
        offer = sdp(A, pa, i).encode()
        inv = ("INVITE sip:b@%s:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKb%d%d;rport\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:a@%s>;tag=a%d\r\n"
               "To: <sip:b@%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
               "Contact: <sip:a@%s:%d>\r\nContent-Type: application/sdp\r\n"
               "Content-Length: %d\r\n\r\n" % (
                   B, ub, A, ua, i, random.getrandbits(32), A, i, B, cid,
                   A, ua, len(offer))).encode() + offer
        uac.sendto(inv, (HOST, sipd_port))
        req, src = sip_recv(uas, rb"INVITE ")
        b_ip, b_port = sdp_port(body_of(req))
        answer = sdp(B, pb, i).encode()
        hdrs = b"".join(b"%s: %s\r\n" % (h, v) for h, v in (
            (b"Via", v) for v in re.findall(rb"^Via:\s*(.*?)\r$", req,
                                            re.M)))
        hdrs += b"".join(b"Record-Route: %s\r\n" % v for v in re.findall(
            rb"^Record-Route:\s*(.*?)\r$", req, re.M))
        resp = (b"SIP/2.0 200 OK\r\n" + hdrs +
                b"From: " + header(req, "From") + b"\r\n"
                b"To: " + header(req, "To") + b";tag=b%d\r\n" % i +
                b"Call-ID: " + header(req, "Call-ID") + b"\r\n"
                b"CSeq: 1 INVITE\r\nContact: <sip:b@%s:%d>\r\n" % (
                    B.encode(), ub) +
                b"Content-Type: application/sdp\r\n"
                b"Content-Length: %d\r\n\r\n" % len(answer) + answer)
        uas.sendto(resp, src)
        ok, _ = sip_recv(uac, rb"SIP/2.0 200 ")
        a_ip, a_port = sdp_port(body_of(ok))
        lines.append("%s %d %s %d" % (a_ip, a_port, b_ip, b_port))
    uac.close()
    uas.close()
    return lines


# ------------------------------------------------------------- rtpengine

def bencode(x):
    if isinstance(x, int):
        return b"i%de" % x
    if isinstance(x, str):
        x = x.encode()
    if isinstance(x, bytes):
        return b"%d:%s" % (len(x), x)
    if isinstance(x, list):
        return b"l" + b"".join(bencode(v) for v in x) + b"e"
    if isinstance(x, dict):
        return b"d" + b"".join(bencode(k) + bencode(v)
                               for k, v in sorted(x.items())) + b"e"
    raise TypeError(x)


def bdecode(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if c == b"l":
        out, i = [], i + 1
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        out, i = {}, i + 1
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    j = data.index(b":", i)
    n = int(data[i:j])
    return data[j + 1:j + 1 + n], j + 1 + n


def ng(sock, port, msg):
    cookie = "%08x" % random.getrandbits(32)
    sock.sendto(cookie.encode() + b" " + bencode(msg), (HOST, port))
    sock.settimeout(5)
    data, _ = sock.recvfrom(65536)
    reply, _ = bdecode(data, data.index(b" ") + 1)
    if reply.get(b"result") != b"ok":
        raise RuntimeError("rtpengine: %r" % reply)
    return reply


def rtpengine_calls(ng_port, n, pa, pb):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flags = {"ICE": "remove", "replace": ["origin", "session-connection"]}
    lines = []
    for i in range(n):
        cid = "bench-%d-%d" % (i, random.getrandbits(32))
        r = ng(sock, ng_port, dict(flags, command="offer", **{
            "call-id": cid, "from-tag": "a%d" % i, "sdp": sdp(A, pa, i)}))
        b_ip, b_port = sdp_port(r[b"sdp"])
        r = ng(sock, ng_port, dict(flags, command="answer", **{
            "call-id": cid, "from-tag": "a%d" % i, "to-tag": "b%d" % i,
            "sdp": sdp(B, pb, i)}))
        a_ip, a_port = sdp_port(r[b"sdp"])
        lines.append("%s %d %s %d" % (a_ip, a_port, b_ip, b_port))
    sock.close()
    return lines


# ------------------------------------------------------------------ runs

def wait_udp(port, timeout=10.0):
    """Until something has bound UDP port on HOST."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                return
        time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


def pump(args, lines, pid, pa, pb, workdir, name):
    path = os.path.join(workdir, name + ".calls")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = subprocess.run(
        [args.bench, "-x", path, "-P", str(pid), "-a", str(pa), "-b",
         str(pb), "-s", str(args.seconds), "-p", str(args.pps)],
        capture_output=True, text=True, timeout=args.seconds + 60)
    print("%s: %s" % (name, out.stdout.strip().replace("\n", "\n%s: " %
                                                          name)))
    if out.returncode != 0:
        raise RuntimeError("bench_media: %s" % out.stderr)
    m = re.search(r"packets per CPU-second: (\d+)", out.stdout)
    return float(m.group(1))


def run_sipd(args, workdir, pa, pb, binary=None, name="sipd"):
    port = args.sip_port or free_udp(HOST)
    conf = os.path.join(workdir, "sipd.conf")
    with open(conf, "w") as f:
        f.write("listener add udp %s:%d\nclient-ip add 127.0.0.0/8\n"
                "set reg-store %s\nset media-relay always\n"
                "set media-ports %d-%d\nset media-timeout 600\n"
                "log level all none\n" % (
                    HOST, port, os.path.join(workdir, "reg.db"),
                    args.port_min, args.port_max))
    proc = subprocess.Popen([binary or args.sipd, "-f", "-c", conf, "-s",
                             os.path.join(workdir, "sipd.sock")],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(workdir, "sipd.err"),
                                        "w"))
    try:
        wait_udp(port)
        lines = sipd_calls(port, args.calls, pa, pb)
        return pump(args, lines, proc.pid, pa, pb, workdir, name)
    finally:
        proc.terminate()
        proc.wait(10)


def run_rtpengine(args, workdir, pa, pb):
    port = args.sip_port + 1 if args.sip_port else free_udp(HOST)
    # its own configuration alone: not the packaged file's (which adds
    # listeners and settings of its own)
    argv = [args.rtpengine, "--config-file=none", "--foreground",
            "--table=-1",
            "--interface=%s" % HOST, "--listen-ng=%s:%d" % (HOST, port),
            "--port-min=%d" % args.port_min, "--port-max=%d" % args.port_max,
            "--num-threads=%d" % args.threads, "--log-level=3",
            "--log-stderr", "--timeout=600", "--delete-delay=0",
            "--pidfile=%s" % os.path.join(workdir, "rtpengine.pid")]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(workdir, "rtp.err"),
                                        "w"))
    try:
        wait_udp(port)
        lines = rtpengine_calls(port, args.calls, pa, pb)
        return pump(args, lines, proc.pid, pa, pb, workdir, "rtpengine")
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sipd", default=os.path.join(
        top, "build-bench/sipd/sipd"))
    ap.add_argument("--sipd-also", metavar="SIPD",
                    help="another sipd (another build) measured in the "
                    "same rounds, as \"sipd-also\" (the last line stays "
                    "--sipd's)")
    ap.add_argument("--bench", default=os.path.join(
        top, "build-bench/tests/bench/bench_media"))
    ap.add_argument("--rtpengine", default=shutil.which("rtpengine") or
                    "/usr/bin/rtpengine")
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--pps", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="rtpengine's worker threads (default: cores)")
    ap.add_argument("--sip-port", type=int, default=0,
                    help="sipd's SIP port, rtpengine's ng port the next "
                    "(default: free ports)")
    ap.add_argument("--port-min", type=int, default=30000)
    ap.add_argument("--port-max", type=int, default=39999)
    args = ap.parse_args()
    for tool in (args.sipd, args.bench, args.rtpengine) + (
            (args.sipd_also,) if args.sipd_also else ()):
        if not os.access(tool, os.X_OK):
            sys.exit("bench_media.py: %s is missing" % tool)
    pa, pb = free_udp(A), free_udp(B)
    figures = {"sipd": [], "rtpengine": []}
    if args.sipd_also:
        figures["sipd-also"] = []
    with tempfile.TemporaryDirectory(prefix="bench-media-") as workdir:
        for _ in range(args.runs):
            figures["sipd"].append(run_sipd(args, workdir, pa, pb))
            figures["rtpengine"].append(run_rtpengine(args, workdir, pa,
                                                      pb))
            if args.sipd_also:
                figures["sipd-also"].append(run_sipd(
                    args, workdir, pa, pb, args.sipd_also, "sipd-also"))
    med = {k: sorted(v)[len(v) // 2] for k, v in figures.items()}
    for k, v in figures.items():
        print("%s packets per CPU-second: %s (median %.0f)" % (
            k, ", ".join("%.0f" % x for x in v), med[k]))
    if args.sipd_also:
        print("sipd-also packets per CPU-second ratio vs rtpengine: %.2f" % (
            med["sipd-also"] / med["rtpengine"] if med["rtpengine"]
            else 0.0))
    print("media packets per CPU-second ratio vs rtpengine: %.2f" % (
        med["sipd"] / med["rtpengine"] if med["rtpengine"] else 0.0))


if __name__ == "__main__":
    main()
