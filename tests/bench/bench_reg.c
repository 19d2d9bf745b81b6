/*
 * bench_reg: figures for sipd/reg, not a test.
 *
 *   1. memory: the RSS growth of a registrar holding N bindings (N AORs
 *      with one contact each, realistic Contact, Call-ID and User-Agent),
 *      in memory only and with the SQLite store, divided by N;
 *   2. the cost of one REGISTER (parse included) with no store, with the
 *      SQLite store at synchronous=NORMAL and at synchronous=FULL (the
 *      write-through default: one fsync'd commit per REGISTER);
 *   3. the cost of a lookup.
 *
 * Usage: bench_reg [N [DIR]]; N defaults to 100000, DIR (where the store
 * files go) to /tmp.  The FULL run uses at most 5000 REGISTERs: each costs
 * an fsync.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sipd/reg/reg.h"

#define T0 ((time_t)1700000000)

static long
rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL) {
		return -1;
	}
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
		rss = -1;
	}
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct msg *
mkreq(unsigned i, unsigned cseq)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf),
	    "REGISTER sip:example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 198.51.100.%u:5060;rport;"
	    "branch=z9hG4bK-%08x-%u\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:user%u@example.com>;tag=%08x\r\n"
	    "To: <sip:user%u@example.com>\r\n"
	    "Call-ID: %08x-%08x-4c2a-9e1f@198.51.100.%u\r\n"
	    "CSeq: %u REGISTER\r\n"
	    "Contact: <sip:user%u@198.51.100.%u:%u;transport=udp>;"
	    "+sip.instance=\"<urn:uuid:%08x-1f2e-4d3c-8b7a-00%08x>\"\r\n"
	    "Expires: 3600\r\n"
	    "User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
	    "Content-Length: 0\r\n\r\n",
	    i % 250, i, cseq, i, i * 2654435761u, i, i * 2654435761u, i,
	    i % 250, cseq, i, i % 250, 1024 + i % 60000, i, i);
	struct msg_err err;

	return msg_parse(buf, (size_t)n, NULL, &err);
}

static struct reg_src
mksrc(unsigned i)
{
	struct reg_src s;
	struct sockaddr_in *in = (struct sockaddr_in *)&s.addr;

	memset(&s, 0, sizeof(s));
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)(1024 + i % 60000));
	in->sin_addr.s_addr = htonl(0xc6336400u | (i % 250));
	s.addrlen = sizeof(*in);
	s.proto = 0;
	return s;
}

/* n REGISTERs, one new AOR each; returns seconds, or -1 on a failure. */
static double
run(struct reg *r, unsigned n, unsigned base)
{
	double t = now_s();

	for (unsigned i = base; i < base + n; i++) {
		char aor[64];
		struct reg_src src = mksrc(i);
		struct msg *req = mkreq(i, 1);
		struct reg_answer ans = { 0 };
		snprintf(aor, sizeof(aor), "user%u@example.com", i);
		/* the answer as sipd sends it: bytes, not parsed back */
		if (req == NULL ||
		    reg_register_async(r, req, aor, &src, T0, SV_LIT("t1"),
			NULL, NULL, &ans) != 0 ||
		    ans.status != 200) {
			fprintf(stderr, "bench_reg: REGISTER %u failed\n", i);
			return -1;
		}
		free(ans.p);
		msg_free(req);
	}
	return now_s() - t;
}

static void
rm_store(const char *path)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", path);
	unlink(buf);
	unlink(path);
}

/* One registrar of n bindings; prints memory and time per REGISTER. */
static int
bench(const char *label, const char *path, enum reg_sync sync, unsigned n)
{
	struct reg_settings set;
	struct reg *r;
	long before, after;
	double secs;
	int err = 0;

	reg_settings_init(&set);
	set.sync = sync;
	if (path != NULL) {
		rm_store(path);
	}
	before = rss_kib();
	r = reg_new(&set, NULL, path, T0, &err);
	if (r == NULL) {
		fprintf(stderr, "bench_reg: %s: cannot open (%d)\n", label,
		    err);
		return -1;
	}
	secs = run(r, n, 0);
	after = rss_kib();
	if (secs < 0) {
		reg_free(r);
		return -1;
	}
	printf("%-16s %8u bindings  %8.1f us/REGISTER  %7.0f REGISTER/s  "
	       "RSS +%ld KiB = %.0f bytes/binding\n",
	    label, n, secs * 1e6 / n, n / secs, after - before,
	    (double)(after - before) * 1024.0 / n);
	if (path == NULL) {
		struct reg_snap *s = NULL;
		unsigned k = n < 100000 ? n : 100000;
		double t = now_s();
		for (unsigned i = 0; i < k; i++) {
			char aor[64];
			snprintf(aor, sizeof(aor), "user%u@example.com",
			    (i * 7919u) % n);
			if (reg_lookup(r, aor, T0, &s) != 1) {
				fprintf(stderr, "bench_reg: lookup failed\n");
				break;
			}
			reg_snap_free(s);
		}
		printf("%-16s %8u lookups   %8.2f us/lookup\n", label, k,
		    (now_s() - t) * 1e6 / k);
	}
	reg_free(r);
	if (path != NULL) {
		rm_store(path);
	}
	return 0;
}

/* Each run in a process of its own, so RSS starts from the same place. */
static int
fork_bench(const char *label, const char *path, enum reg_sync sync,
    unsigned n)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		int rc = bench(label, path, sync, n);
		fflush(stdout);
		_exit(rc < 0 ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char path[1024];

	if (n == 0) {
		fprintf(stderr, "usage: bench_reg [N [DIR]]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/bench_reg-%ld.db", dir,
	    (long)getpid());
	printf("bench_reg: %u bindings, store in %s\n", n, dir);
	fflush(stdout);
	if (fork_bench("memory only", NULL, REG_SYNC_FULL, n) < 0 ||
	    fork_bench("sqlite NORMAL", path, REG_SYNC_NORMAL, n) < 0 ||
	    fork_bench("sqlite FULL", path, REG_SYNC_FULL,
		n < 5000 ? n : 5000) < 0) {
		return 1;
	}
	return 0;
}
