"""The proxy tests' side of SIP: a minimal user agent (UDP, TCP, TLS), sipd
started as a proxy (TCP and TLS listeners, one or two workers), sipd's
SIPDATA log lines read back as messages, and sipp runs.

Used by tests/integration/proxy/<case>/test.py with sipdtest.py.  The
number of sipd workers comes from SIPD_TEST_PROCESSORS (default 1), so
one script is registered twice: as proxy/<case> and proxy/<case>-2w.
Every wait here is bounded in time and in count.
"""

import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import time

from sipdtest import Fail, Sipd, Skip, check, new_tag

MAX_READS = 1000  # datagrams read by one wait, at most
T1 = 0.5          # RFC 3261 T1, sipd's default (set t1)
# A timer fires within its wheel slot (8 ms) and the worker's tick (10
# ms): no sooner than its value less this.
GRAIN = 0.02


def silence(timer=T1):
    """How long to listen to be sure that a message timer would send
    (a retransmission: first after T1) did not come: twice the timer,
    so that even a late first firing falls inside."""
    return 2 * timer

# RFC 3261 7.3.3: compact header names
COMPACT = {"v": "Via", "f": "From", "t": "To", "i": "Call-ID",
           "m": "Contact", "l": "Content-Length", "c": "Content-Type",
           "k": "Supported", "s": "Subject"}
# headers whose lines may carry several comma-separated values
LISTS = {"via", "route", "record-route"}


def processors():
    """The worker count this run is for (SIPD_TEST_PROCESSORS)."""
    return int(os.environ.get("SIPD_TEST_PROCESSORS", "1"))


def split_list(value):
    """A header value split at commas outside <> and quotes."""
    out, cur, depth, quoted = [], "", 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def param(value, name):
    """The value of ;name=... in a header value, or None."""
    m = re.search(r";\s*%s\s*=\s*([^;,\s>]+)" % re.escape(name), value,
                  re.IGNORECASE)
    return m.group(1) if m else None


def unsigned_rr(value):
    """sipd's Record-Route entry value without its signature (the ;sig=
    parameter of 24 hex digits it puts on every entry), or None when the
    entry carries none."""
    m = re.match(r"(<sip:[^;>]*(?:;[^;>]*)*?;lr);sig=[0-9a-f]{24}>$", value)
    return m.group(1) + ">" if m else None


def branches(msg):
    """The branches of msg's Vias, top first."""
    return [param(v, "branch") for v in msg.get("Via")]


def via_sent_by(via):
    """(host, port) a response to this Via goes to (RFC 3581: received and
    rport when present)."""
    m = re.match(r"SIP/2\.0/\w+\s+(\[[^\]]+\]|[^;:\s]+)(?::(\d+))?", via)
    check(m is not None, "cannot read Via %r" % via)
    host = param(via, "received") or m.group(1).strip("[]")
    rport = param(via, "rport")
    port = int(rport) if rport else int(m.group(2) or 5060)
    return host, port


class Msg:
    """A parsed SIP message: a request (method, uri) or a response (status,
    reason), its headers in order as (name, value), its body, and src (the
    address it came from, when received).  strict (the default, for
    what a peer received): the headers must end with an empty line and
    the body be as long as Content-Length says (RFC 3261 7.5, 18.3)."""

    def __init__(self, data, src=None, strict=True):
        self.raw = data
        self.src = src
        check(not strict or b"\r\n\r\n" in data,
              "a message without the empty line that ends the headers: "
              "%r" % data[-200:])
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("utf-8", "replace").split("\r\n")
        self.start = lines[0]
        parts = self.start.split(" ", 2)
        check(len(parts) == 3, "not a SIP message: %r" % self.start)
        if parts[0] == "SIP/2.0":
            self.method, self.uri = None, None
            self.status, self.reason = int(parts[1]), parts[2]
        else:
            self.method, self.uri = parts[0], parts[1]
            self.status, self.reason = None, None
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip()
            self.headers.append((COMPACT.get(name.lower(), name),
                                 value.strip()))
        size = self.first("Content-Length")
        check(not strict or size is None or
              (size.strip().isdigit() and int(size) == len(self.body)),
              "Content-Length %s with a body of %d bytes: %r" % (
                  size, len(self.body), data[-200:]))

    def is_request(self):
        return self.method is not None

    def get(self, name):
        """Every value of header name, comma lists split, in order."""
        out = []
        for n, v in self.headers:
            if n.lower() == name.lower():
                out += split_list(v) if n.lower() in LISTS else [v]
        return out

    def first(self, name):
        values = self.get(name)
        return values[0] if values else None

    def cseq(self):
        num, _, method = (self.first("CSeq") or "0 ?").partition(" ")
        return int(num), method.strip()

    def branch(self, i=0):
        """The branch of the Via number i (0: the top one)."""
        vias = self.get("Via")
        return param(vias[i], "branch") if len(vias) > i else None

    def call_id(self):
        return self.first("Call-ID")

    def __repr__(self):
        return "<%s %s>" % (self.start, self.call_id())


