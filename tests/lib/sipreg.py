"""The registrar tests' side of SIP: sipd with local domains, accounts and
a registration store; Digest authentication computed here (RFC 7616 3.4,
RFC 8760) with hashlib; REGISTER clients; sipctl -j read back.

Used by tests/integration/reg/<case>/test.py with sipdtest.py and
sipua.py, each run as: test.py PATH-TO-SIPD PATH-TO-SIPCTL.  Every wait
here is bounded in time and in count.
"""

import hashlib
import json
import os
import re
import time

import sipdtest
from sipdtest import Fail, check, new_tag
from sipua import UA, Msg, ProxySipd, param, processors, split_list

DOMAIN = "example.com"
HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


# ------------------------------------------------------------ Digest

def hexdigest(alg, text):
    return HASHES[alg](text.encode()).hexdigest()


def digest_response(alg, user, realm, password, method, uri, nonce,
                    nc="00000001", cnonce=None, qop="auth"):
    """The request-digest of RFC 7616 3.4.1 (qop "auth" or None)."""
    ha1 = hexdigest(alg, "%s:%s:%s" % (user, realm, password))
    ha2 = hexdigest(alg, "%s:%s" % (method, uri))
    if qop:
        return hexdigest(alg, "%s:%s:%s:%s:%s:%s" % (
            ha1, nonce, nc, cnonce, qop, ha2))
    return hexdigest(alg, "%s:%s:%s" % (ha1, nonce, ha2))


def parse_challenge(value):
    """A "Digest k=v, k="v"" header value as (scheme, {k: v}), the keys
    lower-cased and the quotes taken off."""
    scheme, _, rest = value.strip().partition(" ")
    params = {}
    for m in re.finditer(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'
                         r'[^,\s]*)\s*,?', rest):
        v = m.group(2)
        if v.startswith('"'):
            v = v[1:-1]
        params[m.group(1).lower()] = v
    return scheme, params


def challenges(resp, header="WWW-Authenticate"):
    """Every challenge of resp's header lines (one per line or comma
    list), in order, as (scheme, params)."""
    out = []
    for v in resp.get(header):
        out.append(parse_challenge(v))
    return out


def pick(resp, alg, header="WWW-Authenticate"):
    """The Digest challenge of algorithm alg (absent: MD5) in resp."""
    for scheme, p in challenges(resp, header):
        if scheme.lower() == "digest" and \
                p.get("algorithm", "MD5").upper() == alg.upper():
            return p
    raise Fail("no %s challenge in %s: %s" % (
        alg, resp.start, resp.get(header)))


def credentials(ch, user, password, method, uri, alg=None, nc=1,
                cnonce=None, auth_user=None):
    """The Authorization value answering challenge ch (params of
    pick())."""
    alg = alg or ch.get("algorithm", "MD5")
    cnonce = cnonce or new_tag() + new_tag()
    ncs = "%08x" % nc
    qop = "auth" if "auth" in (ch.get("qop") or "").split(",") else None
    resp = digest_response(alg, auth_user or user, ch["realm"], password,
                           method, uri, ch["nonce"], ncs, cnonce, qop)
    out = ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
           'response="%s", algorithm=%s' % (
               auth_user or user, ch["realm"], ch["nonce"], uri, resp, alg))
    if qop:
        out += ', qop=auth, nc=%s, cnonce="%s"' % (ncs, cnonce)
    if "opaque" in ch:
        out += ', opaque="%s"' % ch["opaque"]
    return out


# ------------------------------------------------------------ sipd

class RegSipd(ProxySipd):
    """sipd with every SIP message logged, conf (a string) added, and a
    registration store in its directory (self.store).  client_ip: the
    Client IP ranges in place of the test library's default (None: keep
    it).  port_range: where sipd's port is drawn from (sipsak needs four
    digits).  workers: the worker threads (set processors; None: the
    run's, SIPD_TEST_PROCESSORS)."""

    def __init__(self, binary, conf="", client_ip=None, store=True,
                 port_range=None, workers=None):
        super().__init__(binary, conf=lambda s: conf)
        self.workers = workers
        self.port_range = port_range or (None, None)
        self.client_ip = client_ip
        self.store = (os.path.join(self.dir.name, "reg.db")
                      if store else None)

    def write_conf(self):
        super().write_conf()
        with open(self.conf_path) as f:
            lines = f.read().splitlines()
        if self.client_ip is not None:
            lines = [ln for ln in lines
                     if not ln.strip().startswith("client-ip add")]
            lines += ["client-ip add %s" % r for r in self.client_ip]
        if self.store:
            lines.append("set reg-store %s" % self.store)
        if self.workers is not None:
            lines.append("set processors %d" % self.workers)
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        sipdtest.Sipd.start(self)
        n = self.workers if self.workers is not None else processors()
        check(self.wait_log("%d workers)" % n, 2.0),
              "sipd did not start %d workers" % n)
        return self


