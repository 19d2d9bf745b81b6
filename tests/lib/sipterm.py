"""sipctl's interactive shell under a pseudo-terminal, for the ctl tests:
type keys, read what the terminal shows (every read bounded in time)."""

import os
import pty
import select
import subprocess
import time


class Term:
    def __init__(self, argv, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
                                     stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.out = b""

    def read(self, want, timeout=5.0):
        """Read until want shows in the output (bounded)."""
        deadline = time.monotonic() + timeout
        while want.encode() not in self.out:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    return False
                if not data:
                    return False
                self.out += data
        return True

    def type(self, text):
        os.write(self.master, text.encode())

    def mark(self):
        self.out = b""

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        os.close(self.master)
