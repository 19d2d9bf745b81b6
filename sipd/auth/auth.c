/*
 * auth: Digest authentication of requests for one worker (RFC 3261 22,
 * RFC 7616, RFC 8760).  This file owns struct auth (its settings and its
 * nonce key; the tables it shares with the other workers are in table.c),
 * writes the challenges
 * of 401 and 407 responses, and checks a request's credentials: their
 * syntax, the nonce (authentic, fresh, count not replayed), and the
 * response against the HA1 the caller's lookup gives.  Every failure is
 * logged in the fixed form fail2ban matches, and counted against the
 * source for the failed-attempt limit.  The cryptography is in digest.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>

#include <openssl/crypto.h>

#include "sipd/auth/auth_int.h"
#include "sipd/log.h"

/* Longest realm accepted (bytes), and longest cnonce. */
#define AUTH_REALM_MAX 256
#define AUTH_CNONCE_MAX 256

void
auth_settings_init(struct auth_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->nonce_lifetime = AUTH_DEFAULT_NONCE_LIFETIME;
	s->algs = AUTH_ALG_BIT(AUTH_ALG_MD5) | AUTH_ALG_BIT(AUTH_ALG_SHA256);
	/* many user agents read the first challenge only, and know MD5 */
	s->sha256_first = false;
	s->advertise_digest = true;
	s->advertise_auth = true;
	s->advertise_ntlm = false;
	s->rfc2069 = false;
	s->fail_limit = AUTH_DEFAULT_FAIL_LIMIT;
	s->fail_window = AUTH_DEFAULT_FAIL_WINDOW;
	s->fail_penalty = AUTH_DEFAULT_FAIL_PENALTY;
	s->challenge_rate = AUTH_DEFAULT_CHALLENGE_RATE;
	s->nc_slots = AUTH_DEFAULT_NC_SLOTS;
	s->fail_slots = AUTH_DEFAULT_FAIL_SLOTS;
	s->rate_slots = AUTH_DEFAULT_RATE_SLOTS;
}

/* The offered algorithms OpenSSL can compute (MD5 may be off: FIPS). */
static unsigned
usable_algs(unsigned algs)
{
	unsigned ok = 0;
	char hex[AUTH_HEX_SIZE];
	int i;

	for (i = 0; i < AUTH__ALG_COUNT; i++) {
		if ((algs & AUTH_ALG_BIT(i)) != 0 &&
		    auth_ha1((enum auth_alg)i, "", "", "", hex) == 0) {
			ok |= AUTH_ALG_BIT(i);
		}
	}
	return ok;
}

static int
fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct auth *
auth_new(const struct auth_settings *s)
{
	return auth_new_shared(s, NULL);
}

struct auth *
auth_new_shared(const struct auth_settings *s, struct auth_state *st)
{
	struct auth_settings def;
	struct auth *a;

	if (s == NULL) {
		auth_settings_init(&def);
		s = &def;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		return NULL;
	}
	a->set = *s;
	a->set.algs = usable_algs(s->algs);
	if (a->set.algs == 0) {
		goto fail;
	}
	a->secret_len = 32;
	if (fill_random(a->secret, a->secret_len) != 0 ||
	    fill_random(&a->instance, sizeof(a->instance)) != 0) {
		goto fail;
	}
	auth_derive_dummy(a);
	a->st = st;
	if (st == NULL) {
		a->st = auth_state_new(s);
		a->own_st = true;
		if (a->st == NULL) {
			goto fail;
		}
	}
	return a;
fail:
	OPENSSL_cleanse(a->secret, sizeof(a->secret));
	free(a);
	return NULL;
}

