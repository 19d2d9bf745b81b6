/*
 * The resolver against a real DNS server: dnsmasq on 127.0.0.1 and a free
 * port, authoritative for example.test with NAPTR, SRV, A and AAAA records
 * given on its command line, its query log in a file.  Each case runs the
 * resolver on a libevent loop, bounded in time:
 *
 *   NAPTR -> SRV -> A, SRV only, A/AAAA only, an explicit port, sips:;
 *   SRV priorities and weights over 4000 requests (the weighted order is
 *   drawn for each request, the records are looked up once);
 *   NXDOMAIN, cached from its SOA: the second request sends nothing (the
 *   resolver's query counter and dnsmasq's log agree);
 *   TTL expiry (dnsmasq's --auth-ttl of 2 s): the same request goes to the
 *   server again once the TTL ran out, and not before;
 *   a silent server (a UDP socket that never answers): the request fails
 *   with -ETIMEDOUT after the configured timeout, while another request on
 *   the same event loop completes meanwhile;
 *   new servers while a lookup is on the wire: new requests go to them,
 *   the old lookup still ends;
 *   requests for one name at once share one lookup; a cancelled request
 *   gets no callback.
 *
 * A missing dnsmasq skips the test (exit 77), and fails it under CI=true.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sipd/dns/dns.h"

#define TTL_S 2          /* every record's TTL, and the SOA minimum */
#define WAIT_MS 5000     /* the most any case waits for an answer */

static const char *const records[] = {
	"--naptr-record=example.test,10,10,S,SIP+D2U,,_sip._udp.example.test",
	"--naptr-record=example.test,10,20,S,SIP+D2T,,_sip._tcp.example.test",
	"--naptr-record=example.test,10,30,S,SIPS+D2T,,_sips._tcp.example.test",
	/* not for SIP: ignored */
	"--naptr-record=example.test,5,10,U,E2U+sip,!^.*$!sip:x@y!,",
	"--srv-host=_sip._udp.example.test,a.example.test,5070,10,0",
	"--srv-host=_sip._udp.example.test,b.example.test,5072,20,0",
	"--srv-host=_sip._tcp.example.test,a.example.test,5071,10,0",
	"--srv-host=_sips._tcp.example.test,a.example.test,5081,10,0",
	"--srv-host=_sip._tcp.srv.example.test,h.example.test,6000,1,1",
	"--srv-host=_sip._udp.w.example.test,a.example.test,5070,10,60",
	"--srv-host=_sip._udp.w.example.test,b.example.test,5072,10,40",
	"--srv-host=_sip._udp.w.example.test,h.example.test,5074,20,0",
	"--host-record=a.example.test,127.0.0.2",
	"--host-record=b.example.test,127.0.0.3",
	"--host-record=h.example.test,127.0.0.4",
	"--host-record=plain.example.test,127.0.0.5,::5",
	"--txt-record=plain.example.test,\"not a SIP record\"",
};

static struct {
	pid_t pid;
	uint16_t port;
	char dir[64];
	char log[96];
	struct event_base *base;
	struct event *beat;
	struct dns *d;
} g;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A free loopback port, UDP and TCP. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) < 0) {
		return 0;
	}
	close(s);
	return ntohs(sa.sin_port);
}

static const char *
find_dnsmasq(void)
{
	static const char *const paths[] = { "/usr/sbin/dnsmasq",
		"/sbin/dnsmasq", "/usr/local/sbin/dnsmasq",
		"/usr/bin/dnsmasq" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], X_OK) == 0) {
			return paths[i];
		}
	}
	return NULL;
}

