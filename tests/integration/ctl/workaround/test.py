"""The workaround tables through sipctl and the configuration file.

- Entries given in the file are listed (-j: table, entry, methods), with
  method names in any case shown in their canonical spelling.
- "workaround test" lists the entries that match a product string (case
  ignored, '*' wildcards) and a domain (its subdomains too, unless
  written "=domain"), and the union of their methods; nothing matches
  other strings.
- Bad input is refused and changes nothing: an unknown method (the error
  lists the valid ones), a reserved one (Microsoft, SubPresence: it says
  why), a method a table cannot take (noPath for a product; badByeAuth,
  NoSubMWI for a site), no method, an empty pattern, a bad domain, a
  duplicate entry, removing an entry that is not there, "workaround
  test" with nothing to test.
- Changes are written back under each entry's key (its pattern or
  domain): the administrator's comments stay, a removed entry's line
  goes, a new one is added; a new sipd started on "show config" lists
  the same tables."""

import json

import sipdtest
from sipdtest import Sipd, check, sipctl

CONF = """# phones from Acme need help
workaround product add "Acme Phone*" notcp NOMADDR
# the PBX of example.com, not its subdomains
workaround site add =example.com noTCP
workaround site add other.org nomaddr
"""


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%r: %d %r" % (args, p.returncode, p.stderr))
    return p.stdout


def j(sipd, *args):
    return json.loads(ok(sipd, "-j", *args))["data"]


def refused(sipd, want, *args):
    p = sipctl(sipd, *args)
    check(p.returncode != 0, "%r accepted" % (args,))
    check(want in p.stderr, "%r: %r lacks %r" % (args, p.stderr, want))


def test(binary, started):
    sipd = Sipd(binary, conf=CONF)
    started.append(sipd)
    sipd.start()
    listed = j(sipd, "workaround", "list")
    check(listed == [
        {"table": "product", "entry": "Acme Phone*",
         "methods": "noTCP noMaddr"},
        {"table": "site", "entry": "=example.com", "methods": "noTCP"},
        {"table": "site", "entry": "other.org", "methods": "noMaddr"},
    ], "list: %r" % listed)

    t = j(sipd, "workaround", "test", "ua", "ACME phone 2.1", "domain",
          "example.com")
    check(t["methods"] == "noTCP noMaddr", "test: %r" % t)
    check([m["entry"] for m in t["matches"]] == ["Acme Phone*",
                                                 "=example.com"], repr(t))
    t = j(sipd, "workaround", "test", "domain", "pbx.example.com")
    check(t == {"methods": "", "matches": []}, "exact site: %r" % t)
    t = j(sipd, "workaround", "test", "domain", "a.b.Other.ORG")
    check(t["methods"] == "noMaddr", "subdomain: %r" % t)
    t = j(sipd, "workaround", "test", "ua", "The Acme Phone")
    check(t["methods"] == "", "pattern anchored: %r" % t)

    refused(sipd, "unknown method 'noUDP' (expected noTCP, noMaddr, "
            "noPath, badByeAuth, needsEpid, NoSubMWI, mediaRelay, "
            "noMediaRelay)", "workaround",
            "site", "add", "x.org", "noTCP", "noUDP")
    refused(sipd, "Microsoft comes with the presence agent",
            "workaround", "product", "add", "X*", "microsoft")
    refused(sipd, "SubPresence comes with the presence agent",
            "workaround", "site", "add", "x.org", "SUBPRESENCE")
    refused(sipd, "noPath: a site's, not a product's",
            "workaround", "product", "add", "X*", "nopath")
    refused(sipd, "badByeAuth: a product's, not a site's",
            "workaround", "site", "add", "x.org", "badbyeauth")
    refused(sipd, "NoSubMWI: a product's, not a site's",
            "workaround", "site", "add", "x.org", "nosubmwi")
    refused(sipd, "usage", "workaround", "product", "add", "X*")
    refused(sipd, "empty pattern", "workaround", "product", "add", "",
            "noTCP")
    refused(sipd, "bad product pattern", "workaround", "product", "add",
            "   ", "noTCP")
    refused(sipd, "bad site", "workaround", "site", "add", "a..b",
            "noTCP")
    refused(sipd, "has workarounds already", "workaround", "product",
            "add", "acme PHONE*", "noTCP")
    refused(sipd, "no site 'nowhere.org'", "workaround", "site",
            "remove", "nowhere.org")
    refused(sipd, "give ua", "workaround", "test")
    check(j(sipd, "workaround", "list") == listed, "changed by bad input")

    ok(sipd, "workaround", "product", "remove", "ACME PHONE*")
    ok(sipd, "workaround", "site", "add", "127.0.0.2", "nomaddr", "NOTCP")
    with open(sipd.conf_path) as f:
        saved = f.read()
    check("# phones from Acme need help\n" in saved and
          "# the PBX of example.com, not its subdomains\n"
          "workaround site add =example.com noTCP\n" in saved,
          "comments lost:\n" + saved)
    check("Acme Phone" not in saved.replace("# phones from Acme", ""),
          "removed entry still saved:\n" + saved)
    check("workaround site add 127.0.0.2 noTCP noMaddr\n" in saved,
          "new entry not saved:\n" + saved)
    conf = ok(sipd, "show", "config")
    listed = j(sipd, "workaround", "list")
    sipdtest.stop_clean(sipd)

    second = Sipd(binary)
    started.append(second)
    second.start_from(conf)
    check(j(second, "workaround", "list") == listed, "round trip differs")
    sipdtest.stop_clean(second)


sipdtest.run(test)
