"""The challenge rate (sipd.conf(5), auth-challenge-rate): one source,
an IPv4 address, gets at most that many challenges (401, 407) a second;
a request over the rate that would have been challenged is dropped
without an answer and counted as auth-limited in show stats.

With set auth-challenge-rate 5 and loopback not a client, with 1 and 4
workers (the INVITEs' Call-IDs spread them; the rate is one for the
server, not one per worker):
- a stranger (127.0.0.1) sends 40 INVITEs without credentials at once;
  every answer it gets is a 407, at least 5 and at most 5 for each
  second the burst spans, and show stats counts the rest as
  auth-limited (answered + auth-limited = 40);
- another source (127.0.0.5), right after, is challenged (407);
- a REGISTER with valid credentials from the limited source, right
  after, gets 200 (only requests that would be challenged count);
- in the next second the stranger is challenged again."""

import socket
import time

import sipdtest
import sipreg
from sipdtest import check, new_tag
from sipua import Msg, UA

RATE = 5
N = 40
CONF = """domain add example.com
account add alice@example.com password secret
account add bob@example.com password bob-pw
set auth-challenge-rate %d
""" % RATE


def invite(sock, call_id):
    host, port = sock.getsockname()
    uri = "sip:bob@example.com"
    return ("INVITE %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:eve@stranger.invalid>;tag=%s\r\n"
            "To: <%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Content-Length: 0\r\n\r\n" % (
                uri, host, port, new_tag(), new_tag(), new_tag(), uri,
                call_id)).encode()


def answers(sock, want, timeout):
    """Responses read until want arrived or timeout (bounded)."""
    got = []
    deadline = time.monotonic() + timeout
    for _ in range(want + 100):
        left = deadline - time.monotonic()
        if left <= 0 or len(got) >= want:
            break
        sock.settimeout(left)
        try:
            data, _ = sock.recvfrom(65536)
        except socket.timeout:
            break
        got.append(Msg(data))
    return got


def one_invite(host, sipd):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        cid = "%s@one" % new_tag()
        s.sendto(invite(s, cid), ("127.0.0.1", sipd.port))
        got = answers(s, 1, 3.0)
    check(got, "%s got no answer to its INVITE" % host)
    return got[0]


def test(binary, started):
    for workers in (1, 4):
        burst(binary, started, workers)


def burst(binary, started, workers):
    sipd = sipreg.start(binary, started, conf=CONF, client_ip=[],
                        workers=workers)
    ua = UA("127.0.0.1")
    eve = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        eve.bind(("127.0.0.1", 0))
        # a challenge for alice fetched before, answered after the burst
        reg = sipreg.RegClient(ua, sipd.port, "alice", "secret")
        ch = sipreg.pick(reg.challenge([reg.contact()], 300), "MD5")
        # start the burst early in a second, so it spans one or two
        time.sleep(1.0 - time.time() % 1.0 + 0.05)
        t0 = time.time()
        for i in range(N):
            eve.sendto(invite(eve, "burst-%d-%s" % (i, new_tag())),
                       ("127.0.0.1", sipd.port))
        other = one_invite("127.0.0.5", sipd)
        auth = sipreg.credentials(ch, "alice", "secret", "REGISTER",
                                  reg.uri, "MD5")
        ok = reg.ask(reg.message([reg.contact()], 300, auth))
        # answers come within milliseconds; Timer A (500 ms) bounds it
        got = answers(eve, N, 0.6)
        t1 = time.time()
        check(other.status == 407, "another source got %d %s while the "
              "stranger was over the rate, not 407" % (
                  other.status, other.reason))
        check(ok.status == 200, "a REGISTER with valid credentials from "
              "the limited source got %d %s, not 200" % (
                  ok.status, ok.reason))
        statuses = sorted(set(m.status for m in got))
        check(statuses == [407], "the stranger's answers: %s" % statuses)
        seconds = int(t1) - int(t0) + 1
        check(RATE <= len(got) <= RATE * seconds,
              "%d workers: %d of %d INVITEs challenged within %d s at %d a "
              "second" % (workers, len(got), N, seconds, RATE))
        for _ in range(20):  # each request is counted as it is read
            limited = sipreg.ctl(sipd, "show", "stats")["auth-limited"]
            if limited == N - len(got):
                break
            time.sleep(0.1)
        check(limited == N - len(got), "show stats auth-limited %d, not "
              "%d (%d of %d answered)" % (limited, N - len(got), len(got),
                                          N))
        # the next second: challenged again
        time.sleep(1.0 - time.time() % 1.0 + 0.05)
        again = one_invite("127.0.0.1", sipd)
        check(again.status == 407, "the stranger, a second later, got %d "
              "%s, not 407" % (again.status, again.reason))
    finally:
        eve.close()
        ua.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
