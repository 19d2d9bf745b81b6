"""Workaround noPath, on the wire (sipd.conf(5), Workarounds).

sipd stays in dialogs (force-rr), so a REGISTER it forwards to another
registrar with "Supported: path" gets sipd's Path (RFC 3327).  The
registrars are Python peers on 127.0.0.2 (sites table: noPath) and
127.0.0.3 (no entry); the device is sipp on 127.0.0.1 ("User-Agent: Acme
Phone 1.0"), sipd's only client-ip; requests from non-clients are relayed
to nobody.

- To 127.0.0.3 the REGISTER arrives with "Path: <sip:sipd;lr>" and the
  device's own Contact.
- To 127.0.0.2 it arrives with no Path and a Contact of sipd's
  (sip:np...@127.0.0.1:PORT); the 200 the device receives lists its own
  Contact again.
- The registrar calls that Contact: the INVITE reaches the device (sipp)
  with its own Contact as Request-URI, the 200 comes back, the ACK goes
  through.
- The same Contact with one character of its encoded part changed, or
  its signature changed, is refused (no 2xx; the device gets nothing).
- The same through Kamailio (on 127.0.0.2, registrar without Path):
  sipp registers there through sipd, gets its own Contact back, and a
  call that Kamailio routes by its location table (sipd's Contact)
  reaches sipp with its own Contact as Request-URI; the ACK follows.
- After "workaround site remove 127.0.0.2" the REGISTER to 127.0.0.2
  carries Path and the device's Contact again."""

import os
import shutil
import socket
import subprocess

import sipdtest
import sipreg
from sipdtest import Skip, check
from sipua import UA, Call, ProxySipd, Sipp, free_port, silence

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = """set force-rr on
client-ip remove 127.0.0.0/8
client-ip add 127.0.0.1/32
relay to-non-clients nobody
workaround site add 127.0.0.2 noPath
log level client low-level
"""


def register(sipd, registrar, dev_port, name):
    """sipp registers dev at registrar through sipd; the registrar answers
    200 listing the Contacts it got.  Returns (the REGISTER the registrar
    received, the 200 sipp received)."""
    trace = os.path.join(sipd.dir.name, name + ".log")
    run = Sipp(sipd.dir.name, name, [
        "-sf", os.path.join(HERE, "register.xml"),
        "127.0.0.1:%d" % sipd.port, "-i", "127.0.0.1", "-p", str(dev_port),
        "-key", "registrar", "%s:%d" % (registrar.host, registrar.port),
        "-m", "1", "-timeout", "10s", "-trace_msg", "-message_file", trace])
    try:
        req = registrar.expect_request("REGISTER", None, 5)
        registrar.respond(req, 200, extra=[
            ("Contact", c) for c in req.get("Contact")])
        rc = run.wait(15)
    finally:
        run.kill()
    check(rc == 0, "sipp REGISTER exited %d:\n%s" % (rc,
                                                     run.output()[-2000:]))
    oks = [w.msg for w in sipreg.sipp_trace(trace)
           if w.way == "in" and w.msg.status == 200]
    check(len(oks) == 1, "sipp received %d 200s" % len(oks))
    return req, oks[0]


def start_kamailio(sipd, name):
    """Kamailio (kamailio.cfg) on 127.0.0.2, answering; its port."""
    kam = shutil.which("kamailio")
    if kam is None:
        raise Skip("kamailio not installed")
    port = free_port("127.0.0.2")
    rundir = os.path.join(sipd.dir.name, name)
    os.mkdir(rundir)
    out = open(os.path.join(rundir, "out"), "w")
    proc = subprocess.Popen([kam, "-DD", "-E", "-f",
                             os.path.join(HERE, "kamailio.cfg"),
                             "-l", "udp:127.0.0.2:%d" % port, "-Y", rundir,
                             "-m", "32", "-M", "4"],
                            stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT)
    probe = UA("127.0.0.3")
    try:
        for _ in range(50):
            probe.send(Call(probe, "sip:127.0.0.2:%d" % port).request(
                "OPTIONS"), port, "127.0.0.2")
            if any(not m.is_request() and m.status == 200
                   for m in probe.collect(0.1)):
                return proc, port
        proc.kill()
        proc.wait(5)
        raise sipdtest.Fail("kamailio did not answer on 127.0.0.2:%d" % port)
    finally:
        probe.close()