void
auth_free(struct auth *a)
{
	if (a == NULL) {
		return;
	}
	if (a->own_st) {
		auth_state_free(a->st);
	}
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

int
auth_configure(struct auth *a, const struct auth_settings *s)
{
	unsigned algs = usable_algs(s->algs);

	if (algs == 0) {
		return -EINVAL;
	}
	/*
	 * Count entries die with the lifetime they were made under: when
	 * nonces now live longer, the live entries must live on with them.
	 */
	if (s->nonce_lifetime > a->set.nonce_lifetime) {
		auth_nc_relife(a, s->nonce_lifetime, auth_now(a));
	}
	a->set.nonce_lifetime = s->nonce_lifetime;
	a->set.algs = algs;
	a->set.advertise_digest = s->advertise_digest;
	a->set.advertise_auth = s->advertise_auth;
	a->set.advertise_ntlm = s->advertise_ntlm;
	a->set.sha256_first = s->sha256_first;
	a->set.rfc2069 = s->rfc2069;
	a->set.fail_limit = s->fail_limit;
	a->set.fail_window = s->fail_window;
	a->set.fail_penalty = s->fail_penalty;
	a->set.challenge_rate = s->challenge_rate;
	a->set.clock = s->clock;
	a->set.clock_arg = s->clock_arg;
	return 0;
}

int
auth_set_secret(struct auth *a, const void *key, size_t len)
{
	if (key == NULL || len < AUTH_SECRET_MIN || len > AUTH_SECRET_MAX) {
		return -EINVAL;
	}
	OPENSSL_cleanse(a->secret, sizeof(a->secret));
	memcpy(a->secret, key, len);
	a->secret_len = len;
	auth_derive_dummy(a);
	return 0;
}

/* ----------------------------------------------------------- challenges */

struct out {
	char *p;
	size_t len, cap;
	bool over;
};

static void
out_mem(struct out *o, const char *s, size_t n)
{
	if (o->over || n >= o->cap - o->len) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

/* A quoted-string (RFC 3261 25.1): '"' and '\' as quoted-pairs. */
static void
out_quoted(struct out *o, const char *s)
{
	out_mem(o, "\"", 1);
	if (strpbrk(s, "\"\\") == NULL) {
		/* the usual realm: nothing to escape, one copy */
		out_str(o, s);
		out_mem(o, "\"", 1);
		return;
	}
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			out_mem(o, "\\", 1);
		}
		out_mem(o, s, 1);
	}
	out_mem(o, "\"", 1);
}

/* End one value: its NUL, which the next value follows. */
static void
out_end(struct out *o)
{
	out_mem(o, "", 1);
}

/* A realm fit for a quoted-string and the nonce: no control characters. */
static bool
realm_ok(const char *realm)
{
	size_t n;

	if (realm == NULL) {
		return false;
	}
	n = strlen(realm);
	if (n == 0 || n > AUTH_REALM_MAX) {
		return false;
	}
	for (; *realm != '\0'; realm++) {
		unsigned char c = (unsigned char)*realm;

		if (c < 0x20 || c == 0x7f) {
			return false;
		}
	}
	return true;
}

int
auth_challenge(struct auth *a, const char *realm, bool stale,
    const struct sockaddr *src, enum hdr_id id, char *out, size_t cap)
{
	/* RFC 8760 2.4: the preferred algorithm first */
	static const enum auth_alg sha_first[] = { AUTH_ALG_SHA256,
		AUTH_ALG_MD5 };
	static const enum auth_alg md5_first[] = { AUTH_ALG_MD5,
		AUTH_ALG_SHA256 };
	const enum auth_alg *order = a->set.sha256_first ? sha_first
							  : md5_first;
	char nonce[AUTH_NONCE_LEN + 1];
	struct out o = { out, 0, cap, false };
	/* RFC 3261 20.27, 20.44: a 401 or 407 carries a challenge */
	bool digest = a->set.advertise_digest || !a->set.advertise_ntlm;
	size_t i;
	int count = 0;

	_Static_assert(AUTH__ALG_COUNT + 1 <= AUTH_CHALLENGES_MAX,
	    "a Digest challenge per algorithm and NTLM");
	if ((id != HDR_WWW_AUTHENTICATE && id != HDR_PROXY_AUTHENTICATE) ||
	    !realm_ok(realm) || out == NULL) {
		return -EINVAL;
	}
	/* One nonce for all algorithms: the client answers one of them. */
	auth_nonce_make(a, auth_now(a), src, realm, nonce);
	for (i = 0; i < 2 && digest; i++) {
		if ((a->set.algs & AUTH_ALG_BIT(order[i])) == 0) {
			continue;
		}
		/* RFC 7616 3.3: realm, nonce quoted; algorithm a token */
		out_str(&o, "Digest realm=");
		out_quoted(&o, realm);
		out_str(&o, ", nonce=\"");
		out_str(&o, nonce);
		out_str(&o, "\", algorithm=");
		out_str(&o, auth_alg_name(order[i]));
		if (a->set.advertise_auth) {
			out_str(&o, ", qop=\"auth\"");
		}
		if (stale) {
			out_str(&o, ", stale=true");
		}
		out_end(&o);
		count++;
	}
	if (a->set.advertise_ntlm) {
		/* Offered only; the NTLM exchange itself is not handled. */
		out_str(&o, "NTLM realm=");
		out_quoted(&o, realm);
		out_end(&o);
		count++;
	}
	if (o.over) {
		return -ENOSPC;
	}
	return count;
}

