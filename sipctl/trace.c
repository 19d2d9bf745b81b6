/*
 * sipctl's side of "trace": each "msg" event drawn as one row of a ladder
 * diagram (a column per address:port, an arrow from sender to receiver
 * with the method or status, like sngrep's call flow), printed raw (-r),
 * or written to a pcapng file ("trace pcap FILE") as Ethernet, IPv4 or
 * IPv6, and UDP or TCP frames synthesised around the message with its
 * real addresses and ports, so that Wireshark and tshark decode it as
 * SIP.  JSON (-j) is printed by shell.c like every other event.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipctl/sipctl.h"

/* Width of a ladder column. */
#define SH_TRACE_W 24

/* One traced message, as the event's fields. */
struct sh_msg {
	uint64_t us;
	bool in;
	char proto[8];
	char local[64], remote[64];
	unsigned lport, rport;
	const char *data;
	size_t len;
};

static bool
sh_field_str(const msgpack_object *d, const char *k, char *out, size_t cap)
{
	const msgpack_object *v = proto_get(d, k);

	if (v == NULL || v->type != MSGPACK_OBJECT_STR ||
	    v->via.str.size >= cap) {
		return false;
	}
	memcpy(out, v->via.str.ptr, v->via.str.size);
	out[v->via.str.size] = '\0';
	return true;
}

static uint64_t
sh_field_uint(const msgpack_object *d, const char *k)
{
	const msgpack_object *v = proto_get(d, k);

	return v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER
	    ? v->via.u64 : 0;
}

static int
sh_msg_get(const msgpack_object *d, struct sh_msg *m)
{
	const msgpack_object *v = proto_get(d, "data");
	char dir[8];

	memset(m, 0, sizeof(*m));
	if (v == NULL || v->type != MSGPACK_OBJECT_STR ||
	    !sh_field_str(d, "dir", dir, sizeof(dir)) ||
	    !sh_field_str(d, "transport", m->proto, sizeof(m->proto)) ||
	    !sh_field_str(d, "local", m->local, sizeof(m->local)) ||
	    !sh_field_str(d, "remote", m->remote, sizeof(m->remote))) {
		return -1;
	}
	m->in = strcmp(dir, "in") == 0;
	m->us = sh_field_uint(d, "time");
	m->lport = (unsigned)sh_field_uint(d, "local-port");
	m->rport = (unsigned)sh_field_uint(d, "remote-port");
	m->data = v->via.str.ptr;
	m->len = v->via.str.size;
	return 0;
}

static void
sh_stamp(char *out, size_t cap, uint64_t us)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(out, cap, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(us % 1000000u));
}

static void
sh_endpoint(char *out, size_t cap, const char *host, unsigned port)
{
	snprintf(out, cap, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, port);
}

/* "INVITE" for a request, "180 Ringing" for a response. */
static void
sh_label(const struct sh_msg *m, char *out, size_t cap)
{
	const char *eol = memchr(m->data, '\r', m->len);
	size_t n = eol != NULL ? (size_t)(eol - m->data) : m->len;

	if (n > 8 && memcmp(m->data, "SIP/2.0 ", 8) == 0) {
		snprintf(out, cap, "%.*s", (int)(n - 8), m->data + 8);
	} else {
		const char *sp = memchr(m->data, ' ', n);

		snprintf(out, cap, "%.*s", (int)(sp != NULL ?
		    (size_t)(sp - m->data) : n), m->data);
	}
	for (char *p = out; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			*p = '?';
		}
	}
}

static int
sh_column(struct sh *sh, const char *ep)
{
	for (int i = 0; i < sh->tr_ncols; i++) {
		if (strcmp(sh->tr_cols[i], ep) == 0) {
			return i;
		}
	}
	if (sh->tr_ncols == SH_TRACE_COLS) {
		return SH_TRACE_COLS - 1;
	}
	snprintf(sh->tr_cols[sh->tr_ncols], sizeof(sh->tr_cols[0]), "%s", ep);
	sh->tr_new = true;
	return sh->tr_ncols++;
}

static void
sh_ladder(struct sh *sh, const struct sh_msg *m)
{
	char lep[80], rep[80], label[SH_TRACE_W * SH_TRACE_COLS], ts[32];
	char row[SH_TRACE_W * SH_TRACE_COLS + 1];
	int from, to, a, b, width;
	size_t llen;

	sh_endpoint(lep, sizeof(lep), m->local, m->lport);
	sh_endpoint(rep, sizeof(rep), m->remote, m->rport);
	from = sh_column(sh, m->in ? rep : lep);
	to = sh_column(sh, m->in ? lep : rep);
	if (sh->tr_new) {
		printf("%-15s ", "");
		for (int i = 0; i < sh->tr_ncols; i++) {
			printf("%-*.*s", SH_TRACE_W, SH_TRACE_W - 1,
			    sh->tr_cols[i]);
		}
		printf("\n");
		sh->tr_new = false;
	}
	width = SH_TRACE_W * sh->tr_ncols;
	memset(row, ' ', (size_t)width);
	row[width] = '\0';
	for (int i = 0; i < sh->tr_ncols; i++) {
		row[i * SH_TRACE_W + 2] = '|';
	}
	a = (from < to ? from : to) * SH_TRACE_W + 3;
	b = (from < to ? to : from) * SH_TRACE_W + 1;
	if (from == to) {
		b = a + SH_TRACE_W - 4; /* to itself: a short stub */
	}
	for (int i = a; i <= b; i++) {
		row[i] = '-';
	}
	if (from <= to) {
		row[b] = '>';
	} else {
		row[a] = '<';
	}
	sh_label(m, label, sizeof(label));
	llen = strlen(label);
	if ((int)llen > b - a - 3) {
		llen = b - a - 3 > 0 ? (size_t)(b - a - 3) : 0;
	}
	memcpy(row + a + 1 + ((b - a - 1) - (int)llen) / 2, label, llen);
	while (width > 0 && row[width - 1] == ' ') {
		row[--width] = '\0';
	}
	sh_stamp(ts, sizeof(ts), m->us);
	printf("%-15s %s  %s\n", ts, row, m->proto);
}