class UA:
    """A SIP user agent on a UDP socket on the loopback: builds requests,
    answers requests, and waits for messages."""

    transport = "UDP"

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.seen = []  # every message received, in order

    def close(self):
        self.sock.close()

    def uri(self, user="ua"):
        t = "" if self.transport == "UDP" else ";transport=%s" % (
            self.transport.lower())
        return "sip:%s@%s:%d%s" % (user, self.host, self.port, t)

    def via(self, branch):
        return "SIP/2.0/%s %s:%d;branch=%s;rport" % (
            self.transport, self.host, self.port, branch)

    def send(self, data, port, host="127.0.0.1"):
        self.sock.sendto(data, (host, port))

    def recv(self, timeout):
        """The next message (a Msg), or None after timeout seconds."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, src = self.sock.recvfrom(65536)
        except socket.timeout:
            return None
        m = Msg(data, src)
        self.seen.append(m)
        return m

    def collect(self, duration):
        """Every message received during duration seconds."""
        out = []
        deadline = time.monotonic() + duration
        for _ in range(MAX_READS):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            m = self.recv(left)
            if m is None:
                break
            out.append(m)
        return out

    def expect(self, what, match, timeout=3.0):
        """The first message for which match(msg) is true, within timeout
        seconds; others received meanwhile are passed over (kept in
        self.seen).  Fails naming what was expected and what came."""
        deadline = time.monotonic() + timeout
        skipped = []
        for _ in range(MAX_READS):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            m = self.recv(left)
            if m is None:
                break
            if match(m):
                return m
            skipped.append(m.start)
        raise Fail("UA %d: no %s within %.1f s (received instead: %s)" % (
            self.port, what, timeout, skipped or "nothing"))

    def expect_response(self, status, call, method=None, timeout=3.0):
        """The response with status to call's request method (default: its
        last), within timeout."""
        method = method or call.method
        return self.expect(
            "%d to %s" % (status, method),
            lambda m: (not m.is_request() and m.status == status and
                       m.call_id() == call.call_id and
                       m.cseq()[1] == method),
            timeout)

    def expect_request(self, method, call_id=None, timeout=3.0):
        return self.expect(
            method,
            lambda m: (m.is_request() and m.method == method and
                       (call_id is None or m.call_id() == call_id)),
            timeout)

    def respond(self, req, status, reason=None, to_tag=None, extra=()):
        """Answer req with status, sent to where its top Via says; returns
        the bytes sent.  A To tag is added to non-100 responses when req
        has none (to_tag, or a new one)."""
        to = req.first("To")
        if status > 100 and param(to, "tag") is None:
            to += ";tag=%s" % (to_tag or new_tag())
        hdrs = [("Via", v) for v in req.get("Via")]
        if 100 < status < 300:
            # RFC 3261 12.1.1: the Record-Route set comes back as it was
            hdrs += [("Record-Route", v) for v in req.get("Record-Route")]
        hdrs += [("From", req.first("From")), ("To", to),
                 ("Call-ID", req.call_id()), ("CSeq", req.first("CSeq"))]
        if req.method == "INVITE" and 100 < status < 300:
            hdrs.append(("Contact", "<%s>" % self.uri("uas")))
        hdrs += list(extra)
        hdrs.append(("Content-Length", "0"))
        text = "SIP/2.0 %d %s\r\n" % (status, reason or REASONS.get(
            status, "Whatever"))
        text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
        data = text.encode()
        self.send_response(req, data)
        return data

    def send_response(self, req, data):
        """RFC 3261 18.2.2 over UDP: to the top Via."""
        host, port = via_sent_by(req.first("Via"))
        self.send(data, port, host)


def frame(buf):
    """(message, rest) when buf starts with a whole message (framed by
    Content-Length, RFC 3261 18.3), else (None, buf); CRLF keep-alives
    before it are dropped."""
    buf = buf.lstrip(b"\r\n")
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    m = re.search(rb"\r\n(?:Content-Length|l)\s*:\s*(\d+)", buf[:end + 2],
                  re.IGNORECASE)
    size = end + 4 + (int(m.group(1)) if m else 0)
    if len(buf) < size:
        return None, buf
    return buf[:size], buf[size:]


class StreamUA(UA):
    """A user agent over TCP or TLS (ctx: an ssl.SSLContext): listening
    on host (a UAS, connections accepted as they come), or with connect=
    (host, port) one connection to there (a UAC); port: the port to
    listen on (default the kernel's pick).  Messages are read
    from every connection; a response goes back on the connection its
    request came on (RFC 3261 18.2.2)."""

    def __init__(self, host="127.0.0.1", ctx=None, connect=None, port=0):
        self.host = host
        self.ctx = ctx
        self.transport = "TLS" if ctx else "TCP"
        self.seen = []
        self.conns = {}  # socket: bytes read and not yet framed
        self.listener = None
        self.sock = None
        if connect is None:
            self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.listener.bind((host, port))
            self.listener.listen(8)
            self.port = self.listener.getsockname()[1]
        else:
            s = socket.create_connection(connect, timeout=5,
                                         source_address=(host, 0))
            if ctx is not None:
                s = ctx.wrap_socket(s, server_hostname=connect[0])
            s.setblocking(False)
            self.port = s.getsockname()[1]
            self.sock = s
            self.conns[s] = b""

    def close(self):
        for s in list(self.conns):
            s.close()
        if self.listener is not None:
            self.listener.close()

    def send(self, data, port=None, host=None):
        """Over the UAC's connection (the address is sipd's anyway)."""
        self.sock.sendall(data)

    def send_response(self, req, data):
        req.conn.sendall(data)

    def recv(self, timeout):
        deadline = time.monotonic() + timeout
        for _ in range(MAX_READS):
            for s, buf in self.conns.items():
                data, rest = frame(buf)
                if data is not None:
                    self.conns[s] = rest
                    m = Msg(data, s.getpeername())
                    m.conn = s
                    self.seen.append(m)
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            # TLS may hold decrypted bytes select() cannot see
            ready = [s for s in self.conns
                     if isinstance(s, ssl.SSLSocket) and s.pending()]
            if not ready:
                waiting = list(self.conns)
                if self.listener is not None:
                    waiting.append(self.listener)
                ready, _, _ = select.select(waiting, [], [], left)
            for s in ready:
                if s is self.listener:
                    c, _ = self.listener.accept()
                    c.settimeout(5)
                    if self.ctx is not None:
                        c = self.ctx.wrap_socket(c, server_side=True)
                    c.setblocking(False)
                    self.conns[c] = b""
                    continue
                try:
                    data = s.recv(65536)
                except (BlockingIOError, ssl.SSLWantReadError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    del self.conns[s]
                    s.close()
                    continue
                self.conns[s] += data
        return None


REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 408: "Request Timeout",
           481: "Call/Transaction Does Not Exist", 486: "Busy Here",
           487: "Request Terminated"}


class Call:
    """The identifiers of one call at a UAC (ua): Call-ID, tags, CSeq, and
    the branch of the last request, to build its requests, CANCEL and
    ACK."""

    def __init__(self, ua, uri, call_id=None):
        self.ua = ua
        self.uri = uri
        self.call_id = call_id or "%s@sipua" % new_tag()
        self.from_tag = new_tag()
        self.to = "<%s>" % uri
        self.cseq = 0
        self.method = None
        self.branch = None

    def request(self, method, uri=None, branch=None, cseq=None,
                max_forwards=70, extra=(), to=None):
        """A request of this call as bytes: a new transaction unless
        branch is given.  max_forwards None leaves the header out."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        self.method = method
        self.branch = branch or "z9hG4bK%s%s" % (new_tag(), new_tag())
        hdrs = [("Via", self.ua.via(self.branch))]
        if max_forwards is not None:
            hdrs.append(("Max-Forwards", str(max_forwards)))
        hdrs += [("From", "<sip:uac@%s>;tag=%s" % (self.ua.host,
                                                   self.from_tag)),
                 ("To", to or self.to),
                 ("Call-ID", self.call_id),
                 ("CSeq", "%d %s" % (cseq, method))]
        if method == "INVITE":
            hdrs.append(("Contact", "<%s>" % self.ua.uri("uac")))
        hdrs += list(extra)
        hdrs.append(("Content-Length", "0"))
        text = "%s %s SIP/2.0\r\n" % (method, uri or self.uri)
        text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
        return text.encode()

    def cancel(self):
        """CANCEL of the last INVITE (RFC 3261 9.1: its branch, Request-URI,
        Call-ID, From, To and CSeq number)."""
        return self.request("CANCEL", branch=self.branch, cseq=self.cseq)

    def ack(self, resp):
        """ACK of a final response to the INVITE: for a non-2xx, in its
        transaction (17.1.1.3); for a 2xx, a new one to the Contact, with
        the route set from the Record-Route (13.2.2.4, 12.1.2)."""
        to = resp.first("To")
        if resp.status >= 300:
            return self.request("ACK", branch=self.branch, cseq=self.cseq,
                                to=to)
        contact = resp.first("Contact").strip("<>")
        routes = list(reversed(resp.get("Record-Route")))
        extra = [("Route", r) for r in routes]
        return self.request("ACK", uri=contact, cseq=self.cseq, to=to,
                            extra=extra)


