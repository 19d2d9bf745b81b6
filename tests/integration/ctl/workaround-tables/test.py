#!/usr/bin/python3
"""The two workaround tables, products and sites, behind one list, over
the real control socket.

- The same key in both tables is two rows: "workaround product add
  example.com noTCP" and "workaround site add example.com noMaddr" are
  both taken, and "workaround list" shows them in one array, each with
  its table ("product", "site") and its own methods.
- Each table refuses by its own rules, naming the field: noPath in a
  product's methods, badByeAuth in a site's, "a b" as a site; nothing
  changes.
- "workaround product remove example.com" takes out the product row
  alone (the site row stays, in the list and on the wire of "workaround
  test"); a second remove says there is no such product; "workaround
  site remove" of a product's pattern says there is no such site.
- Saved as one line per row under its table's words (in the order the
  lines were added to the file); a sipd started on it lists the same."""

import json

import sipdtest
from sipdtest import Sipd, check, sipctl, stop_clean


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%r: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def j(sipd, *args):
    return json.loads(ok(sipd, "-j", *args))["data"]


def refused(sipd, want, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 1 and all(w in p.stderr for w in want),
          "%r: %d %r lacks %r" % (args, p.returncode, p.stderr, want))


def test(binary, started):
    sipd = Sipd(binary)
    started.append(sipd)
    sipd.start()
    ok(sipd, "workaround", "product", "add", "example.com", "noTCP")
    ok(sipd, "workaround", "site", "add", "example.com", "noMaddr")
    ok(sipd, "workaround", "product", "add", "Acme*", "badByeAuth")
    both = [
        {"table": "product", "entry": "example.com", "methods": "noTCP"},
        {"table": "product", "entry": "Acme*", "methods": "badByeAuth"},
        {"table": "site", "entry": "example.com", "methods": "noMaddr"},
    ]
    check(j(sipd, "workaround", "list") == both,
          "list: %r" % j(sipd, "workaround", "list"))

    refused(sipd, ["methods", "noPath: a site's, not a product's"],
            "workaround", "product", "add", "R*", "noPath")
    refused(sipd, ["methods", "badByeAuth: a product's, not a site's"],
            "workaround", "site", "add", "r.org", "badByeAuth")
    refused(sipd, ["bad site 'a b'"], "workaround", "site", "add", "a b",
            "noTCP")
    refused(sipd, ["no site 'Acme*'"], "workaround", "site", "remove",
            "Acme*")
    check(j(sipd, "workaround", "list") == both, "bad input changed them")

    ok(sipd, "workaround", "product", "remove", "EXAMPLE.com")
    check(j(sipd, "workaround", "list") == both[1:],
          "product remove: %r" % j(sipd, "workaround", "list"))
    t = j(sipd, "workaround", "test", "domain", "example.com")
    check(t == {"methods": "noMaddr", "matches": [both[2]]},
          "test: %r" % t)
    refused(sipd, ["no product 'example.com'"], "workaround", "product",
            "remove", "example.com")

    with open(sipd.conf_path) as f:
        saved = f.read()
    check("workaround product add Acme* badByeAuth\n" in saved and
          "workaround site add example.com noMaddr\n" in saved and
          "noTCP" not in saved, "saved:\n" + saved)
    stop_clean(sipd)
    sipd.start_from(saved)
    check(j(sipd, "workaround", "list") == both[1:],
          "reloaded: %r" % j(sipd, "workaround", "list"))
    stop_clean(sipd)


if __name__ == "__main__":
    sipdtest.run(test)
