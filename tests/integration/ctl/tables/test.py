"""Every table of proto/tables.def over the real control socket: a row
added to each (a TLS listener, a LAN, client-ip and nated range, a
forwarding rule, a Router record, a gateway with every field, a domain
and an account) is listed by the table's list command as a map whose
keys are exactly the fields the declaration lists, each holding what
add put in (a secret as the table says: a gateway's password itself for
a writer, an account's password only as whether it is set); "T remove"
of the row's keys takes it out of the list, and a second remove of the
same keys fails with not-found, naming nothing that exists.  A
listener's own rules (TLS fields on a TLS listener only, which needs
cert and key) refuse a row naming the field; so do a domain's and an
account's fields, and a domain's row (aliases, state, accounts) and an
account's (aliases, forwarder, state) survive the saved file started
again.  Reads the
declaration itself, so a field declared but not listed, or listed but
not declared, fails here."""

import hashlib
import json
import os
import re

import sipdtest
import sipua
from sipdtest import Sipd, check, free_tcp_port, sipctl

HERE = os.path.dirname(os.path.abspath(__file__))
DEF = os.path.join(HERE, "..", "..", "..", "..", "proto", "tables.def")


def declaration():
    """{table words: (list command, [(name, arg, flags)])} from
    tables.def."""
    with open(DEF) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    tables, ids = {}, {}
    for m in re.finditer(r'TABLE\((\w+),\s*"([^"]*)",\s*"([^"]*)"', text):
        ids[m.group(1)] = m.group(2)
        tables[m.group(2)] = (m.group(3), [])
    for m in re.finditer(r'FIELD\((\w+),\s*"([^"]*)",\s*((?:"[^"]*"\s*)+),'
                         r'\s*([^,]*),', text):
        arg = "".join(re.findall(r'"([^"]*)"', m.group(3)))
        tables[ids[m.group(1)]][1].append((m.group(2), arg, m.group(4)))
    check(len(tables) >= 11 and all(f for _, f in tables.values()),
          "tables.def not read: %r" % tables)
    return tables


def listed(fields):
    return {n for n, _, flags in fields if "TF_ADD" not in flags}


def rows(sipd, list_cmd):
    p = sipctl(sipd, "-j", *list_cmd.split())
    check(p.returncode == 0, "%s: %r" % (list_cmd, p.stderr))
    return json.loads(p.stdout)["data"]


