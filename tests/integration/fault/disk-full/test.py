"""A full disk under the registration store (sipd.8, "Registrar").

The store lives on a small tmpfs this test mounts (it needs root; a
skip otherwise, a failure under CI).  Contacts are registered, then the
file system is filled: REGISTERs that would add a binding are answered
500 (Store Failure), as the peer receives it, with a log line, and none
of them is listed; OPTIONS is still answered.  The filler removed, a
REGISTER is answered 200 again within seconds.  After a clean stop the
store passes SQLite's integrity check, and a restart lists exactly the
contacts answered 200."""

import os
import sqlite3
import subprocess
import tempfile
import time

import regload
import sipdtest
import sipreg
from regload import ACCOUNTS, DOMAIN, Sender
from sipdtest import Peer, Sipd, Skip, check, request


def fill(path):
    """Write path until the file system is full, in smaller and smaller
    pieces (bounded)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512):
            for _ in range(4096):
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)


def listed(sipd):
    got = set()
    for a in range(ACCOUNTS):
        for r in sipreg.registrations(sipd, "a%d@%s" % (a, DOMAIN)):
            got.add(r["contact"])
    return {int(c.split("@")[0][len("sip:c"):]) for c in got}


def test(binary, started):
    sipdtest.sipctl_binary()
    if os.geteuid() != 0:
        raise Skip("mounting a tmpfs needs root")
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as work:
        mnt = os.path.join(work, "store")
        os.mkdir(mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m",
                            "sipdtest", mnt], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            raise Skip("cannot mount a tmpfs: %s" % p.stdout.strip())
        try:
            run(binary, started, mnt)
        finally:
            for s in started:
                s.stop()
            subprocess.run(["umount", mnt])


def run(binary, started, mnt):
    store = os.path.join(mnt, "reg.db")
    sipd = Sipd(binary, conf=regload.CONF + "set reg-store %s\n" % store)
    started.append(sipd)
    sipd.start()
    sender = Sender(sipd.port)
    sender.challenges()
    sender.run(0, 200)
    check(len(sender.acked()) == 200, "the first 200 REGISTERs: %s" %
          sorted(set(sender.status.values())))

    filler = os.path.join(mnt, "filler")
    fill(filler)
    # bindings go on the pages SQLite holds already until it needs more:
    # REGISTER until the first 500 (bounded)
    k = 200
    for _ in range(40):
        sender.run(k, 100)
        k += 100
        if 500 in sender.status.values():
            break
    refused = {x for x, s in sender.status.items() if s != 200}
    statuses = {sender.status[x] for x in refused}
    print("disk full: %d REGISTERs refused %s, %d answered 200" % (
        len(refused), sorted(statuses), len(sender.acked())))
    check(refused and statuses == {500},
          "no 500 with the disk full: %s" % sorted(set(
              sender.status.values())))
    check(sipd.wait_log("with 500 (Store Failure)", 2.0),
          "no log line for the refused REGISTER")
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", sipd.port), sipd.port, timeout=2)
        check(r is not None and r.status == 200,
              "OPTIONS not answered with the disk full")
    finally:
        peer.close()
    got = listed(sipd)
    check(not (got & refused), "refused contacts listed: %s" % sorted(
        got & refused)[:10])

    # space again: registrations work again
    os.unlink(filler)
    ok = False
    for _ in range(50):
        n = len(sender.acked())
        sender.run(k, 10)
        k += 10
        if len(sender.acked()) == n + 10:
            ok = True
            break
        time.sleep(0.1)
    check(ok, "REGISTER still refused after the space came back")
    print("space back: REGISTER answered 200 again")
    acked = sender.acked()
    sipdtest.stop_clean(sipd)

    db = sqlite3.connect(store)
    try:
        res = db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
    check(res == [("ok",)], "integrity check: %s" % res)
    sipd.start()
    got = listed(sipd)
    check(got == acked, "after a restart: %d listed, %d answered 200; "
          "missing %s, extra %s" % (len(got), len(acked),
                                    sorted(acked - got)[:10],
                                    sorted(got - acked)[:10]))
    print("restart: the %d contacts answered 200, no other" % len(got))
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