def digest_authorization(challenge, user, password, method, uri, nc=1):
    """The Authorization value answering challenge (a WWW- or
    Proxy-Authenticate value, Digest with MD5 or SHA-256 and qop=auth,
    RFC 7616) for user's password."""
    import hashlib
    fields = dict((k.lower(), v.strip('"')) for k, v in re.findall(
        r'(\w+)\s*=\s*("[^"]*"|[^\s,]+)', challenge))
    alg = fields.get("algorithm", "MD5")
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[alg.upper()]

    def hx(text):
        return h(text.encode()).hexdigest()
    cnonce = new_tag()
    ha1 = hx("%s:%s:%s" % (user, fields["realm"], password))
    ha2 = hx("%s:%s" % (method, uri))
    resp = hx("%s:%s:%08x:%s:auth:%s" % (ha1, fields["nonce"], nc, cnonce,
                                         ha2))
    out = ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
           'response="%s", algorithm=%s, qop=auth, nc=%08x, cnonce="%s"' % (
               user, fields["realm"], fields["nonce"], uri, resp, alg, nc,
               cnonce))
    if "opaque" in fields:
        out += ', opaque="%s"' % fields["opaque"]
    return out


def register(ua, sipd_port, user, domain, password, params="",
             expires=300):
    """Register ua (its address, with params such as ";q=0.5") as a
    contact of user@domain at sipd over UDP, answering the 401 with
    the MD5 challenge; returns the final response (a Msg)."""
    call = Call(ua, "sip:%s" % domain)
    aor = "<sip:%s@%s>" % (user, domain)
    contact = [("Contact", "<%s%s>" % (ua.uri(user), params)),
               ("Expires", str(expires))]
    auth = []
    for _ in range(2):
        data = call.request("REGISTER", to=aor, extra=contact + auth)
        data = data.replace(b"From: <sip:uac@%s>" % ua.host.encode(),
                            b"From: " + aor.encode(), 1)
        ua.send(data, sipd_port)
        resp = ua.expect("a final response to REGISTER",
                         lambda m: (not m.is_request() and
                                    m.status >= 200 and
                                    m.call_id() == call.call_id and
                                    m.cseq()[0] == call.cseq))
        if resp.status != 401:
            return resp
        chs = [v for v in resp.get("WWW-Authenticate")
               if re.search(r"algorithm=\"?MD5\b", v, re.IGNORECASE)]
        check(chs, "401 without an MD5 challenge: %s" %
              resp.get("WWW-Authenticate"))
        auth = [("Authorization", digest_authorization(
            chs[0], user, password, "REGISTER", call.uri))]
    return resp


