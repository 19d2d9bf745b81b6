"""The Router table through sipctl (sipd.conf.5, Router; sipctl.8):

- the seed's Sample 1 records load from the configuration file, and
  `router test` routes each number pattern to the right gateway with the
  right rewritten number, naming the record that applied: 12125551234 ->
  Provider1 2125551234, +4420... -> IntlProvider 01144..., help -> the
  account alice, oldco.com -> example.com, and from a stranger the NoRelay
  records are skipped (the number stays and is refused);
- `router test` on a loop (<a> = b, <b> = a) says refused, routing loop;
- bad records get an error naming the column (unknown prefix, a second
  '*', no '=') and add nothing;
- `router remove N` and `router remove RECORD`; the file keeps its
  comments and holds the records in order after changes;
- Tab after `router remove` in sipctl's shell offers the numbers.
Without the Router table sipd refuses the configuration (router add is
unknown)."""

import json

import sipdtest
import sipua
from sipdtest import check

SAMPLE1 = """domain add example.com
account add alice@example.com password alice-pw
# Sample 1
router add NoRelay:Signal:<1*> = *@Provider1.sipgw ; US and Canada
router add "NoRelay:Signal:<+*> = 011*@IntlProvider.sipgw"
router add Signal:<help> = alice
router add oldco.com = example.com
"""


def ctl(sipd, *args):
    p = sipdtest.sipctl(sipd, "-j", *args)
    return p, (json.loads(p.stdout.splitlines()[0]) if p.stdout else None)


def rtest(sipd, addr, *src):
    p, r = ctl(sipd, "router", "test", addr, *src)
    check(p.returncode == 0, "router test %s: %s" % (addr, p.stderr))
    return r["data"]


def records(sipd):
    p, r = ctl(sipd, "router", "list")
    check(p.returncode == 0, "router list: %s" % p.stderr)
    return [e["record"] for e in r["data"]]


def sample1(sipd):
    for addr, gw, number, rec in (
            ("12125551234@example.com", "Provider1", "2125551234", 1),
            ("sip:18005550000@example.com", "Provider1", "8005550000", 1),
            ("1@example.com", "Provider1", "", 1),
            ("+442071234567@example.com", "IntlProvider",
             "011442071234567", 2),
            ("+1@example.com", "IntlProvider", "0111", 2)):
        d = rtest(sipd, addr)
        check(d["decision"] == "gateway", "%s: decision %s, not gateway"
              % (addr, d))
        check(d["target"].startswith("%s (number '%s';" % (gw, number)),
              "%s: target %s, not %s number %s" % (addr, d["target"], gw,
                                                    number))
        check([s["number"] for s in d["steps"]] == [rec],
              "%s: steps %s, not record %d" % (addr, d["steps"], rec))
        want = "%s@%s.sipgw" % (number, gw) if number else gw + ".sipgw"
        check(d["steps"][0]["result"] == want,
              "%s: rewrote to %s" % (addr, d["steps"][0]["result"]))
    d = rtest(sipd, "12125551234@example.com", "from-stranger")
    check(d["steps"] == [] and d["norelay-skipped"] and
          d["decision"] == "refused",
          "a stranger's 12125551234: %s (NoRelay must be skipped)" % d)
    d = rtest(sipd, "help@example.com")
    check(d["decision"] == "local account" and
          d["target"] == "alice@example.com", "help: %s" % d)
    d = rtest(sipd, "help@oldco.com", "from-stranger")
    check([s["number"] for s in d["steps"]] == [4, 3] and
          d["target"] == "alice@example.com",
          "help@oldco.com: %s (oldco.com -> example.com, then help)" % d)
    d = rtest(sipd, "bob@oldco.com")
    check(d["steps"][0]["result"] == "bob@example.com" and
          d["decision"] == "refused", "bob@oldco.com: %s" % d)
    d = rtest(sipd, "bob%partner.net@example.com")
    check(d["decision"] == "dns name" and d["target"] == "bob@partner.net",
          "bob%%partner.net@example.com: %s" % d)
    d = rtest(sipd, "bob@partner.net.tcp")
    check(d["target"] == "bob@partner.net" and d["transport"] == "tcp",
          "bob@partner.net.tcp: %s" % d)
    d = rtest(sipd, "bob@[192.0.2.7]")
    check(d["decision"] == "ip" and d["target"] == "bob@192.0.2.7",
          "bob@[192.0.2.7]: %s" % d)