def through_kamailio(sipd, dev_port, own):
    """The device registers at Kamailio (127.0.0.2, noPath) through sipd;
    a caller calls it there: Kamailio's lookup() gives sipd's Contact,
    sipd the device's.  Returns the INVITE the device got."""
    proc, port = start_kamailio(sipd, "kamailio")
    caller = UA("127.0.0.2")
    try:
        trace = os.path.join(sipd.dir.name, "kam-reg.log")
        run = Sipp(sipd.dir.name, "kam-reg", [
            "-sf", os.path.join(HERE, "register.xml"),
            "127.0.0.1:%d" % sipd.port, "-i", "127.0.0.1",
            "-p", str(dev_port), "-key", "registrar",
            "127.0.0.2:%d" % port, "-m", "1", "-timeout", "10s",
            "-trace_msg", "-message_file", trace])
        try:
            rc = run.wait(15)
        finally:
            run.kill()
        check(rc == 0, "sipp REGISTER at Kamailio exited %d:\n%s" % (
            rc, run.output()[-2000:]))
        oks = [w.msg for w in sipreg.sipp_trace(trace)
               if w.way == "in" and w.msg.status == 200]
        check(len(oks) == 1 and oks[0].get("Contact") and
              oks[0].get("Contact")[0].startswith(own.split(";")[0]),
              "Kamailio's 200 reached the device with Contact %r" % (
                  oks[0].get("Contact") if oks else None))
        trace = os.path.join(sipd.dir.name, "kam-answer.log")
        dev = Sipp(sipd.dir.name, "kam-answer", [
            "-sf", os.path.join(HERE, "answer.xml"), "-i", "127.0.0.1",
            "-p", str(dev_port), "-m", "1", "-timeout", "10s",
            "-trace_msg", "-message_file", trace])
        try:
            final = None
            for _ in range(20):
                c = Call(caller, "sip:dev@127.0.0.2:%d" % port)
                caller.send(c.request("INVITE"), port, "127.0.0.2")
                final = next((m for m in caller.collect(silence())
                              if not m.is_request() and m.status >= 200 and
                              m.call_id() == c.call_id), None)
                if final is not None and final.status == 200:
                    break
            check(final is not None and final.status == 200,
                  "the call through Kamailio got %r" % final)
            caller.send(c.ack(final), sipd.port)
            rc = dev.wait(15)
        finally:
            dev.kill()
        check(rc == 0, "sipp answer exited %d:\n%s" % (
            rc, dev.output()[-2000:]))
        invites = [w.msg for w in sipreg.sipp_trace(trace)
                   if w.way == "in" and w.msg.method == "INVITE"]
        return invites[-1] if invites else None
    finally:
        caller.close()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def uri_of(contact):
    return contact.partition("<")[2].partition(">")[0]


def call(sipd, registrar, uri):
    """The registrar calls uri (sent where its host says: sipd); returns
    the final response it gets, or None."""
    c = Call(registrar, uri)
    host, _, port = uri.partition("@")[2].split(";")[0].partition(":")
    registrar.send(c.request("INVITE"), int(port), host)
    final = None
    for m in registrar.collect(silence()):
        if not m.is_request() and m.status >= 200 and \
                m.call_id() == c.call_id:
            final = m
            break
    if final is not None and final.status < 300:
        registrar.send(c.ack(final), sipd.port)
    return final