int
auth_challenge_append(struct auth *a, struct msg *resp, const char *realm,
    bool stale, const struct sockaddr *src, enum hdr_id id)
{
	char buf[AUTH_CHALLENGE_SIZE];
	const char *p = buf;
	int n, i, rc;

	n = auth_challenge(a, realm, stale, src, id, buf, sizeof(buf));
	if (n < 0) {
		return n;
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen(p);

		rc = msg_hdr_append(resp, hdr_name(id), (struct sv){ p, len });
		if (rc < 0) {
			return rc;
		}
		p += len + 1;
	}
	return n;
}

bool
auth_challenge_allowed(struct auth *a, const struct sockaddr *src)
{
	return auth_rate_take(a, src, auth_now(a));
}

/* ------------------------------------------------------------ checking */

/*
 * unq(): a quoted-string's content without its quoted-pairs (RFC 3261
 * 25.1), NUL-terminated into out.  Returns the length, or -1 when it does
 * not fit or holds a NUL (which a C string would cut short).
 */
static int
unquote(struct sv s, char *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (c == '\\' && i + 1 < s.len) {
			c = s.p[++i];
		}
		if (c == '\0' || n + 1 >= cap) {
			return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return (int)n;
}

/* "198.51.100.7:5060" or "[2001:db8::1]:5060" for the log. */
static const char *
addr_str(const struct sockaddr *sa, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, ntohs(s4->sin_port));
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		snprintf(out, cap, "-");
	}
	return out;
}

/*
 * Peer data for a log line between single quotes: clipped and escaped by
 * log_clip(), and the quote itself escaped too, so that a user name
 * cannot end the field and forge a src= for fail2ban.
 */
#define CLIP_Q_SIZE (LOG_CLIP_SIZE + 3 * LOG_CLIP_BYTES)

static const char *
clip_quoted(char *out, const char *s, size_t len)
{
	char tmp[LOG_CLIP_SIZE];
	size_t i, o = 0;

	log_clip(tmp, sizeof(tmp), s, len);
	for (i = 0; tmp[i] != '\0' && o + 5 < CLIP_Q_SIZE; i++) {
		if (tmp[i] == '\'') {
			memcpy(out + o, "\\x27", 4);
			o += 4;
		} else {
			out[o++] = tmp[i];
		}
	}
	out[o] = '\0';
	return out;
}

static const char *
reason_text(enum auth_reason r)
{
	switch (r) {
	case AUTH_R_UNKNOWN_USER:
		return "unknown user";
	case AUTH_R_BAD_PASSWORD:
		return "bad password";
	case AUTH_R_BAD_NONCE:
		return "bad nonce";
	case AUTH_R_REPLAY:
		return "replayed nonce count";
	case AUTH_R_ALGORITHM:
		return "unsupported algorithm";
	case AUTH_R_QOP:
		return "unsupported qop";
	case AUTH_R_USERHASH:
		return "unsupported userhash";
	default:
		return "failed";
	}
}

/*
 * A failed authentication: the security log line (the form is fixed and
 * documented in sipd.8 for fail2ban), and one more failure of src.
 */
static void
failed(struct auth *a, struct auth_result *res, enum auth_reason why,
    const struct sockaddr *src, const char *realm, int64_t now)
{
	char user[CLIP_Q_SIZE], rlm[CLIP_Q_SIZE], from[INET6_ADDRSTRLEN + 16];
	uint32_t count;

	res->status = AUTH_FAILED;
	res->reason = why;
	log_notice(LOG_SERVER, "auth, failed user='%s' src=%s realm='%s' (%s)",
	    clip_quoted(user, res->user, strlen(res->user)),
	    addr_str(src, from, sizeof(from)),
	    clip_quoted(rlm, realm, strlen(realm)), reason_text(why));
	if (auth_fail_add(a, src, now, &count)) {
		struct auth_block b;
		char key[INET6_ADDRSTRLEN + 8];
		uint8_t k[AUTH_ADDR_KEY];

		/* The blocked key, as auth_blocks() shows it. */
		memset(&b, 0, sizeof(b));
		auth_addr_key(src, true, k);
		if (k[0] == 4) {
			b.addr.ss_family = AF_INET;
			memcpy(&((struct sockaddr_in *)&b.addr)->sin_addr, k + 1,
			    4);
			b.prefix = 32;
		} else if (k[0] == 6) {
			b.addr.ss_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)&b.addr)->sin6_addr,
			    k + 1, 16);
			b.prefix = 64;
		}
		log_notice(LOG_SERVER,
		    "auth, blocked src=%s (%u failures within %u s, for %u s)",
		    auth_block_str(&b, key, sizeof(key)), count,
		    a->set.fail_window, a->set.fail_penalty);
	}
}

