"""Abuse of sipd's TCP listener while a sipp call over another TCP
connection completes (RFC 3261 18.3 framing): a message sent in two
halves, twenty messages in one segment, a message dripped a byte at a
time, a peer that never finishes its headers (closed once quiet for the
idle timeout, set idle-timeout 3), and one that sends header lines without
end (closed at the size limit).  Each well-formed message is answered,
the call succeeds, and sipd answers OPTIONS over UDP and TCP after.
Skipped without sipp."""

import tempfile
import threading
import time

import sipdtest
import sipua
from sipdtest import check

IDLE = 3
MANY = 20


class Abuser(threading.Thread):
    """One abusive connection run on its own thread; self.error says what
    went wrong (None: as expected)."""

    def __init__(self, name, port, job, delay=0.0):
        super().__init__(name=name, daemon=True)
        self.port, self.job, self.delay = port, job, delay
        self.error = "did not finish"

    def run(self):
        time.sleep(self.delay)  # until the call is under way
        conn = sipua.RawConn(self.port)
        try:
            self.error = self.job(conn, self.port)
        except Exception as e:  # reported by the main thread
            self.error = "%s: %r" % (type(e).__name__, e)
        finally:
            conn.close()


def answered(conn, count=1):
    got = conn.read(count, 5.0)
    if len(got) != count or any(m.status != 200 for m in got):
        return "%d answers (%s), not %d 200s" % (len(got), got, count)
    return None


def halves(conn, port):
    msg = conn.options(port)
    conn.send(msg[:len(msg) // 2])
    time.sleep(1.5)  # while the call goes on
    conn.send(msg[len(msg) // 2:])
    return answered(conn)


def many(conn, port):
    msgs = [conn.options(port, "many-%d@sipua" % i) for i in range(MANY)]
    conn.send(b"".join(msgs))
    got = conn.read(MANY, 5.0)
    ids = sorted(m.call_id() for m in got if m.status == 200)
    want = sorted("many-%d@sipua" % i for i in range(MANY))
    if ids != want:
        return "%d 200s to %d OPTIONS in one segment" % (len(ids), MANY)
    return None


def drip(conn, port):
    msg = conn.options(port)
    for i in range(len(msg)):
        if not conn.send(msg[i:i + 1]):
            return "closed after %d of %d bytes" % (i, len(msg))
        time.sleep(0.005)
    return answered(conn)


def unfinished(conn, port):
    msg = conn.options(port)
    conn.send(msg[:msg.index(b"Max-Forwards")])
    started = time.monotonic()
    if not conn.closed(IDLE + 5.0):
        return "still open %.0f s after its last byte" % (IDLE + 5.0)
    if conn.buf.strip():
        return "answered: %r" % conn.buf[:200]
    took = time.monotonic() - started
    if took < IDLE - 0.5:
        return "closed after %.1f s, before the idle timeout" % took
    return None


def endless(conn, port):
    msg = conn.options(port)
    conn.send(msg[:msg.index(b"Content-Length")])
    line = b"X-Endless: " + b"a" * 200 + b"\r\n"
    for i in range(600):  # 128 KiB, twice the largest message
        if not conn.send(line):
            return None
        if i % 20 == 19:
            time.sleep(0.01)
            if conn.closed(0.001):
                return None
    if not conn.closed(3.0):
        return "still open after %d bytes of headers" % (600 * len(line))
    return None


def test(binary, started):
    sipua.sipp_binary()
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        call = sipua.SippCall(binary, started, workdir, "t1", "t1", calls=5,
                              conf=["set idle-timeout %d" % IDLE])
        sipd = call.sipd
        port = sipd.port
        jobs = [Abuser("unfinished", port, unfinished),
                Abuser("halves", port, halves),
                Abuser("drip", port, drip),
                Abuser("endless", port, endless, 0.2),
                Abuser("many", port, many, 0.3)]
        for job in jobs:
            job.start()
        call.run()
        for job in jobs:
            job.join(IDLE + 15.0)
        for job in jobs:
            check(not job.is_alive(), "%s: still running" % job.name)
            check(job.error is None, "%s: %s" % (job.name, job.error))
        check(sipd.alive(), "sipd died")

        peer = sipdtest.Peer()
        try:
            resp = peer.ask(sipdtest.request("OPTIONS", port), port)
            check(resp is not None and resp.status == 200,
                  "no 200 to OPTIONS over UDP after the abuse: %r" % resp)
        finally:
            peer.close()
        conn = sipua.RawConn(port)
        try:
            conn.send(conn.options(port))
            got = conn.read(1, 3.0)
            check(len(got) == 1 and got[0].status == 200,
                  "no 200 to OPTIONS over TCP after the abuse: %s" % got)
        finally:
            conn.close()
        sipdtest.stop_clean(sipd)


sipdtest.run(test)