def bad_records(sipd):
    before = records(sipd)
    for rec, want in (
            ("Call:<1*> = x@y.sipgw", "column 1: unknown prefix 'Call:'"),
            ("Signal:Bogus:<1*> = x", "column 8: unknown prefix 'Bogus:'"),
            ("<1**> = x", "column 4: a second '*'"),
            ("<1*> x", "column 7: missing '= target'")):
        p = sipdtest.sipctl(sipd, "router", "add", rec)
        check(p.returncode == 1 and want in p.stderr,
              "router add %r: exit %d, %r (want %r)" % (
                  rec, p.returncode, p.stderr, want))
    check(records(sipd) == before, "a bad record changed the table: %s"
          % records(sipd))
    p = sipdtest.sipctl(sipd, "router", "add", "Signal:<help> = alice")
    check(p.returncode == 1 and "exists" in p.stderr,
          "a second Signal:<help>: %d %s" % (p.returncode, p.stderr))


def loop(sipd):
    for rec in ("<a> = b", "<b> = a"):
        p = sipdtest.sipctl(sipd, "router", "add", rec)
        check(p.returncode == 0, "router add %s: %s" % (rec, p.stderr))
    d = rtest(sipd, "a@example.com")
    check(d["decision"] == "refused" and "loop" in d["target"],
          "a@example.com with <a> = b, <b> = a: %s" % d)
    # remove by number and by text
    n = records(sipd).index("<a> = b") + 1
    p = sipdtest.sipctl(sipd, "router", "remove", str(n))
    check(p.returncode == 0, "router remove %d: %s" % (n, p.stderr))
    p = sipdtest.sipctl(sipd, "router", "remove", "<b>   =   a")
    check(p.returncode == 0, "router remove <b> = a: %s" % p.stderr)
    p = sipdtest.sipctl(sipd, "router", "remove", "9")
    check(p.returncode == 1 and "no record 9" in p.stderr,
          "router remove 9: %d %s" % (p.returncode, p.stderr))


def saved(sipd):
    with open(sipd.conf_path) as f:
        text = f.read()
    check("; US and Canada" in text, "the record's comment is gone:\n" +
          text)
    check("<a> = b" not in text and "<b> = a" not in text,
          "removed records still saved:\n" + text)
    p = sipdtest.sipctl(sipd, "router", "add", "Signal:<sales> = alice")
    check(p.returncode == 0, "router add: %s" % p.stderr)
    with open(sipd.conf_path) as f:
        text = f.read()
    lines = [ln for ln in text.splitlines() if ln.startswith("router add")]
    check(len(lines) == 5 and "<sales>" in lines[4],
          "records saved: %s" % lines)


def completion(sipd):
    """Tab after "router remove" offers the records' numbers."""
    import os
    import pty
    import select
    import subprocess
    import time

    home = os.path.join(sipd.dir.name, "home")
    os.mkdir(home)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "ctl", "interactive", "lsan.supp")
    env = dict(os.environ, HOME=home, TERM="vt100",
               LSAN_OPTIONS="suppressions=%s" % supp)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sipdtest.sipctl_binary(), "-s", sipd.sock_path],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    out = [b""]

    def read(want, timeout=5.0):
        deadline = time.monotonic() + timeout
        while want.encode() not in out[0]:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([master], [], [], left)
            if not r:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return False
            if not data:
                return False
            out[0] += data
        return True

    try:
        check(read("sipctl> "), "no prompt: %r" % out[0])
        out[0] = b""
        os.write(master, b"router remove \t\t")
        check(read("5"), "Tab after router remove: %r" % out[0])
        check(all(n in out[0] for n in (b"1", b"2", b"3", b"4")),
              "Tab after router remove offered %r, not 1 to 5" % out[0])
        os.write(master, b"\x15quit\n")
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        os.close(master)


def test(binary, started):
    sipd = sipua.start_proxy(binary, started, conf=lambda s: SAMPLE1)
    check(records(sipd) == [
        "NoRelay:Signal:<1*> = *@Provider1.sipgw",
        "NoRelay:Signal:<+*> = 011*@IntlProvider.sipgw",
        "Signal:<help> = alice", "oldco.com = example.com"],
        "router list: %s" % records(sipd))
    sample1(sipd)
    bad_records(sipd)
    loop(sipd)
    saved(sipd)
    completion(sipd)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
