"""kill -9 under load: every registration answered 200 is back after a
restart, 10,000 of them within a second of the start (sipd.8,
"Registrar").

100 accounts; a pipelined sender over UDP (256 REGISTERs in flight, one
Digest challenge per account, then nonce counts 1, 2, 3...: RFC 7616
3.4) registers 10,000 contacts, each of its own Call-ID, and counts the
200s.  It goes on registering more, and sipd is killed with SIGKILL in
the middle.  sipd starts again on the same store: its log says the
bindings are loaded less than a second after the start (three for an
ASan build), and "show registrations" of every account lists each
contact answered 200, before or during the load.  A contact whose REGISTER got no answer may be there or not; one
answered with an error must not be.  Every loop is bounded in count and
time."""

import datetime
import os
import re
import signal
import time

import regload
import sipdtest
import sipreg
from regload import ACCOUNTS, DOMAIN, Sender
from sipdtest import Sipd, check

FIRST = 10000
MORE = 3000
LOAD_LIMIT = 1.0  # seconds; three times that for a sanitizer build


def test(binary, started):
    global LOAD_LIMIT
    sipdtest.sipctl_binary()
    with open(binary, "rb") as f:
        if b"__asan_init" in f.read():
            LOAD_LIMIT *= 3
    sipd = Sipd(binary, conf=regload.CONF)
    started.append(sipd)
    sipd.start()
    sender = Sender(sipd.port)
    sender.challenges()
    t0 = time.monotonic()
    sender.run(0, FIRST)
    took = time.monotonic() - t0
    acked = sender.acked()
    print("%d of %d REGISTERs answered 200 in %.1f s (%.0f/s)" % (
        len(acked), FIRST, took, FIRST / took))
    check(len(acked) == FIRST, "only %d of %d answered 200: %s" % (
        len(acked), FIRST, sorted(set(sender.status.values()))))

    # more, and kill -9 in the middle of them
    before = len(acked)
    sender.run(FIRST, MORE,
               until=lambda: len(sender.status) >= FIRST + MORE // 3)
    os.kill(sipd.proc.pid, signal.SIGKILL)
    sipd.proc.wait(timeout=5)
    sipd.proc = None
    for status, cid, _ in sender.read(0.3):
        kk = sender.pending.pop(cid, None) if status >= 200 else None
        if kk is not None:
            sender.status[kk] = status
    acked = sender.acked()
    refused = {k for k, s in sender.status.items() if s != 200}
    print("killed with %d answered 200 (%d during the second run), %d "
          "unanswered" % (len(acked), len(acked) - before,
                          len(sender.pending)))
    check(not refused, "REGISTERs refused: %s" % sorted(refused)[:10])

    # the time from the start to the line saying the bindings are
    # loaded (sipd's own clock, milliseconds), and to the first answer
    t0 = time.time()
    m0 = time.monotonic()
    with open(sipd.conf_path) as f:
        text = f.read()
    sipd.start_from(text)
    ready = time.monotonic() - m0
    m = re.search(r"^(\S+) SIPS, registrar, loaded (\d+) bindings",
                  sipd.log(), re.MULTILINE)
    check(m is not None and int(m.group(2)) >= len(acked),
          "the load line: %s" % (m.group(0) if m else None))
    loaded = datetime.datetime.strptime(
        m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp() - t0
    print("restarted: %s bindings loaded %.3f s after the start, "
          "answering after %.3f s" % (m.group(2), loaded, ready))
    check(loaded < LOAD_LIMIT, "%d bindings back %.2f s after the start, "
          "not within %.0f s" % (len(acked), loaded, LOAD_LIMIT))

    got = set()
    for a in range(ACCOUNTS):
        rows = sipreg.registrations(sipd, "a%d@%s" % (a, DOMAIN))
        for r in rows:
            m = re.match(r"sip:c(\d+)@", r["contact"])
            if m:
                got.add(int(m.group(1)))
    missing = sorted(acked - got)
    check(not missing, "%d of the %d bindings answered 200 are gone after "
          "kill -9: %s" % (len(missing), len(acked), missing[:10]))
    print("%d bindings back, every one answered 200 among them" % len(got))
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
