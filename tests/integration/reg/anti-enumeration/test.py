"""The registrar does not tell users apart by its answers, and limits
failed attempts (RFC 3261 22, RFC 7616; sipd.8).

- The 401 to alice's REGISTER with a wrong password and the 401 to an
  unknown user's REGISTER are the same bytes once the nonces, tags,
  branches, Call-IDs and the user name itself are normalised.
- A failure is logged as sipd.8 says:
  "SIPS, auth, failed user='alice' src=ADDR:PORT realm='example.com'
  (bad password)".
- Valid credentials of another account (bob's for alice's To): 403.
- auth-fail-limit 3: after three failures the source gets 403 even with
  the right password; "show auth-blocks" lists it; "auth unblock ADDR"
  lifts it and the right password gets its 200.
- A nonce older than auth-nonce-lifetime (10 s) with the right password:
  401 with stale=true.
"""

import re
import time

import sipdtest
import sipreg
from sipdtest import check
from sipua import UA

CONF = """domain add example.com
set auth-sha256 on
account add alice@example.com password secret
account add bob@example.com password b0b-pw
set auth-fail-limit 3
set auth-fail-window 60
set auth-fail-penalty 60
set auth-nonce-lifetime 10
"""


def normalise(raw, user):
    text = raw.decode("utf-8", "replace")
    text = re.sub(r'nonce="[^"]*"', 'nonce="N"', text)
    text = re.sub(r"tag=[^;>\s\r]*", "tag=T", text)
    text = re.sub(r"branch=[^;,\s\r]*", "branch=B", text)
    text = re.sub(r"(?im)^Call-ID:.*$", "Call-ID: C", text)
    text = re.sub(r"(?im)^CSeq:.*$", "CSeq: S", text)
    return text.replace(user, "USER")


def bad_register(sipd, ua, user, password, contact_user=None):
    """A REGISTER of user@example.com answering its challenge with
    password; the final answer."""
    reg = sipreg.RegClient(ua, sipd.port, user, password)
    return reg, reg.register([reg.contact()], 300)


def test(binary, started):
    sipd = sipreg.start(binary, started, conf=CONF)
    stale_ua = UA("127.0.0.9")
    uas = [stale_ua]
    try:
        # a nonce for the stale check at the end
        t0 = time.monotonic()
        stale_reg = sipreg.RegClient(stale_ua, sipd.port, "alice", "secret")
        old = stale_reg.challenge([stale_reg.contact()], 300)
        old_ch = sipreg.pick(old, "SHA-256")

        ua = UA("127.0.0.7")
        uas.append(ua)
        _, wrong = bad_register(sipd, ua, "alice", "not-secret")
        _, unknown = bad_register(sipd, ua, "mallory", "whatever")
        check(wrong.status == 401 and unknown.status == 401,
              "wrong password: %d, unknown user: %d (both should be 401)"
              % (wrong.status, unknown.status))
        a = normalise(wrong.raw, "alice")
        b = normalise(unknown.raw, "mallory")
        check(a == b, "the 401s differ:\n--- wrong password\n%s\n--- "
              "unknown user\n%s" % (a, b))
        line = ("SIPS, auth, failed user='alice' src=127.0.0.7:%d "
                "realm='example.com' (bad password)" % ua.port)
        check(sipd.wait_log(line), "no log line %r" % line)

        # the third failure blocks 127.0.0.7
        _, third = bad_register(sipd, ua, "alice", "still-wrong")
        check(third.status in (401, 403), "third failure: %d" %
              third.status)
        _, blocked = bad_register(sipd, ua, "alice", "secret")
        check(blocked.status == 403, "right password after 3 failures: "
              "%d, not 403" % blocked.status)
        rows = sipreg.ctl(sipd, "show", "auth-blocks")
        mine = [r for r in rows if r["address"] == "127.0.0.7"]
        check(mine and mine[0]["failures"] >= 3 and
              0 < mine[0]["remaining"] <= 60,
              "show auth-blocks: %s" % rows)
        sipreg.ctl(sipd, "auth", "unblock", "127.0.0.7")
        rows = sipreg.ctl(sipd, "show", "auth-blocks")
        check(not [r for r in rows if r["address"] == "127.0.0.7"],
              "still blocked after auth unblock: %s" % rows)
        _, ok = bad_register(sipd, ua, "alice", "secret")
        check(ok.status == 200, "right password after auth unblock: %d" %
              ok.status)

        # bob's valid credentials for alice's To
        other = UA("127.0.0.8")
        uas.append(other)
        reg = sipreg.RegClient(other, sipd.port, "alice", "b0b-pw",
                               auth_user="bob")
        forbidden = reg.register([reg.contact()], 300)
        check(forbidden.status == 403, "bob's credentials for alice's "
              "To: %d, not 403" % forbidden.status)

        # the nonce from the start, now stale
        left = 11.5 - (time.monotonic() - t0)
        if left > 0:
            time.sleep(left)
        auth = sipreg.credentials(old_ch, "alice", "secret", "REGISTER",
                                  stale_reg.uri, "SHA-256")
        stale = stale_reg.ask(stale_reg.message(
            [stale_reg.contact()], 300, auth))
        check(stale.status == 401, "stale nonce: %d, not 401" %
              stale.status)
        flags = [p.get("stale", "").lower()
                 for _, p in sipreg.challenges(stale)]
        check(flags and all(f == "true" for f in flags),
              "401 to a stale nonce without stale=true: %s" %
              stale.get("WWW-Authenticate"))
        got = sipreg.contacts_of(sipd, "alice@example.com")
        check(got == ["sip:alice@127.0.0.7:%d" % ua.port],
              "alice's bindings: %s" % got)
    finally:
        for u in uas:
            u.close()
    check(sipd.alive(), "sipd died")
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
