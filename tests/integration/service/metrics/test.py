"""The Prometheus endpoint (sipd.conf(5), metrics listen).

sipd starts with "metrics listen 127.0.0.1:PORT" and accounts in a
local domain.  The test scrapes http://127.0.0.1:PORT/metrics over the
loopback before and after some traffic, and checks:

- the answer is 200 with Content-Type text/plain; version=0.0.4, and the
  text passes Prometheus's own check, "promtool check metrics" (Debian's
  prometheus package; its absence fails the test under CI=true), and a
  stricter checker of the exposition format written here: every line a
  HELP, a TYPE or a sample; a family's TYPE once, before its samples,
  which are contiguous; names and labels well formed; no series twice;
  counters named _total; a histogram's buckets cumulative, in
  ascending le order, ending with +Inf, equal to _count; values numbers;
- the figures move as the traffic says: 3 OPTIONS over UDP and one over
  a TCP connection held open (open connections by transport: tcp 1,
  tls 0; accepted 1); alice registers
  (401, then 200) and mallory answers the challenge with a wrong
  password (401, 401): requests by method, responses sent per class,
  the bindings (1), REGISTERs processed, auth failures (1); a MESSAGE
  to alice proxied to her contact, answered after 80 ms: the histogram
  of times to a final response has two more (the MESSAGE and alice's
  accepted REGISTER, whose store write is a transaction; challenges and
  OPTIONS, answered at once without one, are not in it), one above the
  50 ms bucket, its sum 80 ms more; control connections (a client held
  open during the scrape); the call records, message waiting and media
  relay families there, idle (no record, no subscription, 5000 port
  pairs free);
- another path gets 404, a POST no 200;
- "sipctl metrics listen off" closes the port; setting an address opens
  it there; a bad address is refused with the old one kept.

Before the endpoint existed sipd refused the configuration ("metrics
listen" unknown) and did not start: the test fails there."""

import http.client
import re
import shutil
import socket
import subprocess
import time

import sipdtest
import sipreg
from sipdtest import Peer, check, request
from sipua import Call, RawConn, UA

DELAY = 0.08  # the UAS's answer to the MESSAGE, in seconds

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def free_tcp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def labels_of(text):
    """The labels of a sample as a tuple of pairs, checking the syntax."""
    if text is None or text == "":
        return ()
    out, pos = [], 0
    for _ in range(100):
        m = LABEL.match(text, pos)
        check(m is not None, "bad labels {%s}" % text)
        out.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos == len(text):
            break
        check(text[pos] == ",", "bad labels {%s}" % text)
        pos += 1
    names = [k for k, _ in out]
    check(len(set(names)) == len(names), "a label twice in {%s}" % text)
    return tuple(out)


def family_of(name, types):
    for sfx in ("_bucket", "_sum", "_count"):
        base = name[:-len(sfx)] if name.endswith(sfx) else None
        if base and types.get(base) in ("histogram", "summary"):
            return base
    return name


