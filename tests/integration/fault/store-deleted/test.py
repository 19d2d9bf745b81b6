"""The registration store deleted under sipd (sipd.8, "Registrar").

Contacts are registered, then the store's file is removed while sipd
runs (first the file alone, as "rm registrations.db" does; later the
file with its -wal and -shm).  The next REGISTER is answered 200, sipd
logs that the store was deleted and writes it anew from the bindings it
holds, and the file is there again.  After kill -9 and a restart on the
same path, every contact answered 200 is listed, those registered
before the deletion included.  The old sipd said nothing and kept
writing to the deleted file, so that a restart lost every binding."""

import os
import signal

import regload
import sipdtest
import sipreg
from regload import ACCOUNTS, DOMAIN, Sender
from sipdtest import Sipd, check


def listed(sipd):
    got = set()
    for a in range(ACCOUNTS):
        for r in sipreg.registrations(sipd, "a%d@%s" % (a, DOMAIN)):
            got.add(int(r["contact"].split("@")[0][len("sip:c"):]))
    return got


def test(binary, started):
    sipdtest.sipctl_binary()
    sipd = Sipd(binary, conf=regload.CONF)
    started.append(sipd)
    sipd.start()
    store = os.path.join(sipd.dir.name, "registrations.db")
    sender = Sender(sipd.port)
    sender.challenges()
    sender.run(0, 300)
    check(os.path.exists(store), "no store at %s" % store)

    os.unlink(store)
    sender.run(300, 100)
    check(sipd.wait_log("was deleted or replaced under sipd", 3.0),
          "no log line for the deleted store")
    check(os.path.exists(store), "the store was not written anew")

    for sfx in ("", "-wal", "-shm"):
        if os.path.exists(store + sfx):
            os.unlink(store + sfx)
    sender.run(400, 100)
    check(os.path.exists(store), "the store was not written anew twice")
    acked = sender.acked()
    check(len(acked) == 500, "%d of 500 answered 200: %s" % (
        len(acked), sorted(set(sender.status.values()))))

    os.kill(sipd.proc.pid, signal.SIGKILL)
    sipd.proc.wait(timeout=5)
    sipd.proc = None
    with open(sipd.conf_path) as f:
        sipd.start_from(f.read())
    got = listed(sipd)
    missing = sorted(acked - got)
    print("store deleted twice under sipd; after kill -9 and a restart "
          "%d of the %d contacts answered 200 are listed" % (
              len(acked & got), len(acked)))
    check(not missing, "%d contacts answered 200 are gone: %s" % (
        len(missing), missing[:10]))
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
