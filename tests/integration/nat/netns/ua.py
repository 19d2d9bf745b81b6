#!/usr/bin/python3
"""A user agent run inside a network namespace by test.py (ip netns exec),
reporting what it sees as JSON lines on stdout.  Every wait is bounded.

  ua.py phone SIPD_HOST PORT LOCAL_IP USER PASSWORD SECONDS
      REGISTER USER@example.com from LOCAL_IP (digest), then for SECONDS
      report each CRLF CRLF keep-alive ("keepalive"), each INVITE
      ("invite", with the address it came from), answered 200 with its
      own (private) address as Contact, each ACK ("ack") and each BYE
      ("bye"), answered 200.
  ua.py call SIPD_HOST PORT LOCAL_IP URI SECONDS
      INVITE URI through sipd; report the final status ("final", 0 for
      none within SECONDS) and ACK it; after a 200, BYE the call through
      its route set and report the BYE's final status ("bye")."""

import json
import socket
import sys
import time

import sipreg
from sipua import UA, Call, Msg


def say(**kw):
    print(json.dumps(kw), flush=True)


def phone(host, port, local, user, password, seconds):
    ua = UA(local)
    c = sipreg.RegClient(ua, port, user, password, sipd_host=host)
    r = c.register(["<%s>" % ua.uri(user)], expires=600)
    say(ev="register", status=r.status)
    deadline = time.monotonic() + seconds
    for _ in range(100000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ua.sock.settimeout(left)
        try:
            data, src = ua.sock.recvfrom(65536)
        except socket.timeout:
            break
        if data.strip(b"\r\n") == b"":
            say(ev="keepalive", src="%s:%d" % src)
            continue
        m = Msg(data, src)
        if m.is_request() and m.method == "INVITE":
            say(ev="invite", src="%s:%d" % src, call_id=m.call_id())
            ua.respond(m, 200)
        elif m.is_request() and m.method == "ACK":
            say(ev="ack", src="%s:%d" % src)
        elif m.is_request() and m.method == "BYE":
            say(ev="bye", src="%s:%d" % src)
            ua.respond(m, 200)
    ua.close()


def call(host, port, local, uri, seconds):
    ua = UA(local)
    c = Call(ua, uri)
    ua.send(c.request("INVITE"), port, host)
    status = 0
    deadline = time.monotonic() + seconds
    for _ in range(1000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        m = ua.recv(left)
        if m is None:
            break
        if not m.is_request() and m.call_id() == c.call_id and \
                m.status >= 200:
            status = m.status
            ua.send(c.ack(m), port, host)
            break
    say(ev="final", status=status)
    if status == 200:
        # the dialog's route set: sipd's Record-Route, reversed
        to = m.first("To")
        contact = m.first("Contact").strip("<>")
        routes = [("Route", r) for r in reversed(m.get("Record-Route"))]
        ua.send(c.request("BYE", uri=contact, to=to, extra=routes), port,
                host)
        r = ua.expect("BYE's answer",
                      lambda x: not x.is_request() and
                      x.cseq()[1] == "BYE" and x.status >= 200, seconds)
        say(ev="bye", status=r.status)
    ua.close()


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "phone":
        phone(a[1], int(a[2]), a[3], a[4], a[5], float(a[6]))
    else:
        call(a[1], int(a[2]), a[3], a[4], float(a[5]))