static void
sh_raw(const struct sh_msg *m)
{
	char lep[80], rep[80], ts[32];

	sh_endpoint(lep, sizeof(lep), m->local, m->lport);
	sh_endpoint(rep, sizeof(rep), m->remote, m->rport);
	sh_stamp(ts, sizeof(ts), m->us);
	printf("%s %s %s %s %s (%zu bytes)\n", ts, m->proto, lep,
	    m->in ? "<-" : "->", rep, m->len);
	fwrite(m->data, 1, m->len, stdout);
	if (m->len == 0 || m->data[m->len - 1] != '\n') {
		printf("\n");
	}
	printf("\n");
}

/* -------------------------------------------------------------- pcapng */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The Internet checksum (RFC 1071) of p[0..n), added to sum. */
static uint32_t
sh_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	}
	if (n & 1) {
		sum += (uint32_t)p[n - 1] << 8;
	}
	return sum;
}

static uint16_t
sh_csum_end(uint32_t sum)
{
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

/* A pcapng block: type, body, the total length at both ends. */
static int
sh_pcap_block(FILE *f, uint32_t type, const void *body, size_t len)
{
	uint32_t h[2], tot = (uint32_t)(12 + ((len + 3) & ~(size_t)3));
	static const uint8_t pad[4];

	h[0] = type;
	h[1] = tot;
	if (fwrite(h, 4, 2, f) != 2 || fwrite(body, 1, len, f) != len ||
	    fwrite(pad, 1, (4 - len % 4) % 4, f) != (4 - len % 4) % 4 ||
	    fwrite(&tot, 4, 1, f) != 1) {
		return -1;
	}
	return 0;
}

/* The TCP sequence number of a flow: the bytes it carried so far. */
static uint32_t
sh_tcp_seq(struct sh *sh, const uint8_t *key, size_t klen, uint32_t add)
{
	struct sh_flow *fl;

	for (fl = sh->tr_flows; fl != NULL; fl = fl->next) {
		if (fl->klen == klen && memcmp(fl->key, key, klen) == 0) {
			break;
		}
	}
	if (fl == NULL) {
		fl = calloc(1, sizeof(*fl));
		if (fl == NULL) {
			return 1;
		}
		memcpy(fl->key, key, klen);
		fl->klen = klen;
		fl->seq = 1;
		fl->next = sh->tr_flows;
		sh->tr_flows = fl;
	}
	fl->seq += add;
	return fl->seq - add;
}

static int
sh_pcap_msg(struct sh *sh, const struct sh_msg *m)
{
	uint8_t src[16], dst[16], key[36], *pkt, *ip, *l4, *epb;
	const char *sa = m->in ? m->remote : m->local;
	const char *da = m->in ? m->local : m->remote;
	unsigned sp = m->in ? m->rport : m->lport;
	unsigned dp = m->in ? m->lport : m->rport;
	bool v6 = strchr(sa, ':') != NULL || strchr(da, ':') != NULL;
	bool tcp = strcmp(m->proto, "udp") != 0;
	size_t alen = v6 ? 16 : 4, iplen = v6 ? 40 : 20, l4len = tcp ? 20 : 8;
	size_t len = m->len > 65000 ? 65000 : m->len;
	size_t frame = 14 + iplen + l4len + len;
	uint32_t sum;
	int rc;

	memset(src, 0, sizeof(src));
	memset(dst, 0, sizeof(dst));
	if (inet_pton(v6 ? AF_INET6 : AF_INET, sa, src) != 1) {
		memset(src, 0, sizeof(src));
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, da, dst) != 1) {
		memset(dst, 0, sizeof(dst));
	}
	epb = calloc(1, 20 + frame);
	if (epb == NULL) {
		return -1;
	}
	/* Enhanced Packet Block: interface 0, time in microseconds */
	memcpy(epb, &(uint32_t){ 0 }, 4);
	memcpy(epb + 4, &(uint32_t){ (uint32_t)(m->us >> 32) }, 4);
	memcpy(epb + 8, &(uint32_t){ (uint32_t)m->us }, 4);
	memcpy(epb + 12, &(uint32_t){ (uint32_t)frame }, 4);
	memcpy(epb + 16, &(uint32_t){ (uint32_t)frame }, 4);
	pkt = epb + 20;
	/* Ethernet: locally administered addresses, then the type */
	pkt[0] = 0x02;
	pkt[5] = m->in ? 1 : 2;
	pkt[6] = 0x02;
	pkt[11] = m->in ? 2 : 1;
	put16(pkt + 12, v6 ? 0x86dd : 0x0800);
	ip = pkt + 14;
	l4 = ip + iplen;
	if (v6) {
		put32(ip, 0x60000000u);
		put16(ip + 4, (uint16_t)(l4len + len));
		ip[6] = tcp ? 6 : 17;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(iplen + l4len + len));
		put16(ip + 6, 0x4000); /* don't fragment */
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		put16(ip + 10, sh_csum_end(sh_csum_add(0, ip, 20)));
	}
	put16(l4, (uint16_t)sp);
	put16(l4 + 2, (uint16_t)dp);
	if (tcp) {
		memcpy(key, src, alen);
		memcpy(key + alen, dst, alen);
		put16(key + 2 * alen, (uint16_t)sp);
		put16(key + 2 * alen + 2, (uint16_t)dp);
		put32(l4 + 4, sh_tcp_seq(sh, key, 2 * alen + 4,
		    (uint32_t)len));
		l4[12] = 5 << 4;
		l4[13] = 0x18; /* PSH, ACK */
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)(8 + len));
	}
	memcpy(l4 + l4len, m->data, len);
	/* the pseudo-header, then the segment (RFC 768, RFC 793, RFC 8200) */
	sum = sh_csum_add(0, src, alen);
	sum = sh_csum_add(sum, dst, alen);
	sum += (uint32_t)(tcp ? 6 : 17) + (uint32_t)(l4len + len);
	sum = sh_csum_add(sum, l4, l4len + len);
	put16(l4 + (tcp ? 16 : 6), sh_csum_end(sum));
	if (!tcp && l4[6] == 0 && l4[7] == 0) {
		l4[6] = l4[7] = 0xff;
	}
	rc = sh_pcap_block(sh->tr_pcap, 6, epb, 20 + frame);
	free(epb);
	return rc;
}