static int
malformed(struct auth_result *res, const char *phrase,
    const struct sockaddr *src)
{
	char from[INET6_ADDRSTRLEN + 16];

	res->status = AUTH_MALFORMED;
	res->reason = AUTH_R_SYNTAX;
	res->phrase = phrase;
	log_notice(LOG_SERVER, "auth, bad credentials from %s (%s)",
	    addr_str(src, from, sizeof(from)), phrase);
	return 0;
}

/* algorithm= (RFC 7616 3.3; absent means MD5).  Returns 0 or -EINVAL. */
static int
parse_alg(struct sv s, enum auth_alg *alg, bool *sess)
{
	static const struct {
		const char *name;
		enum auth_alg alg;
		bool sess;
	} algs[] = {
		{ "MD5", AUTH_ALG_MD5, false },
		{ "MD5-sess", AUTH_ALG_MD5, true },
		{ "SHA-256", AUTH_ALG_SHA256, false },
		{ "SHA-256-sess", AUTH_ALG_SHA256, true },
	};
	size_t i;

	*alg = AUTH_ALG_MD5;
	*sess = false;
	if (s.len == 0) {
		return 0;
	}
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (sv_caseeq_str(s, algs[i].name)) {
			*alg = algs[i].alg;
			*sess = algs[i].sess;
			return 0;
		}
	}
	return -EINVAL;
}

/* RFC 3261 22.4: the credentials' uri must be the Request-URI. */
static bool
uri_matches(struct msg *m, struct span cu)
{
	const struct uri *ru = msg_ruri(m);
	struct uri u;

	if (sv_eq(msg_sv(m, cu), msg_sv(m, msg_ruri_span(m)))) {
		return true;
	}
	memset(&u, 0, sizeof(u));
	return ru != NULL && uri_parse(msg_buf(m), cu, &u) == 0 &&
	    uri_equal(msg_buf(m), &u, msg_buf(m), ru);
}

/*
 * The credentials for realm: the first Digest credentials naming it whose
 * algorithm is offered, else the first naming it at all.  NULL: none.
 */
static const struct msg_auth *
find_creds(const struct auth *a, struct msg *m, const struct msg_auth *cr,
    int n, const char *realm)
{
	const struct msg_auth *first = NULL;
	char buf[AUTH_REALM_MAX + 1];
	enum auth_alg alg;
	bool sess;
	int i;

	for (i = 0; i < n; i++) {
		if (!sv_caseeq_str(msg_sv(m, cr[i].scheme), "Digest") ||
		    unquote(msg_sv(m, cr[i].realm), buf, sizeof(buf)) < 0 ||
		    strcasecmp(buf, realm) != 0) {
			continue;
		}
		if (first == NULL) {
			first = &cr[i];
		}
		if (parse_alg(msg_sv(m, cr[i].algorithm), &alg, &sess) == 0 &&
		    (a->set.algs & AUTH_ALG_BIT(alg)) != 0) {
			return &cr[i];
		}
	}
	return first;
}

static uint32_t
hex32(struct sv s)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		v = (v << 4) | (uint32_t)(c <= '9'   ? c - '0'
					     : c <= 'F' ? c - 'A' + 10
							: c - 'a' + 10);
	}
	return v;
}

int
auth_check(struct auth *a, struct msg *m, enum hdr_id id, const char *method,
    const struct sockaddr *src, const char *realm, auth_lookup_fn *lookup,
    void *arg, struct auth_result *res)
{
	return auth_check_alt(a, m, id, method, src, realm, lookup, arg, NULL,
	    res);
}

/* The credentials' uri is alt's initial Request-URI. */
static bool
alt_uri_is(const struct auth_alt *alt, struct sv cu)
{
	return alt != NULL && alt->uri.len > 0 && sv_eq(cu, alt->uri);
}

/*
 * Does the digest got[0..hl) verify as one of alt's variants?  Returns
 * the variant's name, or NULL.  ha1 etc. as auth_digest_response().
 */
