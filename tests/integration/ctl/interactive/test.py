"""The interactive shell under a pseudo-terminal: Tab completes command
words ("listener l" + Tab gives "listener list"), abbreviated words
before it ("sh tr" + Tab + "s" + Tab gives "show transactions server"),
and live values asked of sipd (the address of "listener remove udp";
a table's keys from its list, by the names tables.def declares: a
gateway's name, a LAN range, a domain; a workaround's entry from its own
table's rows alone, though "workaround list" shows both tables);
"?" lists what may come next, a table's fields with their help from
tables.def; commands run and print; the history is
written to ~/.sipctl_history."""

import json
import os

import sipdtest
from sipdtest import Sipd, check
from sipterm import Term

# two workaround tables' entries sharing a prefix: "acm" completes to
# either only when each remove takes its own table's
WK = {"product": ("acmephone", "noTCP"), "site": ("acme.example", "noPath")}


def wk_entries(sipd, table):
    p = sipdtest.sipctl(sipd, "-j", "workaround", "list")
    check(p.returncode == 0, "workaround list: %r" % p.stderr)
    return [r["entry"] for r in json.loads(p.stdout)["data"]
            if r["table"] == table]


def test(binary, started):
    sipd = Sipd(binary, conf="gateway add Provider1 domain prov.test\n"
                "lan add 10.1.0.0/16\ndomain add example.com\n" +
                "".join("workaround %s add %s %s\n" % (table, entry, how)
                        for table, (entry, how) in sorted(WK.items())))
    started.append(sipd)
    sipd.start()
    home = os.path.join(sipd.dir.name, "home")
    os.mkdir(home)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "lsan.supp")
    env = dict(os.environ, HOME=home, TERM="vt100",
               LSAN_OPTIONS="suppressions=%s" % supp)
    t = Term([sipdtest.sipctl_binary(), "-s", sipd.sock_path], env)
    try:
        check(t.read("sipctl> "), "no prompt: %r" % t.out)
        t.mark()
        t.type("listener l\t")
        check(t.read("ist "), "Tab: %r" % t.out)
        t.type("\n")
        check(t.read("127.0.0.1:%d" % sipd.port), "list: %r" % t.out)
        check(t.read("sipctl> "), "no prompt after list")

        t.mark()
        t.type("sh tr\t")
        check(t.read("ansactions "), "Tab after sh: %r" % t.out)
        t.type("s\t")
        check(t.read("erver "), "Tab for server: %r" % t.out)
        t.type("\n")
        check(t.read("(none)") or t.read("id"), "show txn: %r" % t.out)
        check(t.read("sipctl> "), "no prompt after show")

        # a live value: the listener's address, asked of sipd
        t.mark()
        t.type("listener remove udp 127\t")
        check(t.read(".0.0.1:%d " % sipd.port), "live Tab: %r" % t.out)
        t.type("\x15")   # Ctrl-U: drop the line
        for typed, want in (("gateway set Prov\t", "ider1 "),
                            ("lan remove 10.1\t", ".0.0/16 "),
                            ("domain remove exa\t", "mple.com ")):
            t.mark()
            t.type(typed)
            check(t.read(want), "Tab after %r: %r" % (typed, t.out))
            t.type("\x15")
        # each remove Tab-completes its own table's entry (the other
        # table's, sharing "acm", would stop the completion at "acme")
        # and Enter removes it; put back for the other table's turn
        for table, (entry, how) in sorted(WK.items()):
            t.mark()
            t.type("workaround %s remove acm\t" % table)
            check(t.read(entry[3:] + " "), "Tab after workaround %s remove "
                  "acm: %r" % (table, t.out))
            t.type("\n")
            check(t.read("sipctl> "), "no prompt after remove")
            check(wk_entries(sipd, table) == [],
                  "workaround %s remove: %r" % (table, t.out))
            p = sipdtest.sipctl(sipd, "workaround", table, "add", entry, how)
            check(p.returncode == 0, "add back: %r" % p.stderr)
        # "?" gives a table's fields their help from tables.def
        t.mark()
        t.type("gateway add P2 ?")
        check(t.read("The provider's SIP domain"), "?: %r" % t.out)
        t.type("\x15")
        t.mark()
        t.type("route add example.net ?")
        check(t.read("The host[:port] requests go to"), "?: %r" % t.out)
        t.type("\x15")
        t.mark()
        t.type("set t?")
        check(t.read("timer-b") and t.read("t1"), "?: %r" % t.out)
        t.type("\x15quit\n")
        t.proc.wait(timeout=5)
        t.read("never", 0.5)
        check(t.proc.returncode == 0, "exit %r: %r" % (t.proc.returncode,
                                                      t.out[-3000:]))
    finally:
        t.close()
    with open(os.path.join(home, ".sipctl_history")) as f:
        hist = f.read()
    check("listener list" in hist or "listener\\040list" in hist,
          "history: %r" % hist)
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
