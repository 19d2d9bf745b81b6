/*
 * bench_parse: how fast sipd's message parser gives a proxy what it needs,
 * against libosip2 doing the same job.
 *
 * Each side parses every message of the corpus (one message per file) and
 * reads the fields a stateless proxy looks at before forwarding: the top
 * Via's branch and sent-by, the From and To tags, Call-ID, CSeq, Max-Forwards,
 * every Route URI and Content-Length; then frees the message.  Before timing,
 * each side's reading of every message is checked once against the values
 * written below (a wrong parse is not a fast parse).  The two sides then
 * alternate for a number of rounds and the median rate of each is reported.
 * The last line printed is "parse ratio vs libosip2: X.XX", sipd's median
 * over libosip2's.
 *
 * Not part of the test suite: see README.md beside this file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "sipd/msg/msg.h"

#ifndef BENCH_CORPUS_DIR
#define BENCH_CORPUS_DIR "tests/bench/corpus"
#endif

#define BENCH_MAX_FILES 64
#define BENCH_MAX_ROUTES 8
#define BENCH_TARGET_SECONDS 2.0
#define BENCH_CALIBRATE_SECONDS 0.25

/* One corpus message. */
struct sample {
	char name[256];
	char *data;
	size_t len;
	size_t body_len; /* bytes after the blank line: the Content-Length */
};

/* What one parser read from one message, for the check before timing. */
struct fields {
	char branch[128];
	char host[128];
	unsigned port;
	char from_tag[64];
	char to_tag[64];
	char callid[128];
	uint32_t cseq;
	char method[32];
	long max_fwd; /* -1 when absent */
	int nroutes;
	char routes[BENCH_MAX_ROUTES][128];
	long clen;
};

/* The values each corpus file must give; Content-Length is its body size. */
struct expect {
	const char *file;
	const char *branch, *host;
	unsigned port;
	const char *from_tag, *to_tag, *callid;
	uint32_t cseq;
	const char *method;
	long max_fwd;
	const char *routes[BENCH_MAX_ROUTES]; /* NULL-terminated */
};

#define CID_ATL "3848276298220188511@atlanta.example.com"
#define CID_REG "Njg2ZmI1ZDQ3YzE4MjVmNWQ0YzFmYjE1YzQ2MGE1ZTc."
#define BR_INV "z9hG4bK2d4790.1"
#define BR_REG "z9hG4bK-524287-1---0d3f5c2a9b8e7160"
#define RT_PROXY2 "sip:proxy2.atlanta.example.com;lr"
#define RT_EDGE "sip:192.0.2.10;lr;ftag=9fxced76sl"

static const struct expect expects[] = {
    {"01-invite.sip",
     BR_INV,
     "proxy2.atlanta.example.com",
     5060,
     "9fxced76sl",
     "",
     CID_ATL,
     314159,
     "INVITE",
     68,
     {"sip:sbc.biloxi.example.com;lr;transport=udp", NULL}},
    {"02-trying.sip",
     BR_INV,
     "proxy2.atlanta.example.com",
     5060,
     "9fxced76sl",
     "",
     CID_ATL,
     314159,
     "INVITE",
     -1,
     {NULL}},
    {"03-ringing.sip",
     BR_INV,
     "proxy2.atlanta.example.com",
     5060,
     "9fxced76sl",
     "a6c85cf",
     CID_ATL,
     314159,
     "INVITE",
     -1,
     {NULL}},
    {"04-ok-invite.sip",
     BR_INV,
     "proxy2.atlanta.example.com",
     5060,
     "9fxced76sl",
     "a6c85cf",
     CID_ATL,
     314159,
     "INVITE",
     -1,
     {NULL}},
    {"05-ack.sip",
     "z9hG4bK-524287-1---4c1b3a82e0d9f6a7",
     "10.0.0.23",
     5062,
     "9fxced76sl",
     "a6c85cf",
     CID_ATL,
     314159,
     "ACK",
     70,
     {RT_EDGE, RT_PROXY2, NULL}},
    {"06-bye.sip",
     "z9hG4bK74b43a5f1c",
     "203.0.113.45",
     5060,
     "a6c85cf",
     "9fxced76sl",
     CID_ATL,
     231,
     "BYE",
     70,
     {RT_PROXY2, RT_EDGE, NULL}},
    {"07-ok-bye.sip",
     "z9hG4bK74b43a5f1c",
     "203.0.113.45",
     5060,
     "a6c85cf",
     "9fxced76sl",
     CID_ATL,
     231,
     "BYE",
     -1,
     {NULL}},
    {"08-register.sip",
     BR_REG,
     "10.0.0.23",
     5062,
     "7c2e4f91",
     "",
     CID_REG,
     2,
     "REGISTER",
     70,
     {NULL}},
    {"09-unauthorized.sip",
     BR_REG,
     "10.0.0.23",
     5062,
     "7c2e4f91",
     "37GkEhwl6",
     CID_REG,
     1,
     "REGISTER",
     -1,
     {NULL}},
    {"10-session-progress-rr3.sip",
     "z9hG4bK8a2c.7e19b4f2.0",
     "edge1.chicago.example.com",
     5060,
     "fe7b3c2a-91d4",
     "as6d8f9a0b",
     "6b1e2c3d4f5a6b7c8d9e0f1a2b3c4d5e",
     18273,
     "INVITE",
     -1,
     {NULL}},
};