static const char *
alt_match(const struct auth_alt *alt, enum auth_alg alg, bool sess,
    struct sv ha1, struct sv nonce, struct sv nc, struct sv cnonce,
    struct sv qop, struct sv method, struct sv cu, const char *got)
{
	static const struct sv invite = { "INVITE", 6 };
	const struct {
		bool use;
		struct sv method, uri;
		const char *name;
	} v[] = {
		{ alt->invite, invite, cu, "method INVITE" },
		{ alt->uri.len > 0, method, alt->uri, "initial Request-URI" },
		{ alt->invite && alt->uri.len > 0, invite, alt->uri,
		    "method INVITE and initial Request-URI" },
	};
	char want[AUTH_HEX_SIZE];
	size_t hl = auth_alg_hexlen(alg);

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i].use &&
		    auth_digest_response(alg, sess, ha1, nonce, nc, cnonce, qop,
			v[i].method, v[i].uri, want) == 0 &&
		    auth_equal(got, want, hl)) {
			return v[i].name;
		}
	}
	return NULL;
}

int
auth_check_alt(struct auth *a, struct msg *m, enum hdr_id id,
    const char *method, const struct sockaddr *src, const char *realm,
    auth_lookup_fn *lookup, void *arg, const struct auth_alt *alt,
    struct auth_result *res)
{
	char ha1[AUTH_HEX_SIZE], want[AUTH_HEX_SIZE], got[AUTH_HEX_SIZE];
	uint8_t nid[AUTH_NONCE_ID];
	const struct msg_auth *cr, *c;
	struct sv nonce, nc, cnonce, qop, resp, rs;
	int64_t now, issued;
	bool sess, unknown = false, match, uri_alt;
	size_t hl;
	int n, rc;

	if (a == NULL || m == NULL || res == NULL || lookup == NULL ||
	    !msg_is_request(m) || !realm_ok(realm) ||
	    (id != HDR_AUTHORIZATION && id != HDR_PROXY_AUTHORIZATION)) {
		return -EINVAL;
	}
	memset(res, 0, sizeof(*res));
	now = auth_now(a);
	if (auth_fail_blocked(a, src, now, NULL)) {
		res->status = AUTH_BLOCKED;
		return 0;
	}

	n = msg_auths(m, id, &cr);
	if (n == -ENOMEM) {
		return n;
	}
	if (n < 0) {
		return malformed(res, "Bad Credentials", src);
	}
	c = find_creds(a, m, cr, n, realm);
	if (c == NULL) {
		res->status = AUTH_NO_CREDENTIALS;
		return 0;
	}

	/* RFC 7616 3.4: username, realm, nonce, uri and response required */
	if (c->username.len == 0 || c->nonce.len == 0 || c->uri.len == 0 ||
	    c->response.len == 0) {
		return malformed(res, "Incomplete Credentials", src);
	}
	if (unquote(msg_sv(m, c->username), res->user, sizeof(res->user)) <=
	    0) {
		res->user[0] = '\0';
		return malformed(res, "Bad Credentials User", src);
	}
	nonce = msg_sv(m, c->nonce);
	qop = msg_sv(m, c->qop);
	nc = msg_sv(m, c->nc);
	cnonce = msg_sv(m, c->cnonce);
	resp = msg_sv(m, c->response);

	/* RFC 8760 2.4: an algorithm that was not offered is refused */
	if (parse_alg(msg_sv(m, c->algorithm), &res->alg, &sess) != 0 ||
	    (a->set.algs & AUTH_ALG_BIT(res->alg)) == 0) {
		failed(a, res, AUTH_R_ALGORITHM, src, realm, now);
		return 0;
	}
	hl = auth_alg_hexlen(res->alg);

