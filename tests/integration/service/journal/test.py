"""Under systemd, log lines go to the journal with fields.  sipd runs in
a mount namespace of its own with the test's datagram socket where
journald's is (/run/systemd/journal/socket, on a tmpfs /run), with the
server and client components at low-level, and JOURNAL_STREAM naming
its stderr's device and inode, as systemd sets it when stderr is the
journal's stream.  An OPTIONS to sipd and a MESSAGE it relays give SIPS
and SIPC lines.  Checked on what the socket received (the journal's
native protocol): an entry with SIPD_COMPONENT=SIPS, PRIORITY=6 (info,
a low-level line) and MESSAGE "SIPS, answered OPTIONS from ADDRESS
with 200" naming the test's peer; one with SIPD_COMPONENT=SIPC; one
with SIPD_COMPONENT=SIP and PRIORITY=5 (notice, a major line: the
start); the lines not on stderr too.  Then with JOURNAL_STREAM naming
another stream (stderr redirected since systemd started sipd): the
lines stay on stderr and nothing reaches the socket.  With "log output
journal" in the file (and JOURNAL_STREAM another stream): entries with
fields again, none on stderr, "show settings" says journal; "sipctl log
output stderr" moves the lines to stderr (no entry), "log output
journal" back to the journal.  sipd built
without libsystemd: a skip (a failure under CI=true); unshare missing
or no right to mount: a skip too."""

import json
import os
import socket
import tempfile
import time

import journald
import sipdtest
from sipdtest import Peer, Sipd, check, request, sipctl

CONF = "log level server low-level\nlog level client low-level\n"


def exchange(sipd):
    """An OPTIONS to sipd (SIPS lines) and a MESSAGE it relays to a
    callee (SIPC lines); the OPTIONS answered, the MESSAGE received.
    Returns what the SIPS line of the OPTIONS says."""
    peer = Peer()
    callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        callee.bind(("127.0.0.1", 0))
        resp = peer.ask(request("OPTIONS", sipd.port), sipd.port)
        check(resp is not None and resp.status == 200,
              "OPTIONS answered %r" % (resp and resp.status))
        uri = "sip:bob@127.0.0.1:%d" % callee.getsockname()[1]
        peer.send(request("MESSAGE", sipd.port, uri=uri), sipd.port)
        callee.settimeout(2.0)
        check(callee.recv(65536).startswith(b"MESSAGE "),
              "the MESSAGE was not relayed")
        return "answered OPTIONS from 127.0.0.1:%d with 200" % peer.port
    finally:
        peer.close()
        callee.close()


def test(binary, started):
    journald.check_usable(binary)
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        journal = journald.Journal(os.path.join(workdir, "journal"))
        try:
            # stderr is the journal's stream: entries with fields
            sipd = Sipd(binary, conf=CONF)
            started.append(sipd)
            sipd.wrapper = journal.wrapper()
            sipd.start()
            line = exchange(sipd)
            sips = journal.wait(lambda e: line in e.get("MESSAGE", ""))
            check(sips, "no entry of the OPTIONS: %r" % journal.entries())
            e = sips[0]
            check(e.get("SIPD_COMPONENT") == "SIPS", "SIPD_COMPONENT %r" %
                  e.get("SIPD_COMPONENT"))
            check(e.get("PRIORITY") == "6", "PRIORITY %r" %
                  e.get("PRIORITY"))
            check(e.get("MESSAGE") == "SIPS, " + line,
                  "MESSAGE %r" % e.get("MESSAGE"))
            check(journal.wait(lambda e: e.get("SIPD_COMPONENT") == "SIPC"),
                  "no SIPC entry: %r" % journal.entries())
            start = journal.entries(lambda e: " started (pid " in
                                    e.get("MESSAGE", ""))
            check(start and start[0].get("SIPD_COMPONENT") == "SIP" and
                  start[0].get("PRIORITY") == "5",
                  "the start's entry: %r" % start)
            check(line not in sipd.log(),
                  "the lines went to stderr too:\n" + sipd.log())
            sipdtest.stop_clean(sipd)
            started.remove(sipd)
            sipd.cleanup()
            time.sleep(0.3)  # its lines on stopping
            before = len(journal.entries())

            # JOURNAL_STREAM names another stream: stderr, as before
            sipd = Sipd(binary, conf=CONF)
            started.append(sipd)
            sipd.wrapper = journal.wrapper("8:8")
            sipd.start()
            line = exchange(sipd)
            check(sipd.wait_log(line),
                  "the lines are not on stderr:\n" + sipd.log())
            check(len(journal.entries()) == before, "entries reached the "
                  "socket: %r" % journal.entries()[before:])
            sipdtest.stop_clean(sipd)
            started.remove(sipd)
            sipd.cleanup()

            # "log output journal": the journal whatever stderr is; set
            # back to stderr and to the journal again by sipctl
            sipd = Sipd(binary, conf=CONF + "log output journal\n")
            started.append(sipd)
            sipd.wrapper = journal.wrapper("8:8")
            sipd.start()
            line = exchange(sipd)
            check(journal.wait(lambda e: e.get("MESSAGE") == "SIPS, " +
                               line and e.get("PRIORITY") == "6"),
                  "log output journal: no entry %r" % line)
            check(line not in sipd.log(), "log output journal: on stderr")
            p = sipctl(sipd, "-j", "show", "settings")
            rows = json.loads(p.stdout)["data"]
            out = [r["value"] for r in rows if r["setting"] == "log-output"]
            check(out == ["journal"], "show settings log-output %r" % out)
            p = sipctl(sipd, "log", "output", "stderr")
            check(p.returncode == 0, "log output stderr: %r" % p.stderr)
            line = exchange(sipd)
            check(sipd.wait_log(line), "log output stderr: not on stderr")
            check(not journal.entries(lambda e: line in
                                      e.get("MESSAGE", "")),
                  "log output stderr: an entry")
            p = sipctl(sipd, "log", "output", "journal")
            check(p.returncode == 0, "log output journal: %r" % p.stderr)
            line = exchange(sipd)
            check(journal.wait(lambda e: line in e.get("MESSAGE", "")),
                  "log output journal again: no entry")
            sipdtest.stop_clean(sipd)
        finally:
            journal.close()


sipdtest.run(test)
