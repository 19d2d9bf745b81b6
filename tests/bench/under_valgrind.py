"""What a sipd configuration needs for sipd to run under valgrind.

valgrind (3.19) does not follow io_uring: a thread waiting in
io_uring_enter() holds valgrind's lock and the other threads stall, so
sipd's media relay must use its epoll loop there (`set media-io epoll`,
sipd.conf(5)).  A sipd built before that setting has only the epoll loop
and would refuse the line; `sipd -t` says which it is.
"""
import subprocess
import tempfile


def conf_lines(sipd):
    """The lines to add to a configuration sipd runs under valgrind."""
    line = "set media-io epoll"
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write(line + "\n")
        f.flush()
        res = subprocess.run([sipd, "-t", "-c", f.name],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=30)
    return [line] if res.returncode == 0 else []
