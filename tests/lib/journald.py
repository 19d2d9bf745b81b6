"""A stand-in for journald: a datagram socket, bound where journald's
is (/run/systemd/journal/socket) inside sipd's own mount namespace,
read by a thread so that sipd never waits on a full queue (the kernel
queues 10 datagrams; journald's clients block past that).  Entries are
dicts of fields: every field sipd sends is text on one line, the simple
form of the journal's native protocol."""

import os
import shutil
import socket
import subprocess
import threading
import time

from sipdtest import Skip


def check_usable(binary):
    """Skip unless sipd has libsystemd and this test may mount /run in a
    namespace of its own."""
    if shutil.which("unshare") is None or shutil.which("stat") is None:
        raise Skip("unshare or stat not installed")
    with open(binary, "rb") as f:
        if b"sd_journal_send" not in f.read():
            raise Skip("sipd built without libsystemd")
    if os.geteuid() != 0 or subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs none /run"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, timeout=10).returncode != 0:
        raise Skip("no right to make a mount namespace")


def parse(data):
    fields = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        key, eq, value = line.partition("=")
        if eq:
            fields[key] = value
    return fields


class Journal:
    """The socket in directory jdir (made here), read until close()."""

    def __init__(self, jdir):
        self.jdir = jdir
        os.makedirs(jdir, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.path.join(jdir, "socket"))
        self.sock.settimeout(0.1)
        self.got = []
        self.done = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.done:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.got.append(parse(data))

    def wrapper(self, stream=None):
        """A Sipd wrapper: sipd in a mount namespace with this socket
        where journald's is, JOURNAL_STREAM stream or, by default,
        stderr's device and inode (stderr is the journal's stream)."""
        env = ('JOURNAL_STREAM="%s"' % stream if stream else
               'JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)"')
        return ["unshare", "--mount", "--propagation", "private",
                "sh", "-c", 'mount -t tmpfs none /run && '
                'mkdir -p /run/systemd/journal && '
                'mount --bind "$0" /run/systemd/journal && '
                'exec env ' + env + ' "$@"', self.jdir]

    def entries(self, pred=lambda e: True):
        return [e for e in list(self.got) if pred(e)]

    def wait(self, pred, timeout=2.0):
        """The entries pred accepts, once there is one (bounded)."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            found = self.entries(pred)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
        return self.entries(pred)

    def wait_log(self, text, timeout=2.0):
        """True once an entry's MESSAGE holds text: Sipd.wait_log's
        stand-in when the lines go to the journal."""
        return bool(self.wait(lambda e: text in e.get("MESSAGE", ""),
                              timeout))

    def close(self):
        self.done = True
        self.thread.join(2.0)
        self.sock.close()