def test(binary, started):
    tables = declaration()
    sipd = Sipd(binary)
    started.append(sipd)
    cert, key = sipua.self_signed(sipd.dir.name)
    tls = "127.0.0.1:%d" % free_tcp_port()
    # table: (the add command's words after "T add", the row's keys as
    # remove takes them, what the list shows of it)
    samples = {
        "listener": (["tls", tls, "cert", cert, "key", key, "ca", cert,
                      "verify", "on"], ["tls", tls],
                     {"transport": "tls", "address": tls, "cert": cert,
                      "key": key, "ca": cert, "verify": True}),
        "lan": (["10.1.0.0/16", "; the office"], ["10.1.0.0/16"],
                {"range": "10.1.0.0/16", "comment": "the office"}),
        "client-ip": (["192.0.2.0/28", "; pbx"], ["192.0.2.0/28"],
                      {"range": "192.0.2.0/28", "comment": "pbx"}),
        "nated": (["198.51.100.0/24", "; far"], ["198.51.100.0/24"],
                  {"range": "198.51.100.0/24", "comment": "far",
                   "default": False}),
        "route": (["example.org", "192.0.2.7:5080", "transport", "tcp"],
                  ["example.org"],
                  {"domain": "example.org", "target": "192.0.2.7:5080",
                   "transport": "tcp"}),
        "router": (["NoRelay:<1*> = *@P1.sipgw"],
                   ["NoRelay:<1*> = *@P1.sipgw"],
                   {"record": "NoRelay:<1*> = *@P1.sipgw", "number": 1}),
        "gateway": (["P1", "domain", "prov.test", "via",
                     "sip:192.0.2.9:5070", "username", "4930",
                     "password", "a secret", "authname", "auth1",
                     "register-every", "0", "contact", "alice",
                     "calls-authenticate", "on", "substitute-from", "on",
                     "substitute-to", "on"], ["P1"],
                    {"name": "P1", "domain": "prov.test",
                     "via": "sip:192.0.2.9:5070",
                     "username": "4930@prov.test", "password": "a secret",
                     "authname": "auth1", "register-every": 0,
                     "contact": "alice", "calls-authenticate": True,
                     "substitute-from": True, "substitute-to": True}),
        "domain": (["example.com"], ["example.com"],
                   {"domain": "example.com", "enabled": True,
                    "accounts": 1, "aliases": []}),
        "account": (["alice@example.com", "password", "pw"],
                    ["alice@example.com"],
                    {"account": "alice@example.com", "enabled": True,
                     "aliases": [], "forward": "", "password": True}),
    }
    sipd.start()
    # domain before account; removed the other way round
    order = ["listener", "lan", "client-ip", "nated", "route", "router",
             "gateway", "domain", "account"]
    for words in order:
        args, _, _ = samples[words]
        p = sipctl(sipd, *words.split(), "add", *args)
        check(p.returncode == 0, "%s add: %r" % (words, p.stderr))

    for words, (list_cmd, fields) in sorted(tables.items()):
        if not list_cmd:
            continue  # the workarounds share "workaround list"
        check(words in samples, "no sample row of the %s table" % words)
        _, keys, want = samples[words]
        key = [n for n, _, flags in fields if "TF_KEY" in flags][0]
        mine = [r for r in rows(sipd, list_cmd) if r.get(key) == want[key]]
        check(len(mine) == 1, "%s: %r" % (list_cmd, rows(sipd, list_cmd)))
        row = mine[0]
        check(set(row) == listed(fields),
              "%s lists %s; tables.def declares %s" %
              (list_cmd, sorted(row), sorted(listed(fields))))
        check(set(want) == listed(fields),
              "the test's %s row misses fields" % words)
        for name, value in want.items():
            check(row[name] == value, "%s: %s is %r, not %r" %
                  (list_cmd, name, row[name], value))

    for words in reversed(order):
        list_cmd, fields = tables[words]
        _, keys, want = samples[words]
        key = [n for n, _, flags in fields if "TF_KEY" in flags][0]
        p = sipctl(sipd, *words.split(), "remove", *keys)
        check(p.returncode == 0, "%s remove: %r" % (words, p.stderr))
        check(not [r for r in rows(sipd, list_cmd)
                   if r.get(key) == want[key]],
              "%s remove left the row" % words)
        p = sipctl(sipd, "-j", *words.split(), "remove", *keys)
        check(p.returncode != 0 and "not-found" in p.stdout + p.stderr,
              "a second %s remove: exit %d %r %r" %
              (words, p.returncode, p.stdout, p.stderr))

    # a table's own rules, over the socket: each refusal exits 1 naming
    # the field at fault, and the list is as it was
    before = rows(sipd, "listener list")
    udp = "127.0.0.1:%d" % free_tcp_port()
    for args, want in (
            (["udp", udp, "cert", cert], "cert is for tls listeners only"),
            (["tcp", udp, "verify", "on"],
             "verify is for tls listeners only"),
            (["tls", tls, "cert", cert],
             "a tls listener needs cert and key (no key)")):
        p = sipctl(sipd, "listener", "add", *args)
        check(p.returncode == 1 and want in p.stderr,
              "listener add %r: %d %r" % (args, p.returncode, p.stderr))
    check(rows(sipd, "listener list") == before,
          "a refused listener is listed: %r" % rows(sipd, "listener list"))
    domains(sipd)
    accounts(binary, started, sipd)


def ok(sipd, *args):
    p = sipctl(sipd, *args)
    check(p.returncode == 0, "%r: %d %r" % (args, p.returncode, p.stderr))