def test(binary, started):
    sipd = ProxySipd(binary, conf=lambda s: CONF)
    started.append(sipd)
    sipd.start()
    reg2, reg3 = UA("127.0.0.2"), UA("127.0.0.3")
    dev_port = free_port()
    own = "<sip:dev@127.0.0.1:%d>;expires=300" % dev_port
    try:
        req, ok = register(sipd, reg3, dev_port, "reg3")
        check(req.get("Path") == ["<sip:127.0.0.1:%d;lr>" % sipd.port],
              "127.0.0.3 got Path %r" % req.get("Path"))
        check(req.get("Contact") == [own],
              "127.0.0.3 got Contact %r" % req.get("Contact"))

        req, ok = register(sipd, reg2, dev_port, "reg2")
        check(req.get("Path") == [], "127.0.0.2 (noPath) got Path %r" %
              req.get("Path"))
        got = req.get("Contact")
        check(len(got) == 1 and got[0].startswith("<sip:np") and
              got[0].endswith("@127.0.0.1:%d>;expires=300" % sipd.port),
              "127.0.0.2 got Contact %r, not one of sipd's" % got)
        check(ok.get("Contact") == [own],
              "the device got the 200's Contact %r, not %r" % (
                  ok.get("Contact"), own))
        check(sipd.wait_log("workaround, noPath to 127.0.0.2:%d" %
                            reg2.port), "no low-level line for noPath")
        contact = uri_of(got[0])

        # the registrar calls the Contact it holds: the device answers
        trace = os.path.join(sipd.dir.name, "answer.log")
        dev = Sipp(sipd.dir.name, "answer", [
            "-sf", os.path.join(HERE, "answer.xml"), "-i", "127.0.0.1",
            "-p", str(dev_port), "-m", "1", "-timeout", "10s",
            "-trace_msg", "-message_file", trace])
        try:
            final = None
            for _ in range(20):
                # sipp may not listen yet: 408 or nothing, then again
                final = call(sipd, reg2, contact)
                if final is not None and final.status == 200:
                    break
            rc = dev.wait(15)
        finally:
            dev.kill()
        check(final is not None and final.status == 200,
              "the registrar's call got %r" % final)
        check(rc == 0, "sipp answer exited %d:\n%s" % (
            rc, dev.output()[-2000:]))
        invites = [w.msg for w in sipreg.sipp_trace(trace)
                   if w.way == "in" and w.msg.method == "INVITE"]
        check(invites and invites[-1].uri == "sip:dev@127.0.0.1:%d" %
              dev_port, "the device got %r" % invites)

        # forged: the encoded part or the signature changed
        dev = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dev.bind(("127.0.0.1", dev_port))
        try:
            user = contact[4:contact.index("@")]
            flip = "B" if user[6] == "A" else "A"
            forged = [contact.replace(user, user[:6] + flip + user[7:]),
                      contact.replace(user, user[:-1] + (
                          "0" if user[-1] != "0" else "1"))]
            for uri in forged:
                final = call(sipd, reg2, uri)
                check(final is None or final.status >= 300,
                      "forged %s got %r" % (uri, final))
            dev.settimeout(silence())
            try:
                data = dev.recv(65536)
            except socket.timeout:
                data = None
            check(data is None, "the device got %r from forged Contacts" %
                  (data or b"")[:200])
        finally:
            dev.close()

        # a real registrar without Path: Kamailio routes a call to the
        # Contact it holds, sipd's, and the call reaches the device
        inv = through_kamailio(sipd, dev_port, own)
        check(inv is not None and inv.uri == "sip:dev@127.0.0.1:%d" %
              dev_port, "the device got %r through Kamailio" % inv)

        sipdtest.sipctl(sipd, "workaround", "site", "remove", "127.0.0.2")
        req, ok = register(sipd, reg2, dev_port, "reg2b")
        check(req.get("Path") == ["<sip:127.0.0.1:%d;lr>" % sipd.port],
              "after remove 127.0.0.2 got Path %r" % req.get("Path"))
        check(req.get("Contact") == [own],
              "after remove 127.0.0.2 got Contact %r" % req.get("Contact"))
    finally:
        reg2.close()
        reg3.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
