"""Signals (sipd.8, "Signals").

SIGHUP: the configuration file is read again and what changed applied.
A listener added to the file answers OPTIONS after SIGHUP; taken out of
the file, it stops answering and its port is free again; a log level
changed in the file applies.  A file with an error changes nothing
(the added listener stays closed).

SIGTERM: running transactions may finish.  A MESSAGE is forwarded to a
UAS that has not answered when sipd gets SIGTERM; a new request then is
refused 503; the UAS's 200 still reaches the caller; sipd exits 0.
With nothing running, it stops well within its grace time."""

import os
import signal
import time

import sipdtest
import sipua
from sipdtest import Peer, check, free_udp_port, request

GRACE = 2.0  # bounds the waits below (set stop-grace is longer)


def answers(port, timeout=0.3):
    peer = Peer()
    try:
        r = peer.ask(request("OPTIONS", port), port, timeout=timeout)
        return r is not None and r.status == 200
    finally:
        peer.close()


def bindable(port):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def until(what, fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.05) + 1):
        if fn():
            return
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check(fn(), "%s: not within %.0f s" % (what, timeout))


def sighup(sipd):
    with open(sipd.conf_path) as f:
        original = f.read()
    port = free_udp_port()
    with open(sipd.conf_path, "w") as f:
        f.write(original + "listener add udp 127.0.0.1:%d\n"
                "log level server low-level\n" % port)
    os.kill(sipd.proc.pid, signal.SIGHUP)
    until("the added listener answering", lambda: answers(port, 1.0))
    peer = Peer()
    try:
        peer.ask(request("OPTIONS", sipd.port), sipd.port)
        mark = "answered OPTIONS from 127.0.0.1:%d" % peer.port
    finally:
        peer.close()
    check(sipd.wait_log(mark, 5.0), "log level from the file not applied")

    with open(sipd.conf_path, "w") as f:
        f.write(original)
    os.kill(sipd.proc.pid, signal.SIGHUP)
    until("the removed listener's port free", lambda: bindable(port))
    check(not answers(port), "the removed listener still answers")
    # an answer may be slow on a loaded machine: asked again, bounded
    until("the first listener answering", lambda: answers(sipd.port, 1.0))

    other = free_udp_port()
    with open(sipd.conf_path, "w") as f:
        f.write(original + "listener add udp 127.0.0.1:%d\n"
                "set t1 no-such-value\n" % other)
    os.kill(sipd.proc.pid, signal.SIGHUP)
    # the error is logged; meanwhile nothing opened
    check(sipd.wait_log("reload failed, configuration unchanged", 5.0) and
          "no-such-value" in sipd.log(), "the bad file's error not logged")
    check(not answers(other, 0.5), "a file with an error opened a listener")
    with open(sipd.conf_path, "w") as f:
        f.write(original)


def sigterm(binary, started):
    uac, uas = sipua.UA(), sipua.UA()
    try:
        sipd = sipua.start_proxy(binary, started)
        call = sipua.Call(uac, uas.uri("uas"))
        uac.send(call.request("MESSAGE"), sipd.port)
        msg = uas.expect_request("MESSAGE", call.call_id)
        stopped = time.monotonic()
        os.kill(sipd.proc.pid, signal.SIGTERM)
        check(sipd.wait_log("stopping (SIGTERM)", 2.0), "no stop line")
        late = sipua.Call(uac, uas.uri("uas"))
        uac.send(late.request("MESSAGE"), sipd.port)
        refused = uac.expect_response(503, late, timeout=GRACE)
        check(refused.status == 503, "a request while stopping got %d" %
              refused.status)
        stray = [m for m in uas.collect(0.1) if m.is_request()]
        check(stray == [], "forwarded while stopping: %s" % stray)
        uas.respond(msg, 200)
        uac.expect_response(200, call, timeout=GRACE)
        sipd.proc.wait(GRACE + 5)
        took = time.monotonic() - stopped
        print("stopped %.2f s after SIGTERM with one transaction running"
              % took)
        sipdtest.stop_clean(sipd)

        idle = sipua.start_proxy(binary, started)
        t0 = time.monotonic()
        sipdtest.stop_clean(idle)
        took = time.monotonic() - t0
        print("stopped %.2f s after SIGTERM with nothing running" % took)
        check(took < GRACE, "an idle sipd took %.2f s to stop, its whole "
              "grace time (%.0f s)" % (took, GRACE))
    finally:
        uac.close()
        uas.close()


def test(binary, started):
    sipd = sipdtest.Sipd(binary)
    started.append(sipd)
    sipd.start()
    sighup(sipd)
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)
    sigterm(binary, started)


sipdtest.run(test)