static pid_t
spawn_dnsmasq(const char *bin, uint16_t port)
{
	char a_port[32], a_log[128], ttl[32], pidf[128];
	const char *argv[64];
	size_t n = 0;

	snprintf(a_port, sizeof(a_port), "--port=%u", port);
	snprintf(a_log, sizeof(a_log), "--log-facility=%s", g.log);
	snprintf(ttl, sizeof(ttl), "--auth-ttl=%d", TTL_S);
	snprintf(pidf, sizeof(pidf), "--pid-file=%s/pid", g.dir);
	argv[n++] = bin;
	argv[n++] = "--keep-in-foreground";
	argv[n++] = "--no-resolv";
	argv[n++] = "--no-hosts";
	argv[n++] = "--conf-file=/dev/null";
	argv[n++] = "--bind-interfaces";
	argv[n++] = "--listen-address=127.0.0.1";
	argv[n++] = "--user=root";
	argv[n++] = pidf;
	argv[n++] = a_port;
	argv[n++] = "--log-queries";
	argv[n++] = a_log;
	argv[n++] = "--auth-server=ns.example.test,127.0.0.1";
	argv[n++] = "--auth-zone=example.test";
	argv[n++] = ttl;
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		argv[n++] = records[i];
	}
	argv[n] = NULL;

	pid_t pid = fork();
	if (pid == 0) {
		/* ends with this test, whatever happens to it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(120);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		char *args[64];
		for (size_t i = 0; i <= n; i++) {
			args[i] = argv[i] != NULL ? strdup(argv[i]) : NULL;
		}
		execv(bin, args);
		_exit(127);
	}
	return pid;
}

static void
on_beat(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

struct res {
	bool done;
	int rc;
	struct dns_targets *ts;
	uint64_t at;
	unsigned calls;
};

static void
on_done(void *arg, int rc, struct dns_targets *ts)
{
	struct res *r = arg;

	r->done = true;
	r->calls++;
	r->rc = rc;
	r->ts = ts;
	r->at = now_ms();
}

/* Run the loop until every r[i] is done, or max_ms. */
static void
run(struct res *r, size_t n, unsigned max_ms)
{
	uint64_t end = now_ms() + max_ms;

	for (;;) {
		bool all = true;

		for (size_t i = 0; i < n; i++) {
			all &= r[i].done;
		}
		if (all || now_ms() >= end) {
			return;
		}
		event_base_loop(g.base, EVLOOP_ONCE);
	}
}

/* Resolve rq on d, through the loop if needed; *sync says which. */
static int
resolve(struct dns *d, const struct dns_req *rq, struct dns_targets **ts,
    bool *sync)
{
	struct res r;
	struct dns_query *q = NULL;

	memset(&r, 0, sizeof(r));
	int rc = dns_resolve(d, rq, on_done, &r, ts, &q);
	if (sync != NULL) {
		*sync = rc != 1;
	}
	if (rc != 1) {
		return rc;
	}
	run(&r, 1, WAIT_MS);
	if (!r.done) {
		dns_cancel(q);
		return -EINTR;
	}
	*ts = r.ts;
	return r.rc;
}

static struct dns_req
req(const char *host, uint16_t port, bool sips, unsigned families)
{
	struct dns_req q;

	memset(&q, 0, sizeof(q));
	q.host = host;
	q.host_len = strlen(host);
	q.port = port;
	q.sips = sips;
	q.tps = DNS_TP_ALL;
	q.families = families;
	return q;
}

/* The targets as "udp 127.0.0.2:5070,udp ..." */
static const char *
list(const struct dns_targets *ts)
{
	static char buf[1024];
	char t[DNS_TARGET_TEXT];

	buf[0] = '\0';
	for (size_t i = 0; i < dns_targets_count(ts); i++) {
		if (i > 0) {
			strcat(buf, ",");
		}
		strcat(buf, dns_target_format(dns_targets_at(ts, i), t,
		    sizeof(t)));
	}
	return buf;
}

/* Lines of dnsmasq's log naming the query "auth[TYPE] name from". */
static unsigned
logged(const char *type, const char *name)
{
	char want[300], line[512];
	unsigned n = 0;
	FILE *f = fopen(g.log, "r");

	snprintf(want, sizeof(want), "auth[%s] %s from", type, name);
	if (f == NULL) {
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n += strstr(line, want) != NULL;
	}
	fclose(f);
	return n;
}

static uint64_t
queries(struct dns *d)
{
	struct dns_stats st;

	dns_stats(d, &st);
	return st.queries;
}

static struct dns *
new_resolver(uint16_t port, unsigned timeout_ms, unsigned tries)
{
	struct dns_conf c;
	char err[256];

	dns_conf_default(&c);
	snprintf(c.servers, sizeof(c.servers), "127.0.0.1:%u", port);
	c.timeout_ms = timeout_ms;
	c.tries = tries;
	struct dns *d = dns_new(g.base, &c, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "%s\n", err);
	}
	return d;
}