def domains(sipd):
    """The domains through the table engine: a domain's row lists its
    aliases as an array, its state and its number of accounts as the
    commands left them; a bad name is refused (exit 1) naming the field,
    an existing name or alias with exists, a domain with accounts is
    not removed, and nothing changes; the saved file holds its lines
    (started again by accounts())."""
    ok(sipd, "domain", "add", "Example.ORG")
    ok(sipd, "domain", "alias", "add", "example.org", "a1.example")
    ok(sipd, "domain", "alias", "add", "example.org", "a2.example")
    ok(sipd, "account", "add", "carol@a1.example", "password", "pw")
    ok(sipd, "domain", "disable", "example.org")
    want = [{"domain": "example.org", "enabled": False, "accounts": 1,
             "aliases": ["a1.example", "a2.example"]}]
    check(rows(sipd, "domain list") == want,
          "domain list: %r" % rows(sipd, "domain list"))
    # each refusal: exit 1, its error code and words naming the field
    for args, code, text in (
            (["add", "bad name"], "invalid", "bad domain 'bad name'"),
            (["add", "bad_name.test"], "invalid", "bad domain"),
            (["add", "d" * 300 + ".test"], "invalid",
             "bad domain (too long: at most 253 bytes)"),
            (["add", "A2.example"], "exists", "A2.example exists already"),
            (["remove", "example.org"], "busy", "remove them first"),
            (["remove", "nowhere.test"], "not-found",
             "no domain nowhere.test")):
        p = sipctl(sipd, "domain", *args)
        check(p.returncode == 1 and text in p.stderr,
              "domain %r: %d %r" % (args, p.returncode, p.stderr))
        p = sipctl(sipd, "-j", "domain", *args)
        check(p.returncode == 1 and
              json.loads(p.stdout)["err"]["code"] == code,
              "domain %r: %d %r" % (args, p.returncode, p.stdout))
    check(rows(sipd, "domain list") == want,
          "a refused domain is listed: %r" % rows(sipd, "domain list"))
    with open(sipd.conf_path) as f:
        saved = f.read()
    for line in ("domain add example.org\n",
                 "domain alias add example.org a1.example\n"
                 "domain alias add example.org a2.example\n"
                 "domain disable example.org\n"
                 "account add carol@example.org ha1-md5 "):
        check(line in saved, "%r not saved:\n%s" % (line, saved))
    # accounts() lists its own alone
    ok(sipd, "account", "remove", "carol@example.org")


def accounts(binary, started, sipd):
    """The accounts through the table engine: an account's row lists
    its aliases as an array, its password as whether it has digests, its
    forwarder and state as their commands left them; a bad value is
    refused (exit 1) naming the field, and nothing is added; the file
    sipd saved, started again, lists the same rows.  Stops sipd."""
    md5 = hashlib.md5(b"bob:example.com:pw").hexdigest()
    sha = hashlib.sha256(b"bob:example.com:pw").hexdigest()
    ok(sipd, "domain", "add", "example.com")
    ok(sipd, "account", "add", "bob@example.com", "ha1-md5", md5,
       "ha1-sha256", sha)
    ok(sipd, "account", "alias", "add", "bob@example.com", "b1")
    ok(sipd, "account", "alias", "add", "bob@example.com", "b2")
    ok(sipd, "account", "forward", "bob@example.com", "sip:bob@192.0.2.5")
    ok(sipd, "account", "disable", "bob@example.com")
    want = [{"account": "bob@example.com", "enabled": False,
             "aliases": ["b1", "b2"], "forward": "sip:bob@192.0.2.5",
             "password": True}]
    check(rows(sipd, "account list") == want,
          "account list: %r" % rows(sipd, "account list"))
    for args, field in (
            (["c@example.com", "ha1-md5", "xyz"], "ha1-md5"),
            (["c@example.com", "password", "p" * 129], "password"),
            (["c" * 400 + "@example.com", "password", "pw"], "account")):
        p = sipctl(sipd, "account", "add", *args)
        check(p.returncode == 1 and field in p.stderr,
              "account add %s: %d %r" % (field, p.returncode, p.stderr))
        check("p" * 20 not in p.stderr, "a password in %r" % p.stderr)
    check(rows(sipd, "account list") == want,
          "a refused account is listed: %r" % rows(sipd, "account list"))
    with open(sipd.conf_path) as f:
        saved = f.read()
    check(md5 in saved and sha in saved, "not saved:\n%s" % saved)
    doms = rows(sipd, "domain list")
    # on the same ports: the first one stops
    sipdtest.stop_clean(sipd)
    again = Sipd(binary)
    started.append(again)
    again.start_from(saved)
    check(rows(again, "account list") == want,
          "started on the saved file: %r" % rows(again, "account list"))
    check(rows(again, "domain list") == doms,
          "domains started on the saved file: %r, not %r" %
          (rows(again, "domain list"), doms))
    sipdtest.stop_clean(again)


sipdtest.run(test)