class RawConn:
    """A TCP connection to sipd (port) for feeding it bytes as they come:
    whole, in pieces, or never finished."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        self.eof = False

    def close(self):
        self.sock.close()

    def options(self, sipd_port, call_id=None):
        """An OPTIONS for sipd itself from this connection, as bytes."""
        call_id = call_id or "%s@sipua" % new_tag()
        return ("OPTIONS sip:ping@127.0.0.1:%d SIP/2.0\r\n"
                "Via: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
                "Max-Forwards: 70\r\n"
                "From: <sip:abuser@127.0.0.1>;tag=%s\r\n"
                "To: <sip:ping@127.0.0.1>\r\n"
                "Call-ID: %s\r\n"
                "CSeq: 1 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n" % (
                    sipd_port, self.port, new_tag(), new_tag(),
                    call_id)).encode()

    def send(self, data):
        """False when sipd has closed the connection."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def read(self, count, timeout):
        """Up to count messages (Msg) read within timeout seconds; fewer
        when the time is up or sipd closed the connection (self.eof)."""
        out = []
        deadline = time.monotonic() + timeout
        for _ in range(MAX_READS):
            data, self.buf = frame(self.buf)
            if data is not None:
                out.append(Msg(data))
                if len(out) == count:
                    break
                continue
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                break
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
            self.buf += chunk
        return out

    def closed(self, timeout):
        """True once sipd closes the connection (EOF or reset) within
        timeout seconds; what it sent meanwhile stays in self.buf."""
        self.read(MAX_READS, timeout)
        return self.eof


# ------------------------------------------------------------ sipd

def free_port(host="127.0.0.1", tries=50):
    """A port free for both UDP and TCP on host right now (the kernel's
    pick for UDP, checked for TCP; at most tries picks)."""
    for _ in range(tries):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
            return port
    raise Fail("no port free for UDP and TCP on %s" % host)