static void
naptr_srv_a(void **state)
{
	struct dns_targets *ts = NULL;
	struct dns_req rq = req("example.test", 0, false, DNS_AF_INET);
	bool sync;

	(void)state;
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), 0);
	assert_false(sync);
	/* NAPTR preference UDP, TCP, TLS; SRV priority within each */
	assert_string_equal(list(ts), "udp 127.0.0.2:5070,udp 127.0.0.3:5072,"
	    "tcp 127.0.0.2:5071,tls 127.0.0.2:5081");
	dns_targets_free(ts);
	/* all cached: answered at once, nothing sent */
	uint64_t before = queries(g.d);
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), 0);
	assert_true(sync);
	assert_int_equal(queries(g.d), before);
	dns_targets_free(ts);

	/* sips: only SIPS+D2T */
	rq = req("example.test", 0, true, DNS_AF_INET);
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), 0);
	assert_string_equal(list(ts), "tls 127.0.0.2:5081");
	dns_targets_free(ts);

	/* an explicit transport: its SRV name, no NAPTR */
	rq = req("example.test", 0, false, DNS_AF_INET);
	rq.transport = "tcp";
	rq.transport_len = 3;
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), 0);
	assert_string_equal(list(ts), "tcp 127.0.0.2:5071");
	dns_targets_free(ts);
}

static void
srv_only(void **state)
{
	struct dns_targets *ts = NULL;
	struct dns_req rq = req("srv.example.test", 0, false, 0);

	(void)state;
	/* no NAPTR: the probe finds _sip._tcp only */
	assert_int_equal(resolve(g.d, &rq, &ts, NULL), 0);
	assert_string_equal(list(ts), "tcp 127.0.0.4:6000");
	dns_targets_free(ts);
	assert_int_equal(logged("NAPTR", "srv.example.test"), 1);
	assert_int_equal(logged("SRV", "_sip._udp.srv.example.test"), 1);
	assert_int_equal(logged("SRV", "_sips._tcp.srv.example.test"), 1);
}

static void
a_only_and_port(void **state)
{
	struct dns_targets *ts = NULL;
	struct dns_req rq = req("plain.example.test", 0, false, 0);

	(void)state;
	/* no NAPTR, no SRV: A and AAAA on 5060, UDP */
	assert_int_equal(resolve(g.d, &rq, &ts, NULL), 0);
	assert_string_equal(list(ts), "udp 127.0.0.5:5060,udp [::5]:5060");
	dns_targets_free(ts);
	rq.prefer_inet6 = true;
	assert_int_equal(resolve(g.d, &rq, &ts, NULL), 0);
	assert_string_equal(list(ts), "udp [::5]:5060,udp 127.0.0.5:5060");
	dns_targets_free(ts);

	/* an explicit port: A/AAAA only, never NAPTR or SRV */
	rq = req("b.example.test", 5099, false, DNS_AF_INET);
	assert_int_equal(resolve(g.d, &rq, &ts, NULL), 0);
	assert_string_equal(list(ts), "udp 127.0.0.3:5099");
	dns_targets_free(ts);
	assert_int_equal(logged("NAPTR", "b.example.test"), 0);

	/* sips: with no SRV: TLS on 5061 */
	rq = req("plain.example.test", 0, true, DNS_AF_INET);
	assert_int_equal(resolve(g.d, &rq, &ts, NULL), 0);
	assert_string_equal(list(ts), "tls 127.0.0.5:5061");
	dns_targets_free(ts);
}

static void
nxdomain_cached(void **state)
{
	struct dns_targets *ts = NULL;
	struct dns_req rq = req("nx.example.test", 0, false, 0);
	bool sync;

	(void)state;
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), -ENOENT);
	assert_false(sync);
	uint64_t before = queries(g.d);
	/* RFC 2308: cached for the SOA minimum; nothing is sent */
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), -ENOENT);
	assert_true(sync);
	assert_int_equal(queries(g.d), before);
	assert_int_equal(logged("NAPTR", "nx.example.test"), 1);
	/* the NXDOMAIN of the domain spares its SRV and A lookups */
	assert_int_equal(logged("A", "nx.example.test"), 0);
}

static void
ttl_expiry(void **state)
{
	struct dns_targets *ts = NULL;
	struct dns_req rq = req("h.example.test", 5060, false, DNS_AF_INET);
	bool sync;

	(void)state;
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), 0);
	dns_targets_free(ts);
	unsigned first = logged("A", "h.example.test");
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), 0);
	assert_true(sync);
	dns_targets_free(ts);
	assert_int_equal(logged("A", "h.example.test"), first);
	/* past the TTL the entry is not served: asked again */
	usleep((TTL_S * 1000 + 200) * 1000);
	assert_int_equal(resolve(g.d, &rq, &ts, &sync), 0);
	assert_false(sync);
	dns_targets_free(ts);
	assert_int_equal(logged("A", "h.example.test"), first + 1);
}