	/* RFC 7616 3.4: qop and nc and cnonce come together */
	if (qop.len > 0) {
		if (!auth_is_hex(nc, 8) || cnonce.len == 0) {
			return malformed(res, "Bad Nonce Count", src);
		}
		if (cnonce.len > AUTH_CNONCE_MAX) {
			return malformed(res, "Bad Credentials Cnonce", src);
		}
	} else if (nc.len > 0 || cnonce.len > 0 || sess) {
		return malformed(res, "Missing Credentials qop", src);
	}
	if (!auth_is_hex(resp, hl)) {
		return malformed(res, "Bad Credentials Response", src);
	}
	uri_alt = !uri_matches(m, c->uri);
	if (uri_alt && !alt_uri_is(alt, msg_sv(m, c->uri))) {
		/* RFC 2617 3.2.2.5: a uri that is not the request's: 400 */
		return malformed(res, "Credentials URI Mismatch", src);
	}
	if (qop.len > 0 ? !sv_caseeq_str(qop, "auth") : !a->set.rfc2069) {
		/*
		 * qop=auth-int is not offered.  Without qop there is no nonce
		 * count (RFC 2069), so nothing tells a replay: such digests
		 * are refused unless the RFC 2069 compatibility is on.
		 */
		failed(a, res, AUTH_R_QOP, src, realm, now);
		return 0;
	}
	rs = msg_sv(m, c->userhash);
	if (rs.len > 0 && sv_caseeq_str(rs, "true")) {
		failed(a, res, AUTH_R_USERHASH, src, realm, now);
		return 0;
	}
	if (auth_nonce_verify(a, nonce, src,
	        (struct sv){ realm, strlen(realm) }, &issued, nid) != 0) {
		failed(a, res, AUTH_R_BAD_NONCE, src, realm, now);
		return 0;
	}

	rc = lookup(arg, res->user, realm, res->alg, ha1);
	if (rc == -ENOENT) {
		/* Same work as for a known user: the timing tells nothing. */
		unknown = true;
		memcpy(ha1, a->dummy_ha1[res->alg], hl + 1);
	} else if (rc < 0) {
		return rc;
	} else if (!auth_is_hex((struct sv){ ha1, strnlen(ha1, hl + 1) }, hl)) {
		log_err(LOG_SERVER,
		    "auth, stored HA1 of the wrong form for realm '%s'",
		    realm);
		return -EINVAL;
	}
	rs = method != NULL ? (struct sv){ method, strlen(method) }
			    : msg_method_name(m);
	rc = auth_digest_response_kept(a, res->alg, sess,
	    (struct sv){ ha1, hl }, nonce, nc, cnonce, qop, rs,
	    msg_sv(m, c->uri), want);
	if (rc != 0) {
		OPENSSL_cleanse(ha1, sizeof(ha1));
		return rc;
	}
	/* checked hex: the digits have bit 0x20 set already, so setting it
	 * lowers the letters alone */
	for (size_t i = 0; i < hl; i++) {
		got[i] = (char)(resp.p[i] | 0x20);
	}
	match = auth_equal(got, want, hl);
	if (!match && !unknown && alt != NULL) {
		res->variant = alt_match(alt, res->alg, sess,
		    (struct sv){ ha1, hl }, nonce, nc, cnonce, qop, rs,
		    msg_sv(m, c->uri), got);
		match = res->variant != NULL;
	}
	if (match && uri_alt) {
		/* the credentials named the initial Request-URI */
		res->variant = res->variant != NULL
		    ? "method INVITE and initial Request-URI"
		    : "initial Request-URI";
	}
	OPENSSL_cleanse(ha1, sizeof(ha1));
	if (unknown || !match) {
		failed(a, res,
		    unknown ? AUTH_R_UNKNOWN_USER : AUTH_R_BAD_PASSWORD, src,
		    realm, now);
		return 0;
	}

	/*
	 * RFC 7616 3.3: stale only for a valid digest under an old nonce, so
	 * the client retries without asking its user again.  A nonce from
	 * the future is one issued before the clock stepped back.
	 */
	if (now - issued >= (int64_t)a->set.nonce_lifetime ||
	    issued - now > AUTH_NONCE_SKEW) {
		res->status = AUTH_STALE;
		res->reason = AUTH_R_EXPIRED;
		return 0;
	}
	if (qop.len > 0) {
		rc = auth_nc_use(a, nid, issued, hex32(nc), now);
		if (rc == -EALREADY) {
			failed(a, res, AUTH_R_REPLAY, src, realm, now);
			return 0;
		}
		if (rc == -ESTALE) {
			res->status = AUTH_STALE;
			res->reason = AUTH_R_FORGOTTEN;
			return 0;
		}
	}
	res->status = AUTH_OK;
	res->reason = AUTH_R_NONE;
	if (res->variant != NULL) {
		/* a security event too: the form is in sipd.8 */
		char user[CLIP_Q_SIZE], rlm[CLIP_Q_SIZE];
		char from[INET6_ADDRSTRLEN + 16];

		log_notice(LOG_SERVER, "auth, accepted user='%s' src=%s "
		    "realm='%s' (badByeAuth: %s)",
		    clip_quoted(user, res->user, strlen(res->user)),
		    addr_str(src, from, sizeof(from)),
		    clip_quoted(rlm, realm, strlen(realm)), res->variant);
	}
	return 0;
}