def tcp_free(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
        try:
            t.bind((host, port))
        except OSError:
            return False
    return True


class ProxySipd(Sipd):
    """sipd as a proxy on 127.0.0.1: UDP on self.port, with tcp=True TCP
    on the same port, with tls=(cert, key) TLS on self.tls_port; every
    SIP message logged (SIPDATA), processors() workers.  conf is a
    function of this instance returning further configuration lines (it
    may use self.port)."""

    def __init__(self, binary, conf=None, tcp=False, tls=None):
        super().__init__(binary, conf="log level all all\n"
                         "set processors %d" % processors())
        self.more_conf = conf
        self.tcp = tcp
        self.tls = tls
        self.tls_port = None

    def write_conf(self):
        for _ in range(50):
            super().write_conf()
            if not self.tcp or tcp_free(self.port):
                break
        else:
            raise Fail("no UDP port free for TCP too")
        lines = []
        if self.tcp:
            lines.append("listener add tcp 127.0.0.1:%d" % self.port)
        if self.tls:
            self.tls_port = free_port()
            lines.append("listener add tls 127.0.0.1:%d cert %s key %s" % (
                self.tls_port, self.tls[0], self.tls[1]))
        if self.more_conf:
            lines.append(self.more_conf(self))
        with open(self.conf_path, "a") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        super().start()
        check(self.wait_log("%d workers)" % processors(), 2.0),
              "sipd did not start %d workers" % processors())
        return self


def start_proxy(binary, started, **kw):
    """A ProxySipd (arguments as its), started and added to started."""
    sipd = ProxySipd(binary, **kw)
    started.append(sipd)
    return sipd.start()


def sipd_via(sipd, proto="UDP"):
    """How the Via sipd puts on a request it forwards begins."""
    port = sipd.tls_port if proto == "TLS" else sipd.port
    return "SIP/2.0/%s 127.0.0.1:%d;" % (proto, port)


def check_top_via(msg, sipd, below, proto="UDP"):
    """msg (a forwarded request) has sipd's Via on top, with an RFC 3261
    branch, then the Vias of branches below (the sender's)."""
    vias = msg.get("Via")
    check(vias and vias[0].startswith(sipd_via(sipd, proto)),
          "%s arrived with top Via %r, not sipd's (%s)" % (
              msg.method, vias[0] if vias else None, sipd_via(sipd, proto)))
    check(msg.branch().startswith("z9hG4bK"),
          "sipd's branch is not RFC 3261's: %r" % vias[0])
    check(branches(msg)[1:] == list(below),
          "%s arrived with Vias %s: not sipd's over the sender's %s" % (
              msg.method, vias, list(below)))


# ------------------------------------------------------- sipd's log

SIPDATA = re.compile(
    r"SIPDATA, (received from|sent to) (\S+) \((\d+) bytes\) (.*)$")


def unescape(text):
    """Undo log_clip()'s \\xNN escapes."""
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)),
                  text).encode("latin-1")


class Logged:
    """A message in sipd's log: way ("in" or "out"), peer ("host:port")
    and msg (a Msg)."""

    def __init__(self, way, peer, msg):
        self.way, self.peer, self.msg = way, peer, msg

    def __repr__(self):
        return "%s %s %s" % (self.way, self.peer, self.msg.start)


def sipdata(log, garbage=None):
    """Every SIP message sipd received or sent, from its SIPDATA lines.
    This is what sipd says it did, not what a peer got: a check of the
    wire reads the peer's socket or sipp's trace (SippCall) instead.
    A line whose message does not parse (a fragment or garbage a test
    sent on purpose) is left out; with garbage (a list) it is appended
    there, and a line sipd sent that does not parse always fails."""
    out = []
    for line in log.splitlines():
        m = SIPDATA.search(line)
        if m is None:
            continue
        way = "in" if m.group(1) == "received from" else "out"
        try:
            out.append(Logged(way, m.group(2),
                              Msg(unescape(m.group(4)), strict=False)))
        except Fail:
            check(way == "in", "sipd logged sending a message that does "
                  "not parse: %r" % line)
            if garbage is not None:
                garbage.append(line)
    return out


# ------------------------------------------------------------- sipp

def sipp_binary():
    path = shutil.which("sipp")
    if path is None:
        raise Skip("sipp not installed")
    return path


class Sipp:
    """One sipp process in the background, its screen in a file of
    workdir."""

    def __init__(self, workdir, name, args):
        self.name = name
        self.out_path = os.path.join(workdir, name + ".out")
        with open(self.out_path, "w") as out:
            self.proc = subprocess.Popen(
                [sipp_binary()] + args + ["-nostdin"], cwd=workdir,
                stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT)

    def wait(self, timeout):
        """sipp's exit status; killed (by its pid) after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Fail("sipp %s still running after %d s:\n%s" % (
                self.name, timeout, self.output()[-3000:]))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def output(self):
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def successful_calls(self):
        """The cumulative "Successful call" count of sipp's last screen."""
        found = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)",
                           self.output())
        return int(found[-1]) if found else 0


