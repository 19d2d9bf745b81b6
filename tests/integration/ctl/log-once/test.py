"""Each event is logged once, however many workers share it: with two
workers, a listener opened at start, one added and one removed with
sipctl each give one "listening on" or "stopped listening on" line (it
was one per worker)."""

import sipdtest
from sipdtest import Sipd, check, free_udp_port, sipctl


def count(sipd, text):
    return sum(1 for line in sipd.log().splitlines()
               if line.endswith(", " + text))


def test(binary, started):
    tcp = free_udp_port()
    sipd = Sipd(binary, conf="set processors 2\n"
                "listener add tcp 127.0.0.1:%d" % tcp)
    started.append(sipd)
    sipd.start()
    check(count(sipd, "listening on udp 127.0.0.1:%d" % sipd.port) == 1,
          "udp listener logged %d times" %
          count(sipd, "listening on udp 127.0.0.1:%d" % sipd.port))
    check(count(sipd, "listening on tcp 127.0.0.1:%d" % tcp) == 1,
          "tcp listener logged %d times" %
          count(sipd, "listening on tcp 127.0.0.1:%d" % tcp))
    other = free_udp_port()
    p = sipctl(sipd, "listener", "add", "udp", "127.0.0.1:%d" % other)
    check(p.returncode == 0, "listener add: %r" % p.stderr)
    want = "listening on udp 127.0.0.1:%d" % other
    check(sipd.wait_log(want, 2.0), "no line for the added listener")
    p = sipctl(sipd, "listener", "remove", "udp", "127.0.0.1:%d" % other)
    check(p.returncode == 0, "listener remove: %r" % p.stderr)
    gone = "stopped listening on udp 127.0.0.1:%d" % other
    check(sipd.wait_log(gone, 2.0), "no line for the removed listener")
    sipdtest.stop_clean(sipd)
    check(count(sipd, want) == 1 and count(sipd, gone) == 1,
          "added listener logged %d times, removed %d times" % (
              count(sipd, want), count(sipd, gone)))


sipdtest.run(test)
