"""The differential probe: no answer tells a stranger which users exist.

sipd with no client-ip; example.com with alice (registered from
127.0.0.4; her device never answers) and bob (not registered); qzxv does
not exist.  From a stranger on 127.0.0.3, for REGISTER, INVITE, OPTIONS
and MESSAGE, with a foreign From and with a spoofed local From (the
target itself, and alice@example.com), the answers for an existing user
and for qzxv must be the same: the same responses in the same order, the
same status, the same header names in the same order and the same
values once nonces, tags, branches, Call-IDs, CSeqs and the user name
are normalised.

Compared: bob against qzxv in every case; alice against qzxv whenever the
From is spoofed or the method is REGISTER (with a foreign From a call
to a registered user reaches the user: that is what a phone is for).
sipd 0.1.0 passed the spoofed-From requests to alice's device (a
100 Trying and no final answer) while qzxv's got 407.
"""

import re
import time

import sipdtest
import sipreg
from sipdtest import check, new_tag
from sipua import UA

CONF = """domain add example.com
account add alice@example.com password secret
account add bob@example.com password b0b-pw
"""
FOREIGN = "sip:mallory@attacker.test"


def request(ua, method, user, from_uri):
    call_id = "%s@probe" % new_tag()
    target = "sip:%s@example.com" % user
    uri = "sip:example.com" if method == "REGISTER" else target
    hdrs = [("Via", ua.via("z9hG4bK%s%s" % (new_tag(), new_tag()))),
            ("Max-Forwards", "70"),
            ("From", "<%s>;tag=%s" % (from_uri, new_tag())),
            ("To", "<%s>" % target), ("Call-ID", call_id),
            ("CSeq", "%d %s" % (int(new_tag(), 16) % 1000 + 1, method))]
    if method in ("INVITE", "REGISTER"):
        hdrs.append(("Contact", "<%s>" % ua.uri(user)))
    hdrs.append(("Content-Length", "0"))
    text = "%s %s SIP/2.0\r\n" % (method, uri)
    text += "".join("%s: %s\r\n" % h for h in hdrs) + "\r\n"
    return call_id, text.encode()


def normalise(raw, user):
    text = raw.decode("utf-8", "replace")
    text = re.sub(r'nonce="[^"]*"', 'nonce="N"', text)
    text = re.sub(r'opaque="[^"]*"', 'opaque="O"', text)
    text = re.sub(r"tag=[^;>\s\r]*", "tag=T", text)
    text = re.sub(r"branch=[^;,\s\r]*", "branch=B", text)
    text = re.sub(r"(?im)^Call-ID:.*$", "Call-ID: C", text)
    text = re.sub(r"(?im)^CSeq:.*$", "CSeq: S", text)
    # the From is the probe's own, echoed: it tells nothing
    text = re.sub(r"(?im)^From:.*$", "From: F", text)
    return text.replace(user, "USER")


def probe(sipd, ua, method, user, from_uri):
    """Every response to one request, normalised, until its final one
    (and 0.3 s after it); the list."""
    call_id, data = request(ua, method, user, from_uri)
    ua.send(data, sipd.port)
    out = []
    deadline = time.monotonic() + 2.0
    for _ in range(50):
        m = ua.recv(max(0.0, deadline - time.monotonic()))
        if m is None:
            break
        if m.is_request() or m.call_id() != call_id:
            continue
        out.append(normalise(m.raw, user))
        if m.status >= 200:
            deadline = min(deadline, time.monotonic() + 0.3)
    if not out or not out[-1].startswith("SIP/2.0 ") or \
            int(out[-1].split()[1]) < 200:
        out.append("(no final response within 2 s)")
    return out


def test(binary, started):
    sipd = sipreg.start(binary, started, client_ip=[], conf=CONF)
    ua, alice_ua = UA("127.0.0.3"), UA("127.0.0.4")
    diffs = []
    try:
        reg = sipreg.RegClient(alice_ua, sipd.port, "alice", "secret")
        r = reg.register([reg.contact()], 300)
        check(r.status == 200, "REGISTER of alice: %d" % r.status)
        for method in ("REGISTER", "INVITE", "OPTIONS", "MESSAGE"):
            for spoof in (None, "self", "sip:alice@example.com"):
                users = ["bob"]
                if spoof or method == "REGISTER":
                    users.append("alice")
                for user in users:
                    def frm(u):
                        return (FOREIGN if spoof is None else
                                "sip:%s@example.com" % u if spoof == "self"
                                else spoof)
                    a = probe(sipd, ua, method, user, frm(user))
                    b = probe(sipd, ua, method, "qzxv", frm("qzxv"))
                    what = "%s From %s: %s vs qzxv" % (method, frm(user),
                                                      user)
                    if a != b:
                        diffs.append("%s:\n--- %s\n%s\n--- qzxv\n%s" % (
                            what, user, "\n".join(a), "\n".join(b)))
                    else:
                        print("same: %s (%s)" % (what, a[-1].split(
                            "\r\n")[0]))
        check(not diffs, "answers differ:\n" + "\n\n".join(diffs))
    finally:
        ua.close()
        alice_ua.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
