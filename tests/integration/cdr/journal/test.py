"""Under systemd each call record goes to the journal too, with its
fields.  sipd runs with call records on, JOURNAL_STREAM naming
its stderr (its output is the journal's, as systemd starts it) and, in a mount
namespace of its own, the test's datagram socket where journald's is
(/run/systemd/journal/socket, on a tmpfs /run).  A sipp call answered
and hung up by the caller goes through it.  Checked: the socket
received one entry in the journal's native protocol with
SIPD_COMPONENT=CDR, PRIORITY=6 and SIPD_CALL_ID, SIPD_FROM, SIPD_TO,
SIPD_REQUEST_URI, SIPD_SOURCE, SIPD_USER, SIPD_GATEWAY,
SIPD_INVITE_TIME, SIPD_ANSWER_TIME, SIPD_END_TIME, SIPD_DURATION,
SIPD_STATUS and SIPD_HANGUP each equal to the CSV record's field, and a
MESSAGE naming the call.  sipd built without libsystemd: a skip (a
failure under CI=true); unshare or sipp missing, or no right to mount:
a skip too."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import journald  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import check  # noqa: E402

FIELDS = {"call_id": "SIPD_CALL_ID", "from": "SIPD_FROM", "to": "SIPD_TO",
          "request_uri": "SIPD_REQUEST_URI", "source": "SIPD_SOURCE",
          "user": "SIPD_USER", "gateway": "SIPD_GATEWAY",
          "invite_time": "SIPD_INVITE_TIME",
          "answer_time": "SIPD_ANSWER_TIME", "end_time": "SIPD_END_TIME",
          "duration": "SIPD_DURATION", "status": "SIPD_STATUS",
          "hangup": "SIPD_HANGUP"}


class JournalCall(cdrcall.CdrCall):
    """CdrCall whose sipd starts in a mount namespace with the journal's
    socket where journald's is and stderr the journal's stream: its log
    lines are entries then, so waiting for a line reads them."""

    def __init__(self, binary, started, workdir, journal):
        orig = sipua.ProxySipd.start

        def start(sipd):
            sipd.wrapper = journal.wrapper()
            sipd.wait_log = journal.wait_log
            return orig(sipd)
        sipua.ProxySipd.start = start
        try:
            super().__init__(binary, started, workdir)
        finally:
            sipua.ProxySipd.start = orig


def test(binary, started):
    journald.check_usable(binary)
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        journal = journald.Journal(os.path.join(workdir, "journal"))
        try:
            call = JournalCall(binary, started, workdir, journal)
            call.run(cdrcall.CALLER_BYE)
            rec = call.wait_records(1)[0]
            cdr = journal.wait(lambda e: e.get("SIPD_COMPONENT") == "CDR",
                               3.0)
            time.sleep(0.3)  # a second record would be there by now
            got = journal.entries(lambda e: e.get("SIPD_COMPONENT") ==
                                  "CDR")
            check(cdr, "no entry of a record")
        finally:
            journal.close()
        check(len(got) == 1, "%d journal entries of records: %r" % (
            len(got), got))
        e = got[0]
        check(e.get("PRIORITY") == "6", "priority %r" % e.get("PRIORITY"))
        for k, field in FIELDS.items():
            check(e.get(field) == rec[k], "journal %s is %r, the record's "
                  "%s %r" % (field, e.get(field), k, rec[k]))
        check(rec["call_id"] in e.get("MESSAGE", "") and
              "caller-bye" in e.get("MESSAGE", ""),
              "MESSAGE %r" % e.get("MESSAGE"))
        sipdtest.stop_clean(call.sipd)


sipdtest.run(test)