def start(binary, started, **kw):
    sipd = RegSipd(binary, **kw)
    started.append(sipd)
    return sipd.start()


def ctl(sipd, *args):
    """sipctl -j ARGS: the reply's data (fails on an error)."""
    p = sipdtest.sipctl(sipd, "-j", *args)
    check(p.returncode == 0, "sipctl %s: exit %d: %s" % (
        " ".join(args), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)["data"] if p.stdout.strip() else None


def registrations(sipd, aor=None):
    return ctl(sipd, "show", "registrations", *([aor] if aor else []))


def contacts_of(sipd, aor):
    return sorted(r["contact"] for r in registrations(sipd)
                  if r["aor"] == aor)


# ------------------------------------------------------------ REGISTER

class RegClient:
    """REGISTERs of user@domain from a UA (a UDP socket) to sipd: one
    Call-ID, CSeq counting up (RFC 3261 10.2.4)."""

    def __init__(self, ua, sipd_port, user, password, domain=DOMAIN,
                 auth_user=None, sipd_host="127.0.0.1"):
        self.ua = ua
        self.port = sipd_port
        self.sipd_host = sipd_host
        self.user = user
        self.password = password
        self.domain = domain
        self.auth_user = auth_user
        self.call_id = "%s@sipreg" % new_tag()
        self.from_tag = new_tag()
        self.cseq = 0
        self.uri = "sip:%s" % domain

    def contact(self, user=None, port=None, params=""):
        return "<sip:%s@%s:%d>%s" % (user or self.user, self.ua.host,
                                     port or self.ua.port, params)

    def message(self, contacts=(), expires=None, authorization=None,
                extra=(), to=None, cseq=None):
        """A REGISTER as bytes.  contacts: Contact values, each a line."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = "z9hG4bK%s%s" % (new_tag(), new_tag())
        aor = "sip:%s@%s" % (self.user, self.domain)
        hdrs = [("Via", self.ua.via(branch)), ("Max-Forwards", "70"),
                ("From", "<%s>;tag=%s" % (aor, self.from_tag)),
                ("To", to or "<%s>" % aor),
                ("Call-ID", self.call_id),
                ("CSeq", "%d REGISTER" % cseq)]
        hdrs += [("Contact", c) for c in contacts]
        if expires is not None:
            hdrs.append(("Expires", str(expires)))
        if authorization is not None:
            hdrs.append(("Authorization", authorization))
        hdrs += list(extra)
        hdrs.append(("Content-Length", "0"))
        text = "REGISTER %s SIP/2.0\r\n" % self.uri
        text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
        return text.encode()

    def ask(self, data, timeout=3.0):
        """Send data and return the final response to it."""
        cseq = int(re.search(rb"\r\nCSeq: (\d+)", data).group(1))
        self.ua.send(data, self.port, self.sipd_host)
        return self.ua.expect(
            "final response to REGISTER %d" % cseq,
            lambda m: (not m.is_request() and m.status >= 200 and
                       m.call_id() == self.call_id and
                       m.cseq() == (cseq, "REGISTER")), timeout)

    def challenge(self, contacts=(), expires=None, **kw):
        """A REGISTER without credentials; its answer (a 401)."""
        return self.ask(self.message(contacts, expires, **kw))

    def register(self, contacts=(), expires=None, alg=None,
                 password=None, extra=(), to=None, timeout=3.0):
        """REGISTER, answer the 401's alg challenge (None: the first
        Digest challenge, as a client that reads one), return the final
        answer to the authenticated REGISTER."""
        first = self.ask(self.message(contacts, expires, extra=extra,
                                      to=to), timeout)
        if first.status != 401:
            return first
        if alg is None:
            algs = challenge_algs(first)
            check(algs, "401 without a Digest challenge: %s" % (
                first.get("WWW-Authenticate"),))
            alg = algs[0]
        ch = pick(first, alg)
        auth = credentials(ch, self.user, password or self.password,
                           "REGISTER", self.uri, alg,
                           auth_user=self.auth_user)
        return self.ask(self.message(contacts, expires, auth, extra, to),
                        timeout)


def expires_of(resp):
    """{contact URI: expires} of a 200's Contact list."""
    out = {}
    for line in resp.get("Contact"):
        for c in split_list(line):
            m = re.match(r"\s*<([^>]*)>", c)
            check(m is not None, "Contact without <>: %r" % c)
            e = param(c[m.end():], "expires")
            out[m.group(1)] = int(e) if e is not None else None
    return out