def sipp_has_tls(workdir):
    """Whether this sipp was built with TLS (Debian's 3.6.1 may not be):
    a UAS asked for -t l1 says so at once, or runs (ended after 1 s)."""
    cert, key = self_signed(workdir)
    probe = Sipp(workdir, "probe", [
        "-sn", "uas", "-i", "127.0.0.1", "-p", str(free_port()), "-t", "l1",
        "-tls_cert", cert, "-tls_key", key, "-m", "1", "-timeout", "1s"])
    probe.wait(10)
    return "compile SIPp with OpenSSL" not in probe.output()


def self_signed(workdir):
    """A self-signed certificate for 127.0.0.1 and 127.0.0.2 made by the
    openssl command line: (cert, key) paths.  Skip without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise Skip("openssl not installed")
    cert = os.path.join(workdir, "cert.pem")
    key = os.path.join(workdir, "key.pem")
    p = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj",
         "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1,IP:127.0.0.2"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=60)
    check(p.returncode == 0, "openssl req failed: %s" % p.stdout)
    return cert, key


# ------------------------------------------- a sipp call through sipd

SIPP_TRANSPORT = {"u1": "UDP", "t1": "TCP", "l1": "TLS"}

# sipp -trace_msg: a separator line, then "UDP message sent (N bytes):" or
# "TCP message received [N] bytes :", an empty line and the N bytes
TRACE = re.compile(rb"^(UDP|TCP|TLS) message (sent|received) "
                   rb"(?:\((\d+) bytes\)|\[(\d+)\] bytes) ?:\n\n",
                   re.MULTILINE)


def sipp_trace(path):
    """What a sipp with -trace_msg -message_file path sent and received,
    in order: [(way, Msg)], way "sent" or "received", each message
    exactly the bytes sipp counted.  A message that does not parse
    fails: it is what a peer got on the wire."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    out = []
    for m in TRACE.finditer(data):
        size = int(m.group(3) or m.group(4))
        raw = data[m.end():m.end() + size]
        check(len(raw) == size, "%s: message cut short at %d" % (
            path, m.start()))
        out.append((m.group(2).decode(), Msg(raw)))
    return out


