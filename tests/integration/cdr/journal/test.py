"""Under systemd each call record goes to the journal too, with its
fields.  sipd runs with call records on, JOURNAL_STREAM set (its
output is the journal's, as systemd starts it) and, in a mount
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
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

import cdrcall  # noqa: E402
import sipdtest  # noqa: E402
import sipua  # noqa: E402
from sipdtest import Skip, check  # noqa: E402

FIELDS = {"call_id": "SIPD_CALL_ID", "from": "SIPD_FROM", "to": "SIPD_TO",
          "request_uri": "SIPD_REQUEST_URI", "source": "SIPD_SOURCE",
          "user": "SIPD_USER", "gateway": "SIPD_GATEWAY",
          "invite_time": "SIPD_INVITE_TIME",
          "answer_time": "SIPD_ANSWER_TIME", "end_time": "SIPD_END_TIME",
          "duration": "SIPD_DURATION", "status": "SIPD_STATUS",
          "hangup": "SIPD_HANGUP"}


def entries(sock, timeout):
    """The journal entries received within timeout: dicts of fields."""
    out = []
    deadline = time.monotonic() + timeout
    for _ in range(100):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        fields = {}
        for line in data.decode("utf-8", "replace").split("\n"):
            key, eq, value = line.partition("=")
            if eq:
                fields[key] = value
        out.append(fields)
    return out


class JournalCall(cdrcall.CdrCall):
    """CdrCall whose sipd starts in a mount namespace with jdir where
    journald's socket directory is, and JOURNAL_STREAM set."""

    def __init__(self, binary, started, workdir, jdir):
        self.jdir = jdir
        orig = sipua.ProxySipd.start

        def start(sipd):
            sipd.wrapper = [
                "unshare", "--mount", "--propagation", "private",
                "sh", "-c", 'mount -t tmpfs none /run && '
                'mkdir -p /run/systemd/journal && '
                'mount --bind "$0" /run/systemd/journal && '
                'exec env JOURNAL_STREAM=8:8 "$@"', jdir]
            return orig(sipd)
        sipua.ProxySipd.start = start
        try:
            super().__init__(binary, started, workdir)
        finally:
            sipua.ProxySipd.start = orig


def test(binary, started):
    if shutil.which("unshare") is None:
        raise Skip("unshare not installed")
    with open(binary, "rb") as f:
        if b"sd_journal_send" not in f.read():
            raise Skip("sipd built without libsystemd")
    if os.geteuid() != 0 or subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs none /run"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, timeout=10).returncode != 0:
        raise Skip("no right to make a mount namespace")
    with tempfile.TemporaryDirectory(prefix="sipdtest-") as workdir:
        jdir = os.path.join(workdir, "journal")
        os.mkdir(jdir)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(os.path.join(jdir, "socket"))
        try:
            call = JournalCall(binary, started, workdir, jdir)
            call.run(cdrcall.CALLER_BYE)
            rec = call.wait_records(1)[0]
            got = [e for e in entries(sock, 3.0)
                   if e.get("SIPD_COMPONENT") == "CDR"]
        finally:
            sock.close()
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
