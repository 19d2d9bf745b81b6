"""Registration failures, seen from three provider stand-ins (sipp on
127.0.0.2), with T1 50 ms so that a transaction times out in 3.2 s:

- 423 Interval Too Brief with Min-Expires 7: the next REGISTER (the same
  Call-ID, the next CSeq) asks Expires 7 and is registered; `show
  gateways` gives interval 7;
- 503 with Retry-After 3: backing-off, and the next REGISTER comes no
  sooner than 3 s later;
- no answer at all: after Timer F the state is backing-off with last
  status 408, the next REGISTER comes 3.75 to 5 s later (5 s less up to
  a quarter of jitter), and after its own timeout the wait has doubled
  (backing off until at least 7.5 s ahead);
- a registrar answering garbage (G3: a UDP socket sending bytes that
  are no SIP back to every datagram): backing-off with 408 like one that
  never answers; sipd keeps running;
- every change of state is one log line at major naming the gateway;
- a Contact that names no local account (the default, the gateway's
  name, here) is said in the log.
The old sipd knows no gateways: the configuration does not load."""

import os
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

import sipdtest
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import gwlib  # noqa: E402
from sipdtest import check  # noqa: E402


def until_s(row):
    t = datetime.strptime(row["until"], "%Y-%m-%dT%H:%M:%SZ")
    return t.replace(tzinfo=timezone.utc).timestamp() - time.time()


class Garbage:
    """A UDP socket on 127.0.0.2 answering each datagram with garbage,
    until stopped (at most 200 answers)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.2", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.got = 0
        self.done = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        for _ in range(2000):
            if self.done or self.got >= 200:
                return
            try:
                _, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.got += 1
            self.sock.sendto(b"SIP/2.0 2x0 \x00\xffgarbage\r\n\r\n", peer)
            self.sock.sendto(b"\x16\x03\x01 not sip at all", peer)

    def stop(self):
        self.done = True
        self.thread.join(timeout=2)
        self.sock.close()


def test(binary, started):
    work = tempfile.TemporaryDirectory(prefix="gw-failures-")
    brief = gwlib.Provider(work.name, "brief", "brief.xml", 5,
                           sets=(("minexp", 7),))
    busy = gwlib.Provider(work.name, "busy", "busy.xml", 5,
                          sets=(("ra", 3),))
    silent = gwlib.Provider(work.name, "silent", "silent.xml", 100)
    provs = (brief, busy, silent)
    garbage = Garbage()
    try:
        sipd = sipdtest.Sipd(binary, conf=(
            "set t1 50\n"
            "domain add example.com\n" +
            "".join("gateway add G%d domain provider%d.test via "
                    "127.0.0.2:%d username u%d password p "
                    "register-every 3\n" % (i, i, p.port, i)
                    for i, p in enumerate(provs + (garbage,)))))
        started.append(sipd)
        sipd.start()
        t0 = time.monotonic()

        # 423: asked again with Min-Expires
        regs = brief.wait_requests("REGISTER", 2, 5)
        check(regs[0].first("Expires") == "3" and
              regs[1].first("Expires") == "7", "Expires after the 423: "
              "%s then %s" % (regs[0].first("Expires"),
                              regs[1].first("Expires")))
        check(regs[1].call_id() == regs[0].call_id() and
              regs[1].cseq()[0] == regs[0].cseq()[0] + 1,
              "the 423's retry is not the next CSeq of the same Call-ID")
        row = gwlib.wait_state(sipd, "G0", ("registered",), 5)
        check(row["interval"] == 7, "interval after the 423: %s" % row)
        check(sipd.wait_log("gateway G0, interval raised to 7 s"),
              "no log line for the 423")

        # 503 + Retry-After 3
        row = gwlib.wait_state(sipd, "G1", ("backing-off",), 5)
        check(row["last-status"] == 503, "after a 503: %s" % row)
        first = time.monotonic()
        n = len(busy.received("REGISTER"))
        busy.wait_requests("REGISTER", n + 1, 6)
        gap = time.monotonic() - first
        check(gap >= 2.5, "the REGISTER after Retry-After 3 came %.1f s "
              "later" % gap)

        # no answer: 408, then a backoff that doubles
        row = gwlib.wait_state(sipd, "G2", ("backing-off",), 6)
        check(row["last-status"] == 408, "after a timeout: %s" % row)
        left = until_s(row)
        check(2.0 <= left <= 5.5, "first backoff %.1f s, not 3.75-5" %
              left)
        cseqs = {r.cseq()[0] for r in silent.received("REGISTER")}
        check(len(cseqs) == 1, "a second REGISTER before the backoff "
              "ended: %s" % sorted(cseqs))
        gwlib.wait_state(sipd, "G2", ("registering",), 7)
        deadline = time.monotonic() + 6
        row = gwlib.show(sipd)["G2"]
        while row["state"] != "backing-off" and \
                time.monotonic() < deadline:
            time.sleep(0.1)
            row = gwlib.show(sipd)["G2"]
        check(row["state"] == "backing-off", "second timeout: %s" % row)
        left = until_s(row)
        check(6.5 <= left <= 10.5, "second backoff %.1f s, not 7.5-10" %
              left)
        check(time.monotonic() - t0 < 25, "took too long")
        row = gwlib.show(sipd)["G3"]
        check(row["state"] in ("backing-off", "registering") and
              garbage.got > 0, "the garbage registrar: %s (%d datagrams)"
              % (row, garbage.got))
        check(row["state"] == "registering" or row["last-status"] == 408,
              "after garbage: %s" % row)
        check(sipd.alive(), "sipd died on the garbage")
        # their contacts (the default: the gateway's name) are no
        # accounts: said once, at major
        check(sipd.wait_log("gateway G0, contact G0@example.com is no "
                            "local account"), "no line for a contact that "
              "names no account")
        log = sipd.log()
        for g, s in (("G0", "registered"), ("G1", "backing-off"),
                     ("G2", "backing-off")):
            check("SIPC, gateway %s, %s" % (g, s) in log,
                  "no log line: gateway %s, %s" % (g, s))

        sipdtest.stop_clean(sipd)
    finally:
        garbage.stop()
        for p in provs:
            p.stop()


sipdtest.run(test)