static uint32_t
lcg(void *arg)
{
	uint64_t *st = arg;

	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*st >> 33);
}

static void
srv_weights(void **state)
{
	struct dns_targets *ts = NULL;
	struct dns_req rq = req("w.example.test", 0, false, DNS_AF_INET);
	uint64_t seed = 1;
	unsigned first_a = 0, n = 4000;

	(void)state;
	/* RFC 2782 over many requests: priority 10 holds a (60) and b
	 * (40), priority 20 holds h; the first target follows the weights,
	 * h is always last.  The draw includes 0 and the sum, so a is
	 * first with odds 61/101: 2416 of 4000, within 5 sigma (155) */
	dns_set_random(g.d, lcg, &seed);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(resolve(g.d, &rq, &ts, NULL), 0);
		assert_int_equal(dns_targets_count(ts), 3);
		const char *l = list(ts);
		first_a += strncmp(l, "udp 127.0.0.2:5070,", 19) == 0;
		assert_non_null(strstr(l, ",udp 127.0.0.4:5074"));
		dns_targets_free(ts);
	}
	print_message("srv weights 60/40: first %u and %u of %u\n", first_a,
	    n - first_a, n);
	assert_in_range(first_a, 2416 - 155, 2416 + 155);
	/* one lookup per name for all of them */
	assert_int_equal(logged("SRV", "_sip._udp.w.example.test"), 1);
}

static void
silent_server(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct res r[2];
	struct dns_query *q;
	struct dns_targets *ts = NULL;

	(void)state;
	/* a server that reads nothing and answers nothing */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	struct dns *slow = new_resolver(ntohs(sa.sin_port), 400, 1);
	assert_non_null(slow);

	memset(r, 0, sizeof(r));
	struct dns_req rq = req("example.test", 0, false, DNS_AF_INET);
	uint64_t t0 = now_ms();
	assert_int_equal(dns_resolve(slow, &rq, on_done, &r[0], &ts, &q), 1);
	/* meanwhile, on the same loop, the real server answers */
	dns_flush(g.d);
	struct dns_req rq2 = req("srv.example.test", 0, false, 0);
	assert_int_equal(dns_resolve(g.d, &rq2, on_done, &r[1], &ts, &q), 1);
	run(r, 2, WAIT_MS);
	assert_true(r[0].done);
	assert_true(r[1].done);
	assert_int_equal(r[1].rc, 0);
	assert_true(r[1].at < r[0].at);
	dns_targets_free(r[1].ts);
	assert_int_equal(r[0].rc, -ETIMEDOUT);
	uint64_t took = r[0].at - t0;
	print_message("silent server: timed out after %llu ms (timeout 400)\n",
	    (unsigned long long)took);
	assert_in_range(took, 350, 1400);
	/* a failure is not cached: the next request asks again */
	memset(r, 0, sizeof(r));
	assert_int_equal(dns_resolve(slow, &rq, on_done, &r[0], &ts, &q), 1);
	dns_cancel(q);
	dns_free(slow);
	close(s);
}

static void
reconfigure_live(void **state)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct res r[2];
	struct dns_query *q;
	struct dns_targets *ts = NULL;
	struct dns_conf c;
	char err[256];

	(void)state;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	struct dns *d = new_resolver(ntohs(sa.sin_port), 500, 1);
	assert_non_null(d);

	/* a lookup on the wire to the silent server, then the servers
	 * change: the new request goes to dnsmasq and is answered; the
	 * old one still ends (from the old channel), none hangs */
	memset(r, 0, sizeof(r));
	struct dns_req rq = req("example.test", 0, false, DNS_AF_INET);
	assert_int_equal(dns_resolve(d, &rq, on_done, &r[0], &ts, &q), 1);
	dns_conf_default(&c);
	snprintf(c.servers, sizeof(c.servers), "127.0.0.1:%u", g.port);
	c.timeout_ms = 1000;
	strcpy(c.servers + strlen(c.servers), ",bad");
	assert_int_equal(dns_configure(d, &c, err, sizeof(err)), -EINVAL);
	snprintf(c.servers, sizeof(c.servers), "127.0.0.1:%u", g.port);
	assert_int_equal(dns_configure(d, &c, err, sizeof(err)), 0);
	struct dns_req rq2 = req("srv.example.test", 0, false, 0);
	assert_int_equal(dns_resolve(d, &rq2, on_done, &r[1], &ts, &q), 1);
	run(r, 2, WAIT_MS);
	assert_true(r[1].done);
	assert_int_equal(r[1].rc, 0);
	assert_true(r[1].at < r[0].at);
	dns_targets_free(r[1].ts);
	assert_true(r[0].done);
	assert_int_equal(r[0].rc, -ETIMEDOUT);
	/* and the same name now resolves through the new server */
	assert_int_equal(resolve(d, &rq, &ts, NULL), 0);
	assert_int_equal(dns_targets_count(ts), 4);
	dns_targets_free(ts);
	dns_free(d);
	close(s);
}