/* Every read goes into this, so the compiler cannot drop the work. */
static volatile uint64_t bench_sink;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
copy_sv(char *dst, size_t cap, const char *p, size_t len)
{
	if (len >= cap) {
		len = cap - 1;
	}
	if (len > 0) {
		memcpy(dst, p, len);
	}
	dst[len] = '\0';
}

static void
copy_str(char *dst, size_t cap, const char *s)
{
	copy_sv(dst, cap, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* Fold a field into the sink: its length and its first and last bytes. */
static uint64_t
mix(const char *p, size_t len)
{
	if (len == 0) {
		return 1;
	}
	return len + (unsigned char)p[0] +
	       ((uint64_t)(unsigned char)p[len - 1] << 8);
}

static uint64_t
mix_str(const char *s)
{
	return s != NULL ? mix(s, strlen(s)) : 1;
}

/* Decimal string to number, as a proxy using libosip2 has to do. */
static unsigned long
num(const char *s)
{
	return s != NULL ? strtoul(s, NULL, 10) : 0;
}

/*
 * sipd: parse, read the proxy's fields, free.  Adds to *acc; fills f when
 * it is not NULL.  Returns 0, or -1 when a field is missing or malformed.
 */
static int
sipd_one(const struct sample *s, struct fields *f, uint64_t *acc)
{
	struct msg_err err;
	struct msg *m;
	const struct msg_via *via;
	const struct msg_naddr *from, *to, *routes;
	const struct msg_cseq *cseq;
	struct sv v, cid;
	uint32_t mf, clen;
	int rc, n, i;

	m = msg_parse(s->data, s->len, NULL, &err);
	if (m == NULL) {
		return -1;
	}
	via = msg_via_top(m);
	from = msg_from(m);
	to = msg_to(m);
	cseq = msg_cseq(m);
	if (via == NULL || from == NULL || to == NULL || cseq == NULL) {
		goto fail;
	}
	v = msg_sv(m, via->branch);
	*acc += mix(v.p, v.len);
	if (f != NULL) {
		copy_sv(f->branch, sizeof(f->branch), v.p, v.len);
	}
	v = msg_sv(m, via->host);
	*acc += mix(v.p, v.len) + via->port;
	if (f != NULL) {
		copy_sv(f->host, sizeof(f->host), v.p, v.len);
		f->port = via->port;
	}
	v = msg_sv(m, from->tag);
	*acc += mix(v.p, v.len);
	if (f != NULL) {
		copy_sv(f->from_tag, sizeof(f->from_tag), v.p, v.len);
	}
	v = msg_sv(m, to->tag);
	*acc += mix(v.p, v.len);
	if (f != NULL) {
		copy_sv(f->to_tag, sizeof(f->to_tag), v.p, v.len);
	}
	cid = msg_callid(m);
	if (cid.len == 0) {
		goto fail;
	}
	*acc += mix(cid.p, cid.len);
	v = msg_sv(m, cseq->method_s);
	*acc += cseq->num + cseq->method + mix(v.p, v.len);
	if (f != NULL) {
		copy_sv(f->callid, sizeof(f->callid), cid.p, cid.len);
		f->cseq = cseq->num;
		copy_sv(f->method, sizeof(f->method), v.p, v.len);
	}
	rc = msg_max_forwards(m, &mf);
	if (rc == 0) {
		*acc += mf;
	} else if (rc != -ENOENT) {
		goto fail;
	}
	if (f != NULL) {
		f->max_fwd = rc == 0 ? (long)mf : -1;
	}
	n = msg_naddrs(m, HDR_ROUTE, &routes);
	if (n < 0) {
		goto fail;
	}
	for (i = 0; i < n; i++) {
		v = msg_sv(m, routes[i].uri_s);
		*acc += mix(v.p, v.len) + routes[i].uri.host.len +
		        routes[i].uri.port;
		if (f != NULL && i < BENCH_MAX_ROUTES) {
			copy_sv(f->routes[i], sizeof(f->routes[i]), v.p, v.len);
		}
	}
	if (f != NULL) {
		f->nroutes = n;
	}
	if (msg_content_length(m, &clen) != 0) {
		goto fail;
	}
	*acc += clen;
	if (f != NULL) {
		f->clen = clen;
	}
	msg_free(m);
	return 0;
fail:
	msg_free(m);
	return -1;
}

/*
 * What sipd's receive path does with every message before anything reads
 * it: msg_parse() and msg_check(), then the free.  For a profiler only
 * (-o check): no libosip2 counterpart, nothing to compare.
 */
static int
check_one(const struct sample *s, struct fields *f, uint64_t *acc)
{
	struct msg_err err;
	struct msg *m;
	int rc;

	(void)f;
	m = msg_parse(s->data, s->len, NULL, &err);
	if (m == NULL) {
		return -1;
	}
	rc = msg_check(m, &err);
	*acc += (uint64_t)msg_hdr_total(m);
	msg_free(m);
	return rc == 0 ? 0 : -1;
}

/* libosip2: the same work, in its normal use. */
static int
osip_one(const struct sample *s, struct fields *f, uint64_t *acc)
{
	osip_message_t *sip = NULL;
	osip_via_t *via = NULL;
	osip_generic_param_t *p = NULL;
	osip_header_t *h = NULL;
	osip_route_t *r = NULL;
	const char *tag;
	int i;

	if (osip_message_init(&sip) != 0) {
		return -1;
	}
	if (osip_message_parse(sip, s->data, s->len) != 0) {
		goto fail;
	}
	if (osip_message_get_via(sip, 0, &via) < 0 || via == NULL ||
	    osip_via_param_get_byname(via, "branch", &p) != 0 || p == NULL) {
		goto fail;
	}
	*acc += mix_str(p->gvalue) + mix_str(via->host) + num(via->port);
	if (f != NULL) {
		copy_str(f->branch, sizeof(f->branch), p->gvalue);
		copy_str(f->host, sizeof(f->host), via->host);
		f->port = (unsigned)num(via->port);
	}
	if (sip->from == NULL || sip->to == NULL || sip->call_id == NULL ||
	    sip->cseq == NULL) {
		goto fail;
	}
	p = NULL;
	osip_from_param_get_byname(sip->from, "tag", &p);
	tag = p != NULL ? p->gvalue : NULL;
	*acc += mix_str(tag);
	if (f != NULL) {
		copy_str(f->from_tag, sizeof(f->from_tag), tag);
	}
	p = NULL;
	osip_from_param_get_byname(sip->to, "tag", &p);
	tag = p != NULL ? p->gvalue : NULL;
	*acc += mix_str(tag);
	if (f != NULL) {
		copy_str(f->to_tag, sizeof(f->to_tag), tag);
	}
	*acc += mix_str(sip->call_id->number) + mix_str(sip->call_id->host);
	*acc += num(sip->cseq->number) + mix_str(sip->cseq->method);
	if (f != NULL) {
		if (sip->call_id->host != NULL) {
			snprintf(f->callid, sizeof(f->callid), "%s@%s",
			         sip->call_id->number, sip->call_id->host);
		} else {
			copy_str(f->callid, sizeof(f->callid),
			         sip->call_id->number);
		}
		f->cseq = (uint32_t)num(sip->cseq->number);
		copy_str(f->method, sizeof(f->method), sip->cseq->method);
	}
	if (osip_message_get_max_forwards(sip, 0, &h) >= 0 && h != NULL) {
		*acc += num(h->hvalue);
		if (f != NULL) {
			f->max_fwd = (long)num(h->hvalue);
		}
	} else if (f != NULL) {
		f->max_fwd = -1;
	}
	for (i = 0; osip_message_get_route(sip, i, &r) >= 0; i++) {
		if (r == NULL || r->url == NULL) {
			goto fail;
		}
		*acc += mix_str(r->url->scheme) + mix_str(r->url->host) +
		        num(r->url->port);
		if (f != NULL && i < BENCH_MAX_ROUTES) {
			char *str = NULL;

			if (osip_uri_to_str(r->url, &str) != 0) {
				goto fail;
			}
			copy_str(f->routes[i], sizeof(f->routes[i]), str);
			osip_free(str);
		}
	}
	if (f != NULL) {
		f->nroutes = i;
	}
	if (sip->content_length == NULL) {
		goto fail;
	}
	*acc += num(sip->content_length->value);
	if (f != NULL) {
		f->clen = (long)num(sip->content_length->value);
	}
	osip_message_free(sip);
	return 0;
fail:
	osip_message_free(sip);
	return -1;
}

typedef int bench_fn(const struct sample *s, struct fields *f, uint64_t *acc);

struct side {
	const char *name;
	bench_fn *fn;
	long iters; /* passes over the corpus per round */
	double rates[64];
};

static bool
check_str(const char *side, const char *file, const char *what, const char *got,
          const char *want)
{
	if (strcmp(got, want) == 0) {
		return true;
	}
	fprintf(stderr,
	        "bench_parse: %s misread %s in %s: got '%s', want "
	        "'%s'\n",
	        side, what, file, got, want);
	return false;
}

static bool
check_num(const char *side, const char *file, const char *what, long got,
          long want)
{
	if (got == want) {
		return true;
	}
	fprintf(stderr, "bench_parse: %s misread %s in %s: got %ld, want %ld\n",
	        side, what, file, got, want);
	return false;
}

/* Check one side's reading of every sample.  Returns true when all match. */
static bool
verify(const struct side *sd, const struct sample *s, size_t n)
{
	const char *nm = sd->name;
	bool ok = true;
	size_t i, j;
	int k;

	for (i = 0; i < n; i++) {
		const struct expect *e = NULL;
		struct fields f;
		uint64_t acc = 0;

		for (j = 0; j < sizeof(expects) / sizeof(expects[0]); j++) {
			if (strcmp(expects[j].file, s[i].name) == 0) {
				e = &expects[j];
			}
		}
		if (e == NULL) {
			fprintf(stderr,
			        "bench_parse: %s: no expected values "
			        "(add it to expects[] in bench_parse.c)\n",
			        s[i].name);
			return false;
		}
		memset(&f, 0, sizeof(f));
		if (sd->fn(&s[i], &f, &acc) != 0) {
			fprintf(stderr,
			        "bench_parse: %s failed to parse "
			        "%s\n",
			        nm, s[i].name);
			ok = false;
			continue;
		}
		ok &= check_str(nm, e->file, "Via branch", f.branch, e->branch);
		ok &= check_str(nm, e->file, "Via host", f.host, e->host);
		ok &= check_num(nm, e->file, "Via port", f.port, e->port);
		ok &=
		    check_str(nm, e->file, "From tag", f.from_tag, e->from_tag);
		ok &= check_str(nm, e->file, "To tag", f.to_tag, e->to_tag);
		ok &= check_str(nm, e->file, "Call-ID", f.callid, e->callid);
		ok &= check_num(nm, e->file, "CSeq number", f.cseq, e->cseq);
		ok &=
		    check_str(nm, e->file, "CSeq method", f.method, e->method);
		ok &= check_num(nm, e->file, "Max-Forwards", f.max_fwd,
		                e->max_fwd);
		ok &= check_num(nm, e->file, "Content-Length", f.clen,
		                (long)s[i].body_len);
		for (k = 0; e->routes[k] != NULL; k++) {
			if (k < f.nroutes) {
				ok &= check_str(nm, e->file, "Route",
				                f.routes[k], e->routes[k]);
			}
		}
		ok &= check_num(nm, e->file, "Route count", f.nroutes, k);
	}
	return ok;
}

/* One timed pass: iters times over the corpus.  Returns messages/s. */
static double
run(const struct side *sd, const struct sample *s, size_t n, long iters)
{
	uint64_t acc = 0;
	double t0, dt;
	long it;
	size_t i;

	t0 = now_s();
	for (it = 0; it < iters; it++) {
		for (i = 0; i < n; i++) {
			if (sd->fn(&s[i], NULL, &acc) != 0) {
				fprintf(stderr,
				        "bench_parse: %s failed on "
				        "%s while timing\n",
				        sd->name, s[i].name);
				exit(1);
			}
		}
	}
	dt = now_s() - t0;
	bench_sink += acc;
	return dt > 0 ? (double)iters * (double)n / dt : 0;
}

/* Passes over the corpus that take about BENCH_TARGET_SECONDS. */
static long
calibrate(const struct side *sd, const struct sample *s, size_t n)
{
	double t0 = now_s(), dt;
	long passes = 0, step = 1;
	uint64_t acc = 0;
	size_t i;

	do {
		long k;

		for (k = 0; k < step; k++) {
			for (i = 0; i < n; i++) {
				sd->fn(&s[i], NULL, &acc);
			}
		}
		passes += step;
		step *= 2;
		dt = now_s() - t0;
	} while (dt < BENCH_CALIBRATE_SECONDS);
	bench_sink += acc;
	passes = (long)((double)passes * BENCH_TARGET_SECONDS / dt);
	return passes > 0 ? passes : 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(const double *v, int n)
{
	double tmp[64];

	memcpy(tmp, v, (size_t)n * sizeof(double));
	qsort(tmp, (size_t)n, sizeof(double), cmp_double);
	return n % 2 != 0 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static int
cmp_sample(const void *a, const void *b)
{
	return strcmp(((const struct sample *)a)->name,
	              ((const struct sample *)b)->name);
}

/* Read one file into s.  Returns 0 or -1. */
static int
load_file(const char *dir, const char *name, struct sample *s)
{
	char path[4096];
	const char *end;
	FILE *fp;
	long size;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "rb");
	if (fp == NULL) {
		return -1;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) <= 0 ||
	    size > MSG_DEFAULT_MAX_SIZE || fseek(fp, 0, SEEK_SET) != 0) {
		goto fail;
	}
	s->data = malloc((size_t)size);
	if (s->data == NULL ||
	    fread(s->data, 1, (size_t)size, fp) != (size_t)size) {
		goto fail;
	}
	s->len = (size_t)size;
	copy_str(s->name, sizeof(s->name), name);
	end = memmem(s->data, s->len, "\r\n\r\n", 4);
	if (end == NULL) {
		fprintf(stderr, "bench_parse: %s: no end of headers\n", path);
		goto fail;
	}
	s->body_len = s->len - (size_t)(end + 4 - s->data);
	fclose(fp);
	return 0;
fail:
	free(s->data);
	s->data = NULL;
	fclose(fp);
	return -1;
}

/* Load every regular file of dir, sorted by name.  Returns the count. */
static size_t
load_corpus(const char *dir, struct sample *s, size_t max)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;

	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "bench_parse: %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] == '.') {
			continue;
		}
		if (load_file(dir, de->d_name, &s[n]) != 0) {
			fprintf(stderr, "bench_parse: cannot load %s/%s\n", dir,
			        de->d_name);
			exit(1);
		}
		n++;
	}
	closedir(d);
	qsort(s, n, sizeof(s[0]), cmp_sample);
	return n;
}

