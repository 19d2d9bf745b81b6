#!/usr/bin/python3
"""The nated list (far-end NAT) through sipctl, over the real control
socket, and in the saved configuration.

- "nated list" starts with the private ranges (RFC 1918, RFC 6598 and
  fd00::/8), each marked default; "nated add" appends after them, in
  order; "nated remove" takes an entry out.
- A default is not an entry: removing one fails and names
  "set nated-defaults off"; with that setting off the list holds only
  the entries.
- Bad input: a range that is not an address gets exit status 1 and
  changes nothing; a duplicate gets "already".
- Every change is saved: the file holds the added lines and the setting,
  and a sipd started on it lists the same."""

import json

import sipdtest
from sipdtest import Sipd, check, sipctl, stop_clean

DEFAULTS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
            "100.64.0.0/10", "fd00::/8"]


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%s: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def listed(sipd, what="nated"):
    out = ok(sipd, "-j", what, "list")
    return json.loads(out)["data"]


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()

    got = listed(sipd)
    check([e["range"] for e in got] == DEFAULTS, "defaults: %r" % got)
    check(all(e["default"] for e in got), "marked default: %r" % got)

    ok(sipd, "nated", "add", "192.0.2.0/24")
    ok(sipd, "nated", "add", "2001:db8::/32")
    got = listed(sipd)
    check([e["range"] for e in got] ==
          DEFAULTS + ["192.0.2.0/24", "2001:db8::/32"], "added: %r" % got)
    check(not got[-1]["default"], "an entry is no default: %r" % got)

    p = sipctl(sipd, "nated", "add", "192.0.2.0/24")
    check(p.returncode == 1 and "already" in p.stderr,
          "duplicate: %d %r" % (p.returncode, p.stderr))
    for bad in ("192.0.2.300", "not-an-address", "10.0.0.0/33", "/8"):
        p = sipctl(sipd, "nated", "add", bad)
        check(p.returncode == 1, "%r accepted: %r" % (bad, p.stdout))
    p = sipctl(sipd, "nated", "remove", "10.0.0.0/8")
    check(p.returncode == 1 and "nated-defaults off" in p.stderr,
          "default removed: %d %r" % (p.returncode, p.stderr))
    check(len(listed(sipd)) == 7, "bad input changed the list")

    ok(sipd, "nated", "remove", "192.0.2.0/24")
    ok(sipd, "set", "nated-defaults", "off")
    got = listed(sipd)
    check([e["range"] for e in got] == ["2001:db8::/32"], "off: %r" % got)

    with open(sipd.conf_path) as f:
        text = f.read()
    check("nated add 2001:db8::/32\n" in text and
          "set nated-defaults off\n" in text and "192.0.2.0" not in text,
          "saved file:\n" + text)
    stop_clean(sipd)
    sipd.start_from(text)
    got = listed(sipd)
    check([e["range"] for e in got] == ["2001:db8::/32"],
          "after restart: %r" % got)
    stop_clean(sipd)


if __name__ == "__main__":
    sipdtest.run(test)