static void
shared_and_cancelled(void **state)
{
	struct res r[3];
	struct dns_query *q[3];
	struct dns_targets *ts = NULL;

	(void)state;
	dns_flush(g.d);
	memset(r, 0, sizeof(r));
	struct dns_req rq = req("plain.example.test", 0, false, 0);
	uint64_t before = queries(g.d);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dns_resolve(g.d, &rq, on_done, &r[i], &ts,
		    &q[i]), 1);
	}
	/* one lookup per (name, type) for the three requests: NAPTR and
	 * its three SRV probes, then A and AAAA */
	dns_cancel(q[1]);
	run(r, 1, WAIT_MS);
	run(&r[2], 1, WAIT_MS);
	assert_int_equal(r[0].rc, 0);
	assert_int_equal(r[2].rc, 0);
	assert_int_equal(r[1].calls, 0);
	assert_int_equal(r[0].calls, 1);
	assert_int_equal(queries(g.d) - before, 6);
	dns_targets_free(r[0].ts);
	dns_targets_free(r[2].ts);
}

int
main(void)
{
	const char *bin = find_dnsmasq();
	const char *ci = getenv("CI");
	int rc = 1;

	if (bin == NULL) {
		fprintf(stderr, "test_resolve: dnsmasq not found (Debian "
		    "package dnsmasq-base)\n");
		return ci != NULL && strcmp(ci, "true") == 0 ? 1 : 77;
	}
	snprintf(g.dir, sizeof(g.dir), "/tmp/sipd-dns-XXXXXX");
	if (mkdtemp(g.dir) == NULL) {
		return 1;
	}
	snprintf(g.log, sizeof(g.log), "%s/dnsmasq.log", g.dir);
	g.base = event_base_new();
	g.beat = event_new(g.base, -1, EV_PERSIST, on_beat, NULL);
	struct timeval tv = { 0, 50000 };
	event_add(g.beat, &tv);

	/* start dnsmasq; a port taken meanwhile: try another */
	for (int attempt = 0; attempt < 3 && g.d == NULL; attempt++) {
		g.port = free_port();
		g.pid = spawn_dnsmasq(bin, g.port);
		if (g.pid < 0) {
			break;
		}
		struct dns *probe = new_resolver(g.port, 200, 1);
		for (int i = 0; i < 50 && probe != NULL; i++) {
			struct dns_req rq = req("a.example.test", 1, false,
			    DNS_AF_INET);
			struct dns_targets *ts = NULL;
			if (resolve(probe, &rq, &ts, NULL) == 0) {
				dns_targets_free(ts);
				g.d = new_resolver(g.port, 1000, 2);
				break;
			}
			if (waitpid(g.pid, NULL, WNOHANG) == g.pid) {
				break; /* it exited: the port, perhaps */
			}
			usleep(100000);
		}
		dns_free(probe);
		if (g.d == NULL) {
			kill(g.pid, SIGKILL);
			waitpid(g.pid, NULL, 0);
		}
	}
	if (g.d == NULL) {
		fprintf(stderr, "test_resolve: dnsmasq did not start\n");
		goto out;
	}

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(naptr_srv_a),
		cmocka_unit_test(srv_only),
		cmocka_unit_test(a_only_and_port),
		cmocka_unit_test(nxdomain_cached),
		cmocka_unit_test(ttl_expiry),
		cmocka_unit_test(srv_weights),
		cmocka_unit_test(silent_server),
		cmocka_unit_test(reconfigure_live),
		cmocka_unit_test(shared_and_cancelled),
	};
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	dns_free(g.d);
	kill(g.pid, SIGTERM);
	waitpid(g.pid, NULL, 0);
out:
	event_free(g.beat);
	event_base_free(g.base);
	unlink(g.log);
	rmdir(g.dir);
	return rc;
}