int
sh_trace_begin(struct sh *sh, const struct cmd_args *a, char *err,
    size_t cap)
{
	const char *path = cmd_arg_str(a, "file");
	/* Section Header Block (byte-order magic, version 1.0, length
	 * unknown); Interface Description Block: Ethernet, no snap limit */
	static const uint32_t shb[4] = { 0x1a2b3c4d, 1, 0xffffffff,
		0xffffffff };
	uint8_t idb[8] = { 0 };
	uint16_t link = 1;

	sh->tr_ncols = 0;
	sh->tr_new = false;
	if (path == NULL) {
		return SH_OK;
	}
	sh->tr_pcap = fopen(path, "wbe");
	if (sh->tr_pcap == NULL) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return SH_USAGE;
	}
	memcpy(idb, &link, 2);
	if (sh_pcap_block(sh->tr_pcap, 0x0a0d0d0a, shb, sizeof(shb)) < 0 ||
	    sh_pcap_block(sh->tr_pcap, 1, idb, sizeof(idb)) < 0 ||
	    fflush(sh->tr_pcap) != 0) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		fclose(sh->tr_pcap);
		sh->tr_pcap = NULL;
		return SH_USAGE;
	}
	return SH_OK;
}

void
sh_trace_end(struct sh *sh)
{
	while (sh->tr_flows != NULL) {
		struct sh_flow *fl = sh->tr_flows;

		sh->tr_flows = fl->next;
		free(fl);
	}
	if (sh->tr_pcap != NULL) {
		if (fclose(sh->tr_pcap) != 0) {
			fprintf(stderr, "sipctl: pcap file: %s\n",
			    strerror(errno));
		}
		sh->tr_pcap = NULL;
	}
}

bool
sh_trace_event(struct sh *sh, const struct proto_msg *pm)
{
	struct sh_msg m;

	if (pm->ev_len == 7 && memcmp(pm->ev, "dropped", 7) == 0 &&
	    proto_get(pm->data, "messages") != NULL && !sh->json) {
		fprintf(stderr, "sipctl: %llu messages dropped (output too "
		    "slow)\n", (unsigned long long)sh_field_uint(pm->data,
		    "messages"));
		return true;
	}
	if (pm->ev_len != 3 || memcmp(pm->ev, "msg", 3) != 0) {
		return false;
	}
	if (sh_msg_get(pm->data, &m) < 0) {
		return true;
	}
	if (sh->tr_pcap != NULL) {
		if (sh_pcap_msg(sh, &m) < 0 || fflush(sh->tr_pcap) != 0) {
			fprintf(stderr, "sipctl: pcap file: %s\n",
			    strerror(errno));
		}
		return true;
	}
	if (sh->json) {
		return false;
	}
	if (sh->raw) {
		sh_raw(&m);
	} else {
		sh_ladder(sh, &m);
	}
	fflush(stdout);
	return true;
}
