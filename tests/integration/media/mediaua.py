"""The media tests' phones: a SIP user agent (sipua.UA) with an RTP and
an RTCP socket (an even port and the next) on a loopback address, that
offers and answers SDP, sends RTP packets and counts those it receives.
Also: reading sipd's relays back ("sipctl -j show media") and whether a
UDP port is bound (/proc/net/udp).  Every wait is bounded in time and in
count."""

import json
import os
import re
import socket
import struct
import time

import sipua
from sipdtest import Fail, check, new_tag, sipctl

MAX_PACKETS = 2000  # datagrams one count reads, at most


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def rtp_pair(host):
    """An RTP socket on an even port and an RTCP one on the next."""
    for _ in range(200):
        rtp = socket.socket(family(host), socket.SOCK_DGRAM)
        rtp.bind((host, 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            rtcp = socket.socket(family(host), socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, port + 1))
                return rtp, rtcp
            except OSError:
                rtcp.close()
        rtp.close()
    raise Fail("no free even port pair on %s" % host)


def sdp(host, port, extra=""):
    """An audio offer or answer: c= host, m= port, a=rtcp port + 1, and
    an ICE candidate (which a relayed call must not carry on)."""
    ip = "IP6" if ":" in host else "IP4"
    return ("v=0\r\n"
            "o=- 1 1 IN %s %s\r\n"
            "s=-\r\n"
            "c=IN %s %s\r\n"
            "t=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtcp:%d\r\n"
            "a=candidate:1 1 UDP 2130706431 %s %d typ host\r\n"
            "%s" % (ip, host, ip, host, port, port + 1, host, port, extra))


def sdp_media(body):
    """(c= address, [m= ports], a=rtcp ports) of an SDP body (bytes)."""
    text = body.decode("utf-8", "replace")
    c = re.findall(r"^c=IN IP[46] (\S+)", text, re.M)
    m = [int(p) for p in re.findall(r"^m=\w+ (\d+)", text, re.M)]
    rtcp = [int(p) for p in re.findall(r"^a=rtcp:(\d+)", text, re.M)]
    return (c[-1] if c else None), m, rtcp


class Phone(sipua.UA):
    """A UA on host with RTP sockets; builds requests with SDP bodies."""

    def __init__(self, host, advertise=None):
        """advertise: the address the phone writes for itself in Via,
        Contact and SDP (a phone behind a NAT writes its private one)."""
        self.host = host
        self.advertise = advertise
        self.sock = socket.socket(family(host), socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.seen = []
        self.rtp, self.rtcp = rtp_pair(host)
        self.ssrc = int.from_bytes(os.urandom(4), "big")
        self.seq = 0

    def close(self):
        super().close()
        self.rtp.close()
        self.rtcp.close()

    def hostport(self):
        h = self.advertise or self.host
        h = "[%s]" % h if ":" in h else h
        return "%s:%d" % (h, self.port)

    def uri(self, user="ua"):
        return "sip:%s@%s" % (user, self.hostport())

    def via(self, branch):
        return "SIP/2.0/UDP %s;branch=%s;rport" % (self.hostport(), branch)

    @property
    def rtp_port(self):
        return self.rtp.getsockname()[1]

    def move(self):
        """New RTP sockets (a re-INVITE moves the media)."""
        self.rtp.close()
        self.rtcp.close()
        self.rtp, self.rtcp = rtp_pair(self.host)

    def offer(self):
        return sdp(self.advertise or self.host, self.rtp_port)

    def send_rtp(self, host, port, count, gap=0.002):
        for _ in range(count):
            self.seq = (self.seq + 1) & 0xffff
            pkt = struct.pack("!BBHII", 0x80, 0, self.seq, self.seq * 160,
                              self.ssrc) + b"\xff" * 160
            self.rtp.sendto(pkt, (host, port))
            time.sleep(gap)

    def count_rtp(self, duration, sock=None, want=None):
        """Packets received on the RTP socket within duration seconds (or
        until want came: a loaded machine may be slow), and the set of
        their sources."""
        sock = sock or self.rtp
        n, srcs = 0, set()
        deadline = time.monotonic() + duration
        for _ in range(MAX_PACKETS):
            if want is not None and n >= want:
                # a moment more for any extra packet to show
                deadline = min(deadline, time.monotonic() + 0.1)
                want = None
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                _, src = sock.recvfrom(4096)
            except socket.timeout:
                break
            n += 1
            srcs.add(src)
        return n, srcs


class Call(sipua.Call):
    """sipua.Call with an IPv6 caller's From host in brackets."""

    def request(self, *args, **kw):
        data = super().request(*args, **kw)
        if ":" in self.ua.host:
            data = data.replace(b"<sip:uac@%s>" % self.ua.host.encode(),
                                b"<sip:uac@[%s]>" % self.ua.host.encode())
        return data


def with_body(data, body, ctype="application/sdp"):
    """A message built by sipua (Content-Length: 0, no body) given body."""
    body = body.encode() if isinstance(body, str) else body
    head = data.replace(b"Content-Length: 0\r\n\r\n", b"")
    return (head + b"Content-Type: " + ctype.encode() +
            b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def invite(call, uri, body, extra=(), ctype="application/sdp"):
    data = call.request("INVITE", uri=uri, extra=extra)
    return data if body is None else with_body(data, body, ctype)


def respond_sdp(ua, req, status, body, to_tag=None):
    """Answer req with status and SDP body, to its top Via."""
    to = req.first("To")
    if sipua.param(to, "tag") is None:
        to += ";tag=%s" % (to_tag or new_tag())
    hdrs = [("Via", v) for v in req.get("Via")]
    hdrs += [("Record-Route", v) for v in req.get("Record-Route")]
    hdrs += [("From", req.first("From")), ("To", to),
             ("Call-ID", req.call_id()), ("CSeq", req.first("CSeq")),
             ("Contact", "<%s>" % ua.uri("uas"))]
    text = "SIP/2.0 %d %s\r\n" % (status, sipua.REASONS.get(status, "OK"))
    text += "".join("%s: %s\r\n" % h for h in hdrs)
    data = with_body(text.encode() + b"Content-Length: 0\r\n\r\n", body)
    ua.send_response(req, data)
    return to


def in_dialog(call, method, resp, to, body=None):
    """A request of the dialog resp (a 2xx to the INVITE) set up: to its
    Contact, by its Record-Route (RFC 3261 12.2.1.1)."""
    contact = resp.first("Contact").strip("<>")
    routes = list(reversed(resp.get("Record-Route")))
    data = call.request(method, uri=contact, to=to,
                        extra=[("Route", r) for r in routes])
    return data if body is None else with_body(data, body)


def callee_request(callee, inv, method, caller_contact, to_tag):
    """A request the callee sends in the dialog of the INVITE inv it
    received: From and To swapped, to the caller's Contact, by the
    Record-Route in order (RFC 3261 12.1.1)."""
    branch = "z9hG4bK%s" % new_tag()
    routes = inv.get("Record-Route")
    hdrs = [("Via", callee.via(branch)), ("Max-Forwards", "70"),
            ("From", inv.first("To") + ";tag=" + to_tag),
            ("To", inv.first("From")), ("Call-ID", inv.call_id()),
            ("CSeq", "%d %s" % (100, method))]
    hdrs += [("Route", r) for r in routes]
    text = "%s %s SIP/2.0\r\n" % (method, caller_contact)
    text += "".join("%s: %s\r\n" % h for h in hdrs)
    return text.encode() + b"Content-Length: 0\r\n\r\n"


def relays(sipd):
    """sipd's relays, as "show media" lists them."""
    p = sipctl(sipd, "-j", "show", "media")
    check(p.returncode == 0, "show media: %r" % p.stderr)
    return json.loads(p.stdout)["data"]


def udp_inodes(pid):
    """The inodes of the sockets process pid holds open."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def udp_bound(port, pid=None):
    """Is a UDP socket (IPv4 or IPv6) bound to port on this host, or, with
    pid, one that process pid holds?  (Another test's socket on the same
    port, an ephemeral port the kernel gave it, is not sipd's.)"""
    inodes = udp_inodes(pid) if pid is not None else None
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if (int(cols[1].rsplit(":", 1)[1], 16) == port and
                    (inodes is None or cols[9] in inodes)):
                return True
    return False


def free_range(pairs):
    """A "MIN-MAX" range of pairs even/odd UDP port pairs that nothing on
    this host has bound right now (other tests run beside this one)."""
    import random
    for _ in range(200):
        lo = random.randrange(30000, 60000, 2)
        if not any(udp_bound(p) for p in range(lo, lo + 2 * pairs)):
            return lo, lo + 2 * pairs - 1
    raise Fail("no free range of %d UDP port pairs" % pairs)


def wait_no_relays(sipd, ports, timeout=5.0):
    """Wait until sipd lists no relay and holds none of ports bound (a
    freed relay's ports close at the relay thread's next round)."""
    deadline = time.monotonic() + timeout
    for _ in range(100):
        rows = relays(sipd)
        bound = [p for p in ports if udp_bound(p, sipd.proc.pid)]
        if not rows and not bound:
            return
        if time.monotonic() > deadline:
            raise Fail("relays left: %r, ports still bound: %r" % (
                rows, bound))
        time.sleep(0.05)