def parse(text):
    """The samples {(name, labels): value}, checking the format."""
    check(text.endswith("\n"), "the exposition does not end in a newline")
    types, helps, seen, done = {}, set(), {}, set()
    current = None
    samples = {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (n, line)
        check(line.strip() != "", "%s: empty line" % where)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            check(len(parts) >= 3 and parts[1] in ("HELP", "TYPE"),
                  "%s: a comment that is neither HELP nor TYPE" % where)
            name = parts[2]
            check(NAME.match(name), "%s: bad name" % where)
            if parts[1] == "HELP":
                check(name not in helps, "%s: HELP twice" % where)
                check(len(parts) == 4 and parts[3], "%s: empty HELP" % where)
                helps.add(name)
            else:
                check(name not in types, "%s: TYPE twice" % where)
                check(name not in seen, "%s: TYPE after samples" % where)
                check(len(parts) == 4 and parts[3] in TYPES,
                      "%s: bad type" % where)
                types[name] = parts[3]
            continue
        m = SAMPLE.match(line)
        check(m is not None, "%s: not a sample" % where)
        name, labels, value = m.group(1), labels_of(m.group(3)), m.group(4)
        fam = family_of(name, types)
        check(fam in types, "%s: sample without TYPE" % where)
        if fam != current:
            check(fam not in done, "%s: family %s not contiguous"
                  % (where, fam))
            if current is not None:
                done.add(current)
            current = fam
        seen[fam] = True
        if types[fam] == "counter":
            check(name.endswith("_total"), "%s: counter without _total"
                  % where)
        check(name.startswith("sipd_"), "%s: not sipd_" % where)
        try:
            v = float(value)
        except ValueError:
            check(False, "%s: bad value" % where)
        check(v >= 0 or types[fam] == "gauge", "%s: negative" % where)
        key = (name, labels)
        check(key not in samples, "%s: series twice" % where)
        samples[key] = v
    for fam, t in types.items():
        check(fam in seen, "TYPE %s without samples" % fam)
        check(fam in helps, "%s without HELP" % fam)
        if t == "histogram":
            check_histogram(fam, samples)
    return samples


def check_histogram(fam, samples):
    buckets = [(dict(k[1])["le"], v) for k, v in samples.items()
               if k[0] == fam + "_bucket"]
    check(buckets and buckets[-1][0] == "+Inf",
          "%s: the last bucket is not +Inf" % fam)
    les = [float(le) for le, _ in buckets]
    check(les == sorted(les) and len(set(les)) == len(les),
          "%s: buckets not in ascending order" % fam)
    counts = [v for _, v in buckets]
    check(counts == sorted(counts), "%s: buckets not cumulative" % fam)
    check(samples.get((fam + "_count", ())) == counts[-1],
          "%s: _count is not the +Inf bucket" % fam)
    check((fam + "_sum", ()) in samples, "%s: no _sum" % fam)


def scrape(port, path="/metrics", method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        c.close()


def promtool(body):
    """Prometheus's own linter over body: its exit status and findings."""
    tool = shutil.which("promtool")
    if tool is None:
        raise sipdtest.Skip("promtool (Debian's prometheus) not installed")
    r = subprocess.run([tool, "check", "metrics"], input=body,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "promtool check metrics: exit %d: %s%s"
          % (r.returncode, r.stdout, r.stderr))


def metrics(port):
    status, ctype, body = scrape(port)
    check(status == 200, "GET /metrics: %d" % status)
    check(ctype == "text/plain; version=0.0.4; charset=utf-8",
          "Content-Type %r" % ctype)
    promtool(body)
    return parse(body)


def val(s, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    for k, v in s.items():
        if k[0] == name and tuple(sorted(k[1])) == key[1]:
            return v
    check(False, "no series %s%r" % (name, labels))


def closed(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test(binary, started):
    port, sip_tcp = free_tcp(), free_tcp()
    conf = """listener add tcp 127.0.0.1:%d
domain add example.com
account add alice@example.com password secret
account add mallory@example.com password right
metrics listen 127.0.0.1:%d
""" % (sip_tcp, port)
    sipd = sipreg.start(binary, started, conf=conf)
    before = metrics(port)
    check(val(before, "sipd_registrations") == 0, "bindings before")

    peer = Peer()
    try:
        for _ in range(3):
            r = peer.ask(request("OPTIONS", sipd.port), sipd.port)
            check(r is not None and r.status == 200, "OPTIONS not answered")
    finally:
        peer.close()
    ua = UA()
    try:
        alice = sipreg.RegClient(ua, sipd.port, "alice", "secret")
        r = alice.register([alice.contact()], 300)
        check(r.status == 200, "alice: %d" % r.status)
        mallory = sipreg.RegClient(ua, sipd.port, "mallory", "right")
        r = mallory.register([mallory.contact()], 300, password="wrong")
        check(r.status == 401, "mallory with a wrong password: %d"
              % r.status)
        # a MESSAGE to alice, proxied to her contact, which answers
        # after DELAY: one server transaction's time to its final
        caller = UA()
        try:
            call = Call(caller, "sip:alice@example.com")
            caller.send(call.request("MESSAGE"), sipd.port)
            req = ua.expect_request("MESSAGE", call.call_id)
            time.sleep(DELAY)
            ua.respond(req, 200)
            caller.expect_response(200, call)
        finally:
            caller.close()
    finally:
        ua.close()

    # an inbound TCP connection, held open over the scrape
    tcp = RawConn(sip_tcp)
    check(tcp.send(tcp.options(sip_tcp)), "TCP send failed")
    got = tcp.read(1, 3.0)
    check(len(got) == 1 and got[0].status == 200, "OPTIONS over TCP: %r"
          % got)
    held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    held.connect(sipd.sock_path)
    held.recv(4096)  # the greeting: sipd has taken the connection
    after = metrics(port)
    held.close()
    tcp.close()

    def moved(name, want, **labels):
        d = val(after, name, **labels) - val(before, name, **labels)
        check(d == want, "%s%r moved by %g, want %g" % (name, labels, d,
                                                        want))

    moved("sipd_requests_received_total", 4, method="OPTIONS")
    moved("sipd_requests_received_total", 4, method="REGISTER")
    moved("sipd_requests_received_total", 1, method="MESSAGE")
    moved("sipd_requests_sent_total", 1, method="MESSAGE")
    moved("sipd_responses_received_total", 1, **{"class": "2xx"})
    moved("sipd_responses_sent_total", 6, **{"class": "2xx"})
    check(val(after, "sipd_connections", transport="tcp",
              direction="in") == 1, "the TCP connection is not counted")
    check(val(after, "sipd_connections", transport="tls",
              direction="in") == 0, "a TLS connection counted")
    moved("sipd_connections_accepted_total", 1)
    moved("sipd_responses_sent_total", 3, **{"class": "4xx"})
    moved("sipd_auth_failures_total", 1)
    moved("sipd_register_requests_total", 1)  # authenticated ones
    check(val(after, "sipd_registrations") == 1, "bindings after: %g"
          % val(after, "sipd_registrations"))
    hist = "sipd_request_final_response_seconds"
    # alice's REGISTER (a transaction while the store writes) and the
    # MESSAGE; at least the MESSAGE above 50 ms
    moved(hist + "_count", 2)
    moved(hist + "_bucket", 2, le="+Inf")
    slow = (val(after, hist + "_count") - val(after, hist + "_bucket",
                                              le="0.050"))
    check(slow >= 1, "no final response after more than 50 ms")
    d = val(after, hist + "_sum") - val(before, hist + "_sum")
    check(DELAY <= d < 5, "%s_sum moved by %g, want >= %g" % (hist, d,
                                                               DELAY))
    moved("sipd_transactions_created_total", 2, kind="server")
    check(val(after, "sipd_control_connections") >= 1,
          "the control connection held open is not counted")
    check(val(after, "sipd_received_bytes_total") >
          val(before, "sipd_received_bytes_total"), "bytes in did not move")
    check(val(after, "sipd_worker_requests_received_total", worker="0")
          >= 0, "no per-worker series")
    check(val(after, "sipd_transactions_by_state", kind="server",
              state="Trying") >= 0, "no transactions by state")
    # the shared services, idle here (metrics-services moves them):
    # no call records (off), no subscription, the default media range's
    # 5000 port pairs free
    check(val(after, "sipd_cdr_records_total") == 0, "call records")
    check(val(after, "sipd_mwi_subscriptions", kind="explicit") == 0,
          "message-waiting subscriptions")
    check(val(after, "sipd_media_port_pairs_free") == 5000,
          "media port pairs free: %g" % val(after,
                                            "sipd_media_port_pairs_free"))

    status, _, _ = scrape(port, "/other")
    check(status == 404, "GET /other: %d, want 404" % status)
    status, _, _ = scrape(port, method="POST")
    check(status != 200, "POST /metrics answered 200")

    p = sipdtest.sipctl(sipd, "metrics", "listen", "off")
    check(p.returncode == 0, "metrics listen off: %s" % p.stderr)
    check(closed(port), "the port is still open after metrics listen off")
    port2 = free_tcp()
    p = sipdtest.sipctl(sipd, "metrics", "listen", "127.0.0.1:%d" % port2)
    check(p.returncode == 0, "metrics listen again: %s" % p.stderr)
    metrics(port2)
    p = sipdtest.sipctl(sipd, "metrics", "listen", "localhost:9100")
    check(p.returncode == 1, "a host name accepted (exit %d)"
          % p.returncode)
    metrics(port2)
    s = sipreg.ctl(sipd, "show", "settings")
    text = str(s)
    check("127.0.0.1:%d" % port2 in text, "show settings: %s" % text[:300])
    sipdtest.stop_clean(sipd)


sipdtest.run(test)
