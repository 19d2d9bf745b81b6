"""Many REGISTERs fast: a pipelined Digest REGISTER sender over UDP for
the registrar's load and fault tests (tests/integration/fault).

CONF gives sipd ACCOUNTS accounts a0..a99@example.com (password pwN) and
room for their bindings; Sender(port) asks each account's challenge
once (challenges()), then registers contact k (sip:cK@127.0.0.1) for
account k % ACCOUNTS with nonce counts 1, 2, 3... (RFC 7616 3.4), up to
WINDOW in flight, each REGISTER of its own Call-ID (run()).  Every loop
is bounded in count and time.
"""

import re
import select
import socket
import time

import sipdtest
import sipreg
from sipdtest import check, new_tag

ACCOUNTS = 100
WINDOW = 256
RETRY_S = 1.0
DOMAIN = "example.com"
CONF = ("domain add %s\n" % DOMAIN + "".join(
    "account add a%d@%s password pw%d\n" % (i, DOMAIN, i)
    for i in range(ACCOUNTS)) + "set reg-max-bindings 1000\n"
    "set auth-challenge-rate 0\nset auth-fail-limit 0\n")


class Sender:
    """REGISTERs of contact k for account k % ACCOUNTS, pipelined."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.me = self.sock.getsockname()[1]
        self.nonce = {}
        self.nc = {}
        self.pending = {}  # Call-ID: k
        self.sent = {}     # Call-ID: (bytes, when last sent)
        self.status = {}   # k: final status

    def message(self, k, auth=None):
        a = k % ACCOUNTS
        call_id = "k%d-%s@kill9" % (k, new_tag())
        hdrs = ["Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s" % (
                    self.me, new_tag() + new_tag()),
                "Max-Forwards: 70",
                "From: <sip:a%d@%s>;tag=%s" % (a, DOMAIN, new_tag()),
                "To: <sip:a%d@%s>" % (a, DOMAIN),
                "Call-ID: " + call_id, "CSeq: 1 REGISTER",
                "Contact: <sip:c%d@127.0.0.1:%d>" % (k, self.me),
                "Expires: 3600"]
        if auth:
            hdrs.append("Authorization: " + auth)
        text = ("REGISTER sip:%s SIP/2.0\r\n" % DOMAIN +
                "".join(h + "\r\n" for h in hdrs) +
                "Content-Length: 0\r\n\r\n")
        return call_id, text.encode()

    def read(self, timeout):
        """The responses waiting (for at most timeout)."""
        out = []
        r, _, _ = select.select([self.sock], [], [], timeout)
        while r:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            m = re.search(rb"^SIP/2.0 (\d+)", data)
            cid = re.search(rb"\r\nCall-ID: ([^\r]+)", data)
            if m and cid:
                out.append((int(m.group(1)), cid.group(1).decode(), data))
            r, _, _ = select.select([self.sock], [], [], 0)
        return out

    def challenges(self):
        """One 401 per account: its nonce."""
        for a in range(ACCOUNTS):
            cid, data = self.message(a)
            self.sock.sendto(data, ("127.0.0.1", self.port))
            got = None
            deadline = time.monotonic() + 3
            while got is None and time.monotonic() < deadline:
                for status, c, raw in self.read(0.5):
                    if c == cid:
                        got = sipreg.parse_challenge(re.search(
                            rb"\r\nWWW-Authenticate: ([^\r]+)",
                            raw).group(1).decode())[1]
            check(got is not None, "no challenge for a%d" % a)
            self.nonce[a] = got
            self.nc[a] = 0

    def auth(self, k):
        a = k % ACCOUNTS
        self.nc[a] += 1
        return sipreg.credentials(self.nonce[a], "a%d" % a, "pw%d" % a,
                                  "REGISTER", "sip:" + DOMAIN, "MD5",
                                  nc=self.nc[a])

    def run(self, first, count, until=None, limit=20.0):
        """Register contacts first..first+count-1, at most WINDOW in
        flight; stops early once until() is true; bounded by limit s."""
        k = first
        deadline = time.monotonic() + limit
        self.sock.setblocking(False)
        while time.monotonic() < deadline:
            now = time.monotonic()
            while k < first + count and len(self.pending) < WINDOW:
                cid, data = self.message(k, self.auth(k))
                self.pending[cid] = k
                self.sent[cid] = (data, now)
                self.sock.sendto(data, ("127.0.0.1", self.port))
                k += 1
            # RFC 3261 17.1.2.2: a request unanswered is sent again
            for cid, (data, at) in list(self.sent.items()):
                if now - at > RETRY_S:
                    self.sent[cid] = (data, now)
                    self.sock.sendto(data, ("127.0.0.1", self.port))
            for status, cid, _ in self.read(0.2):
                if status >= 200:
                    self.sent.pop(cid, None)
                kk = self.pending.pop(cid, None) if status >= 200 else None
                if kk is not None:
                    self.status[kk] = status
            if until is not None and until():
                return
            if k == first + count and not self.pending:
                return
        if until is None:
            raise sipdtest.Fail("REGISTERs unanswered after %.0f s: %d" % (
                limit, len(self.pending)))

    def acked(self):
        return {k for k, s in self.status.items() if s == 200}