static void
usage(void)
{
	fprintf(stderr,
	        "usage: bench_parse [-n passes] [-r rounds] "
	        "[-o sipd|osip|check] [corpus-dir]\n"
	        "  -n  passes over the corpus per round and side (default: "
	        "about %.0f s worth)\n"
	        "  -r  rounds, sides alternating (default 5, at most 63)\n"
	        "  -o  time one side only, for a profiler; check: "
	        "msg_parse and msg_check alone\n",
	        BENCH_TARGET_SECONDS);
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct sample samples[BENCH_MAX_FILES];
	struct side sides[2] = {
	    {"sipd", sipd_one, 0, {0}},
	    {"libosip2", osip_one, 0, {0}},
	};
	const char *dir = BENCH_CORPUS_DIR, *only = NULL;
	long passes = 0;
	int rounds = 5, opt, r, k;
	size_t n, i, bytes = 0;
	double med[2];
	bool bad = false;

	while ((opt = getopt(argc, argv, "n:r:o:h")) != -1) {
		switch (opt) {
		case 'n':
			passes = strtol(optarg, NULL, 10);
			if (passes <= 0) {
				usage();
			}
			break;
		case 'r':
			rounds = (int)strtol(optarg, NULL, 10);
			if (rounds <= 0 || rounds > 63) {
				usage();
			}
			break;
		case 'o':
			if (strcmp(optarg, "sipd") != 0 &&
			    strcmp(optarg, "osip") != 0 &&
			    strcmp(optarg, "check") != 0) {
				usage();
			}
			only = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind < argc) {
		dir = argv[optind];
	}

	if (parser_init() != 0) {
		fprintf(stderr, "bench_parse: libosip2 parser_init failed\n");
		return 1;
	}
	n = load_corpus(dir, samples, BENCH_MAX_FILES);
	if (n == 0) {
		fprintf(stderr, "bench_parse: %s: no messages\n", dir);
		return 1;
	}
	for (i = 0; i < n; i++) {
		bytes += samples[i].len;
	}
	printf("corpus: %zu messages, %zu bytes, from %s\n", n, bytes, dir);

	for (k = 0; k < 2; k++) {
		if (!verify(&sides[k], samples, n)) {
			fprintf(stderr,
			        "bench_parse: %s returned wrong data; "
			        "no figures for a wrong parse\n",
			        sides[k].name);
			bad = true;
		}
	}
	if (bad) {
		return 1;
	}
	printf("verify: sipd and libosip2 read the expected fields\n");

	if (only != NULL && strcmp(only, "check") == 0) {
		struct side ck = {"check", check_one, 0, {0}};

		ck.iters = passes > 0 ? passes : calibrate(&ck, samples, n);
		printf("%s: %.0f msg/s (%ld passes)\n", ck.name,
		       run(&ck, samples, n, ck.iters), ck.iters);
		return 0;
	}
	if (only != NULL) {
		struct side *sd = &sides[strcmp(only, "sipd") == 0 ? 0 : 1];

		sd->iters = passes > 0 ? passes : calibrate(sd, samples, n);
		printf("%s: %.0f msg/s (%ld passes)\n", sd->name,
		       run(sd, samples, n, sd->iters), sd->iters);
		return 0;
	}

	for (k = 0; k < 2; k++) {
		sides[k].iters =
		    passes > 0 ? passes : calibrate(&sides[k], samples, n);
	}
	printf("passes per round: sipd %ld, libosip2 %ld\n", sides[0].iters,
	       sides[1].iters);
	for (r = 0; r < rounds; r++) {
		/* Alternate which side goes first, so neither always runs
		 * on a warmer or cooler machine. */
		for (k = 0; k < 2; k++) {
			struct side *sd = &sides[(k + r) % 2];

			sd->rates[r] = run(sd, samples, n, sd->iters);
		}
		printf("round %d: sipd %.0f msg/s, libosip2 %.0f msg/s\n",
		       r + 1, sides[0].rates[r], sides[1].rates[r]);
		fflush(stdout);
	}
	for (k = 0; k < 2; k++) {
		med[k] = median(sides[k].rates, rounds);
		printf("%s median: %.0f msg/s (%.1f MB/s)\n", sides[k].name,
		       med[k], med[k] * (double)bytes / (double)n / 1e6);
	}
	for (i = 0; i < n; i++) {
		free(samples[i].data);
	}
	printf("parse ratio vs libosip2: %.2f\n",
	       med[1] > 0 ? med[0] / med[1] : 0.0);
	return 0;
}