# The calls: the UAC sends the ACK and the BYE by the route set of the
# 200 (RFC 3261 12.1.2, 12.2.1.1: [routes] from its Record-Route,
# reversed, and the Request-URI [next_url] its Contact), so what sipd
# Record-Routes is used and must come off again; the UAS copies the
# Record-Route of the INVITE into its 180 and 200 (12.1.1).
SIPP_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac">
<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: [service] <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200" rrs="true"/>
<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200" crlf="true"/>
</scenario>
"""

SIPP_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas">
<recv request="INVITE" crlf="true"/>
<send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
<send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
<recv request="ACK" crlf="true"/>
<recv request="BYE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


def wait_bound(port, host, proto, timeout=5.0):
    """True once something listens on host:port (proto "UDP", "TCP" or
    "TLS"): the port cannot be bound any more (bounded)."""
    kind = socket.SOCK_DGRAM if proto == "UDP" else socket.SOCK_STREAM
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 1):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return True
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return False


class PortTaken(Exception):
    """A sipp could not bind its port: taken meanwhile."""


class SippCall:
    """calls sipp calls from a sipp UAC on 127.0.0.1 through sipd to a
    sipp UAS on 127.0.0.2: the UAC addresses the UAS in its Request-URI
    and sends everything to sipd (-rsa).  uac, uas: sipp's -t ("u1", "t1",
    "l1").  A rule sends 127.0.0.2 to the UAS over TCP or TLS when the
    UAS uses it; conf: further configuration lines.  The checks read
    what the two sipps sent and received (-trace_msg), never sipd's log.
    After run(): sipd, the ports, uac_trace and uas_trace (sipp_trace()),
    and logged (sipd's SIPDATA lines, sipdata(), for a test that wants
    to look at sipd's side too)."""

    def __init__(self, binary, started, workdir, uac, uas, force_rr=False,
                 calls=2, conf=()):
        self.uac, self.uas, self.calls = uac, uas, calls
        self.in_proto = SIPP_TRANSPORT[uac]
        self.out_proto = SIPP_TRANSPORT[uas]
        self.workdir = workdir
        self.tls = None
        if "l1" in (uac, uas):
            self.tls = self_signed(workdir)
            # sipd checks the UAS's certificate against the system CAs:
            # make ours the only one (OpenSSL's SSL_CERT_FILE)
            os.environ["SSL_CERT_FILE"] = self.tls[0]
        self.uas_port = free_port("127.0.0.2")
        self.uac_port = free_port("127.0.0.1")
        self.rules = []
        if force_rr:
            self.rules.append("set force-rr on")
        self.rules += list(conf)
        self.sipd = start_proxy(
            binary, started, conf=self.conf,
            tcp="t1" in (uac, uas), tls=self.tls)
        self.logged = []
        self.uac_trace, self.uas_trace = [], []
        for name, scenario in (("uac", SIPP_UAC), ("uas", SIPP_UAS)):
            with open(os.path.join(workdir, name + ".xml"), "w") as f:
                f.write(scenario)

    def conf(self, sipd):
        """sipd's rules; the UAS's port is read at each (re)start."""
        rules = []
        if self.out_proto != "UDP":
            rules.append("route add 127.0.0.2 127.0.0.2:%d transport %s" % (
                self.uas_port, self.out_proto.lower()))
        return "\n".join(rules + self.rules)

    @property
    def sipd_in_port(self):
        return self.sipd.tls_port if self.uac == "l1" else self.sipd.port

    @property
    def sipd_out_port(self):
        return self.sipd.tls_port if self.uas == "l1" else self.sipd.port

    def tls_args(self, t):
        if t != "l1":
            return []
        return ["-tls_cert", self.tls[0], "-tls_key", self.tls[1]]

    def run(self):
        """The calls; a sipp port taken meanwhile is picked again (and
        sipd restarted on the UAS's new port when a rule names it), at
        most 3 times."""
        for _ in range(3):
            try:
                return self.run_once()
            except PortTaken:
                self.uas_port = free_port("127.0.0.2")
                self.uac_port = free_port("127.0.0.1")
                if self.out_proto != "UDP":
                    self.sipd.stop()
                    self.sipd.start()
        raise Fail("sipp ports taken three times")

    def sipp(self, name, args):
        trace = os.path.join(self.workdir, name + ".msg")
        if os.path.exists(trace):
            os.unlink(trace)
        return Sipp(self.workdir, name, [
            "-sf", os.path.join(self.workdir, name + ".xml"),
            "-trace_msg", "-message_file", trace] + args)

    @staticmethod
    def bind_failed(sipp):
        out = sipp.output()
        return "already in use" in out or "bind" in out.lower()

    def run_once(self):
        uas = self.sipp("uas", [
            "-i", "127.0.0.2", "-p", str(self.uas_port),
            "-t", self.uas, "-m", str(self.calls), "-timeout", "20s"] +
            self.tls_args(self.uas))
        try:
            bound = wait_bound(self.uas_port, "127.0.0.2", self.out_proto)
            time.sleep(0.05)
            if uas.proc.poll() is not None and self.bind_failed(uas):
                raise PortTaken()
            check(bound, "sipp uas did not start:\n" + uas.output())
            uac = self.sipp("uac", [
                "127.0.0.2:%d" % self.uas_port,
                "-rsa", "127.0.0.1:%d" % self.sipd_in_port,
                "-i", "127.0.0.1", "-p", str(self.uac_port),
                "-t", self.uac, "-m", str(self.calls), "-r", "10",
                "-timeout", "15s"] + self.tls_args(self.uac))
            try:
                rc_uac = uac.wait(30)
            finally:
                uac.kill()
            if rc_uac != 0 and self.bind_failed(uac) and \
                    uac.successful_calls() == 0:
                raise PortTaken()
            rc_uas = uas.wait(30)
        finally:
            uas.kill()
        self.logged = sipdata(self.sipd.log())
        self.uac_trace = sipp_trace(os.path.join(self.workdir, "uac.msg"))
        self.uas_trace = sipp_trace(os.path.join(self.workdir, "uas.msg"))
        check(rc_uac == 0, "sipp uac exited %d:\n%s" % (
            rc_uac, uac.output()[-3000:]))
        check(rc_uas == 0, "sipp uas exited %d:\n%s" % (
            rc_uas, uas.output()[-3000:]))
        check(uac.successful_calls() == self.calls,
              "sipp uac: %d successful calls, not %d" % (
                  uac.successful_calls(), self.calls))
        check(uas.successful_calls() == self.calls,
              "sipp uas: %d successful calls, not %d" % (
                  uas.successful_calls(), self.calls))
        return self

    # what the peers sent and received

    @property
    def uac_peer(self):
        return "127.0.0.1:%d" % self.uac_port

    @property
    def uas_peer(self):
        return "127.0.0.2:%d" % self.uas_port

    def messages(self, way, peer, start):
        """The messages between sipd and peer (uac_peer or uas_peer),
        way "in" (the peer sent them to sipd) or "out" (sipd sent them
        and the peer received them), whose start line begins with start
        ("INVITE", "SIP/2.0 200"), as the peer's trace has them."""
        trace = self.uac_trace if peer == self.uac_peer else self.uas_trace
        want = "sent" if way == "in" else "received"
        return [m for w, m in trace
                if w == want and m.start.startswith(start)]

    def forwarded(self, method):
        """[(sent by the UAC, received by the UAS)] for each request of
        method, matched by Call-ID and CSeq (the first of
        retransmissions); fails when one did not arrive."""
        pairs, seen = [], set()
        got = self.messages("out", self.uas_peer, method + " ")
        for req in self.messages("in", self.uac_peer, method + " "):
            key = (req.call_id(), req.cseq())
            if key in seen:
                continue  # a retransmission
            seen.add(key)
            out = [m for m in got if m.call_id() == req.call_id() and
                   m.cseq() == req.cseq()]
            check(out, "%s of call %s from the UAC never reached the UAS "
                  "(it received: %s)" % (method, req.call_id(), got))
            pairs.append((req, out[0]))
        check(len(pairs) == self.calls, "%d %s from the UAC, not %d" % (
            len(pairs), method, self.calls))
        return pairs

    def sipd_via(self):
        """The Via sent-by sipd puts towards the UAS."""
        return "SIP/2.0/%s 127.0.0.1:%d;" % (self.out_proto,
                                             self.sipd_out_port)

    def check_via(self, method="INVITE"):
        """Each request of method reached the UAS with sipd's Via on top
        of the UAC's, and Max-Forwards one less."""
        for req, out in self.forwarded(method):
            vias = out.get("Via")
            check(len(vias) == len(req.get("Via")) + 1,
                  "%s forwarded with Vias %s (sent with %s)" % (
                      method, vias, req.get("Via")))
            check(vias[0].startswith(self.sipd_via()),
                  "%s forwarded with top Via %r, not sipd's %s" % (
                      method, vias[0], self.sipd_via()))
            check(param(vias[0], "branch").startswith("z9hG4bK"),
                  "sipd's branch is not RFC 3261's: %r" % vias[0])
            check(branches(out)[1:] == branches(req),
                  "%s forwarded with the UAC's Vias changed: %s, were %s" % (
                      method, vias[1:], req.get("Via")))
            mf_in = int(req.first("Max-Forwards"))
            mf_out = int(out.first("Max-Forwards"))
            check(mf_out == mf_in - 1, "%s Max-Forwards %d forwarded as %d"
                  % (method, mf_in, mf_out))

    def record_routes(self):
        """The Record-Route entries sipd should add: the one facing the
        UAS on top, and under it, when the transport changes, the one
        facing the UAC (RFC 5658)."""
        def entry(proto, port):
            t = {"UDP": "", "TCP": ";transport=tcp",
                 "TLS": ";transport=tls"}[proto]
            return "<sip:127.0.0.1:%d%s;lr>" % (port, t)
        rr = [entry(self.out_proto, self.sipd_out_port)]
        if self.in_proto != self.out_proto:
            rr.append(entry(self.in_proto, self.sipd_in_port))
        return rr

    def check_record_route(self):
        """The INVITEs reached the UAS with sipd's Record-Route entries
        (and no others: the UAC sends none), and the 200 the UAS sent
        back with them reached the UAC with the same set."""
        want = self.record_routes()
        for req, out in self.forwarded("INVITE"):
            got = [unsigned_rr(v) for v in out.get("Record-Route")]
            check(got == want,
                  "INVITE reached the UAS with Record-Route %s, not %s" % (
                      got, want))
            oks = [m for m in self.messages("out", self.uac_peer,
                                            "SIP/2.0 200")
                   if m.call_id() == req.call_id() and
                   m.cseq()[1] == "INVITE"]
            check(oks, "no 200 to INVITE reached the UAC")
            back = [unsigned_rr(v) for v in oks[0].get("Record-Route")]
            check(back == want,
                  "200 reached the UAC with Record-Route %s, not %s" % (
                      oks[0].get("Record-Route"), want))

    def check_routes_used(self):
        """The ACK and BYE the UAC sent by the route set (sipd's entries
        as Route) reached the UAS with every entry of sipd's taken off
        (RFC 3261 16.4) and the UAS's Contact as Request-URI."""
        for method in ("ACK", "BYE"):
            for req, out in self.forwarded(method):
                check([unsigned_rr(v) for v in req.get("Route")] ==
                      list(reversed(self.record_routes())),
                      "the UAC sent its %s with Route %s" % (
                          method, req.get("Route")))
                check(out.get("Route") == [],
                      "%s reached the UAS with Route %s: sipd's entry not "
                      "removed" % (method, out.get("Route")))
                check(out.uri == req.uri,
                      "%s reached the UAS for %s, sent for %s" % (
                          method, out.uri, req.uri))

    def check_responses(self):
        """The 200s to INVITE and BYE reached the UAC with sipd's Via
        taken off."""
        for method in ("INVITE", "BYE"):
            for req, _ in self.forwarded(method):
                oks = [m for m in self.messages("out", self.uac_peer,
                                                "SIP/2.0 200")
                       if m.call_id() == req.call_id() and
                       m.cseq()[1] == method]
                check(oks, "no 200 to %s reached the UAC" % method)
                check(branches(oks[0]) == branches(req),
                      "200 to %s reached the UAC with Vias %s, not %s" % (
                          method, oks[0].get("Via"), req.get("Via")))
