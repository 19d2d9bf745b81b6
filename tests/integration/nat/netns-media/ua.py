#!/usr/bin/python3
"""The phones of the media case, run inside network namespaces by test.py
(ip netns exec), each with an RTP socket (an even port, RTCP on the
next), reporting what they see as JSON lines on stdout.  Every wait is
bounded in time and in count.

  ua.py phone SIPD_HOST PORT LOCAL_IP USER PASSWORD PACKETS SECONDS
      REGISTER USER@example.com from LOCAL_IP (digest); answer the first
      INVITE 200 with SDP naming LOCAL_IP and its RTP port and report
      the offer's c= and m= ports ("invite"); after the ACK send PACKETS
      RTP packets to the offer's address and port, and count the RTP
      packets that reach its RTP socket until a BYE comes, answered 200
      ("bye", with the count and their sources).
  ua.py call SIPD_HOST PORT LOCAL_IP URI PACKETS SECONDS
      INVITE URI with SDP naming LOCAL_IP and its RTP port; report the
      final status and the answer's c= and m= ports ("final"); ACK it;
      count the RTP packets that come within 3 s (or until PACKETS came),
      then send PACKETS to the answer's address and port ("heard"); wait
      for a line on stdin, then BYE the call through its route set and
      report the BYE's final status ("bye")."""

import json
import os
import re
import select
import socket
import struct
import sys
import time

import sipreg
from sipua import UA, Call, Msg

GAP = 0.01  # seconds between RTP packets


def say(**kw):
    print(json.dumps(kw), flush=True)


def rtp_socket(host):
    """An RTP socket on an even port whose next port is free too (kept
    bound, as the RTCP socket)."""
    for _ in range(200):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((host, 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, port + 1))
                return rtp, rtcp
            except OSError:
                rtcp.close()
        rtp.close()
    raise RuntimeError("no even port pair on %s" % host)


def sdp(host, port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtcp:%d\r\n" % (host, host, port, port + 1))


def sdp_media(body):
    text = body.decode("utf-8", "replace")
    c = re.findall(r"^c=IN IP4 (\S+)", text, re.M)
    m = [int(p) for p in re.findall(r"^m=\w+ (\d+)", text, re.M)]
    return (c[-1] if c else None), m


def with_body(data, body):
    head = data.replace(b"Content-Length: 0\r\n\r\n", b"")
    body = body.encode()
    return (head + b"Content-Type: application/sdp\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body)


def send_rtp(sock, dst, count):
    ssrc = int.from_bytes(os.urandom(4), "big")
    for seq in range(1, count + 1):
        pkt = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, ssrc)
        try:
            sock.sendto(pkt + b"\xff" * 160, dst)
        except OSError:
            pass  # no route: a call without a relay
        time.sleep(GAP)


class SdpUA(UA):
    """A UA whose responses carry body (None: none)."""

    body = None

    def send_response(self, req, data):
        if self.body is not None:
            data = with_body(data, self.body)
        super().send_response(req, data)


def phone(host, port, local, user, password, packets, seconds):
    ua = SdpUA(local)
    rtp, rtcp = rtp_socket(local)
    c = sipreg.RegClient(ua, port, user, password, sipd_host=host)
    r = c.register(["<%s>" % ua.uri(user)], expires=600)
    say(ev="register", status=r.status)
    deadline = time.monotonic() + seconds
    offer, got, srcs = None, 0, set()
    for _ in range(100000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([ua.sock, rtp], [], [], left)
        if rtp in ready:
            _, src = rtp.recvfrom(4096)
            got += 1
            srcs.add("%s:%d" % src)
        if ua.sock not in ready:
            continue
        data, src = ua.sock.recvfrom(65536)
        if data.strip(b"\r\n") == b"":
            continue
        m = Msg(data, src)
        if not m.is_request():
            continue
        if m.method == "INVITE" and offer is None:
            offer = sdp_media(m.body)
            say(ev="invite", c=offer[0], m=offer[1])
            ua.body = sdp(local, rtp.getsockname()[1])
            ua.respond(m, 200)
            ua.body = None
        elif m.method == "ACK" and offer is not None and offer[1]:
            say(ev="ack")
            send_rtp(rtp, (offer[0], offer[1][0]), packets)
            say(ev="sent")
        elif m.method == "BYE":
            ua.respond(m, 200)
            say(ev="bye", got=got, srcs=sorted(srcs))
            break
    rtp.close()
    rtcp.close()
    ua.close()


def call(host, port, local, uri, packets, seconds):
    ua = UA(local)
    rtp, rtcp = rtp_socket(local)
    c = Call(ua, uri)
    ua.send(with_body(c.request("INVITE"), sdp(local,
                                               rtp.getsockname()[1])),
            port, host)
    m = ua.expect("a final answer to the INVITE",
                  lambda x: not x.is_request() and x.call_id() == c.call_id
                  and x.status >= 200, seconds)
    answer = sdp_media(m.body)
    say(ev="final", status=m.status, c=answer[0], m=answer[1])
    ua.send(c.ack(m), port, host)
    if m.status != 200 or not answer[1]:
        return
    got, srcs = 0, set()
    deadline = time.monotonic() + 3
    for _ in range(packets):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        rtp.settimeout(left)
        try:
            _, src = rtp.recvfrom(4096)
        except socket.timeout:
            break
        got += 1
        srcs.add("%s:%d" % src)
    send_rtp(rtp, (answer[0], answer[1][0]), packets)
    say(ev="heard", got=got, srcs=sorted(srcs))
    select.select([sys.stdin], [], [], seconds)
    to = m.first("To")
    contact = m.first("Contact").strip("<>")
    routes = [("Route", r) for r in reversed(m.get("Record-Route"))]
    ua.send(c.request("BYE", uri=contact, to=to, extra=routes), port, host)
    r = ua.expect("BYE's answer",
                  lambda x: not x.is_request() and
                  x.cseq()[1] == "BYE" and x.status >= 200, seconds)
    say(ev="bye", status=r.status)
    rtp.close()
    rtcp.close()
    ua.close()


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "phone":
        phone(a[1], int(a[2]), a[3], a[4], a[5], int(a[6]), float(a[7]))
    else:
        call(a[1], int(a[2]), a[3], a[4], int(a[5]), float(a[6]))