def wait_for(what, fn, timeout=5.0, step=0.1):
    """fn() until it is true (bounded); returns its last value."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 1):
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            break
        time.sleep(step)
    v = fn()
    check(v, "%s: not within %.1f s" % (what, timeout))
    return v


def shard_of(call_id, workers):
    """The worker a request with call_id lands on in a sipd of workers
    threads (FNV-1a 64 of the Call-ID, as sipd/worker.c spreads them)."""
    if workers <= 1:
        return 0
    h = 0xcbf29ce484222325
    for c in call_id.encode():
        h ^= c
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h % workers


def call_id_on(shard, workers, prefix):
    """A new Call-ID (prefix-N) that lands on worker shard (bounded)."""
    for _ in range(10000):
        cid = "%s-%s@sipreg" % (prefix, new_tag())
        if shard_of(cid, workers) == shard:
            return cid
    raise Fail("no Call-ID found for worker %d of %d" % (shard, workers))


# ------------------------------------------------------------ the wire

class Wire:
    """A message a peer sent or received, as the peer itself recorded it:
    way ("in": the peer received it, "out": the peer sent it), peer (the
    other end, "host:port") and msg (a Msg)."""

    def __init__(self, way, peer, msg):
        self.way, self.peer, self.msg = way, peer, msg

    def __repr__(self):
        return "%s %s %s" % (self.way, self.peer, self.msg.start)


def _msg(raw, where):
    """raw (text of one SIP message) as a Msg; fails loudly, never drops
    it: a message a peer recorded that does not parse is a finding."""
    raw = raw.lstrip("\r\n")
    head, sep, body = raw.partition("\n\n") if "\r\n\r\n" not in raw \
        else raw.partition("\r\n\r\n")
    head = head.replace("\r\n", "\n").replace("\n", "\r\n")
    try:
        # a trace is text, not the bytes on the wire (its line ends
        # and trailing newlines differ): the body's length is not checked
        return Msg((head + "\r\n\r\n" + body).encode(), strict=False)
    except Fail as e:
        raise Fail("%s: a message that does not parse (%s): %r" % (
            where, e, raw[:300]))


SIPP_SEP = re.compile(r"^-{20,} [0-9: .-]+\n", re.MULTILINE)
SIPP_HEAD = re.compile(r"^(UDP|TCP|TLS) message (received|sent) "
                       r"(?:\[\d+\] bytes|\(\d+ bytes\)) ?:\n\n",
                       re.IGNORECASE)


def sipp_trace(path):
    """What a sipp run with -trace_msg -message_file PATH sent ("out") and
    received ("in"): [Wire] in order (peer "": sipp does not say).  Every
    entry must parse."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    out = []
    for chunk in SIPP_SEP.split(text):
        if not chunk.strip():
            continue
        m = SIPP_HEAD.match(chunk)
        check(m is not None, "%s: an entry sipp_trace() cannot read: %r" % (
            path, chunk[:200]))
        way = "in" if m.group(2).lower() == "received" else "out"
        out.append(Wire(way, "", _msg(chunk[m.end():], path)))
    return out


BARESIP_TRACE = re.compile(
    r"#\n(UDP|TCP|TLS) (\S+) -> (\S+)\n(.*?)\x1b\[;m", re.DOTALL)


def baresip_trace(text, own):
    """What baresip (run with -s, its SIP trace) sent and received, from
    its output text: [Wire] in order.  own: baresip's own "host:port";
    a message to it is "in", from it "out"."""
    out = []
    for m in BARESIP_TRACE.finditer(text):
        src, dst, raw = m.group(2), m.group(3), m.group(4)
        if dst == own:
            out.append(Wire("in", src, _msg(raw, "baresip " + own)))
        elif src == own:
            out.append(Wire("out", dst, _msg(raw, "baresip " + own)))
        else:
            raise Fail("baresip %s traced a message between %s and %s" % (
                own, src, dst))
    return out


def challenge_algs(resp, header="WWW-Authenticate"):
    """The algorithms of resp's Digest challenges, in the order sent."""
    return [p.get("algorithm", "MD5").upper()
            for scheme, p in challenges(resp, header)
            if scheme.lower() == "digest"]


__all__ = ["DOMAIN", "RegSipd", "RegClient", "UA", "Msg", "start", "ctl",
           "registrations", "contacts_of", "credentials", "pick",
           "challenges", "digest_response", "expires_of", "wait_for",
           "Wire", "sipp_trace", "baresip_trace", "challenge_algs",
           "shard_of", "call_id_on"]
