/*
 * wk: the workaround tables, the whole public face of sipd/wk.  Some
 * devices get parts of SIP wrong; a workaround method changes what sipd
 * sends to them (or accepts from them) so that they still work.  Two
 * tables say who gets which methods:
 *
 *   products  a pattern (ASCII case ignored, '*' any run of characters)
 *             matched against an entity's product string: the User-Agent
 *             of its requests, the Server of its responses, or the
 *             User-Agent its REGISTER carried (kept with the binding)
 *   sites     a domain, matching itself and its subdomains; written with
 *             a leading '=' ("=example.com"), itself only
 *
 * A struct wk is plain data in the caller's storage (struct conf holds
 * one): copied with the configuration, read by the workers without a
 * lock.  Everything here is pure: no I/O, no allocation.
 */
#ifndef SIPD_WK_H
#define SIPD_WK_H

#include <stdbool.h>
#include <stddef.h>

/* The methods, a bit each. */
#define WK_NOTCP 0x01U       /* no transport= in URIs sent to it, no TCP */
#define WK_NOMADDR 0x02U     /* no maddr= in URIs sent to it */
#define WK_NOPATH 0x04U      /* no Path (RFC 3327) on REGISTERs to it */
#define WK_BADBYEAUTH 0x08U  /* its in-dialog non-INVITE digests */
#define WK_NEEDSEPID 0x10U   /* keep epid= in From/To */
#define WK_NOSUBMWI 0x20U    /* implicit message-summary subscription */
#define WK_MEDIARELAY 0x40U  /* its calls get a media relay */
#define WK_NOMEDIARELAY 0x80U /* its calls get none */

/* The methods a site may have: those about where requests go (a media
 * relay too: a provider whose media must come from sipd, or must not).
 * The others are about what a device sends, known by its product. */
#define WK_SITE_METHODS (WK_NOTCP | WK_NOMADDR | WK_NOPATH | \
	WK_MEDIARELAY | WK_NOMEDIARELAY)
/* noPath is about a registrar, known by where the REGISTER goes. */
#define WK_PRODUCT_METHODS (~WK_NOPATH)

#define WK_MAX_ENTRIES 64 /* per table */
#define WK_KEY_MAX 128    /* a pattern or domain, with its NUL */

struct wk_entry {
	char key[WK_KEY_MAX]; /* the pattern or domain as written */
	unsigned methods;
};

struct wk {
	struct wk_entry product[WK_MAX_ENTRIES];
	int nproduct;
	struct wk_entry site[WK_MAX_ENTRIES];
	int nsite;
};

enum wk_table {
	WK_PRODUCT,
	WK_SITE,
};

/* Empty both tables. */
void wk_init(struct wk *w);

/* True when both tables are empty: the packet path then does nothing. */
static inline bool
wk_empty(const struct wk *w)
{
	return w->nproduct == 0 && w->nsite == 0;
}

/*
 * Read method names (any ASCII case, blank-separated) into *methods.
 * Returns 0, or -EINVAL with a message in err listing the valid names
 * (an unknown name, none at all, mediaRelay with noMediaRelay) or saying
 * why a known name cannot be used (-ENOTSUP: Microsoft and SubPresence, and methods this version
 * does not implement).
 */
int wk_methods_parse(const char *text, unsigned *methods, char *err,
    size_t cap);

/* The names of the methods in m, blank-separated, into buf; "" for 0. */
const char *wk_methods_text(unsigned m, char *buf, size_t cap);

/* Name i of the methods sipd accepts, NULL past the last. */
const char *wk_method_name(int i);

/*
 * Whether key may name an entry of table t (a pattern; a domain), and
 * methods be the methods of one.  Returns 0, or -EINVAL with a message in
 * err (a site given a method outside WK_SITE_METHODS, a product one
 * outside WK_PRODUCT_METHODS, none at all).
 */
int wk_key_check(enum wk_table t, const char *key, char *err, size_t cap);
int wk_methods_check(enum wk_table t, unsigned methods, char *err,
    size_t cap);

/* Whether the product string s[0..len) matches pattern (ASCII case
 * ignored, '*' matching any run of characters, empty included). */
bool wk_pattern_match(const char *pattern, const char *s, size_t len);

/* Whether host[0..len) falls under the site domain (a trailing dot of
 * host ignored). */
bool wk_site_match(const char *domain, const char *host, size_t len);

/*
 * The methods of every entry of table t matching s[0..len) (a product
 * string or a host), or 0.  When match is not NULL, match[i] is set to
 * whether entry i matched.  Allocation-free.
 */
unsigned wk_lookup(const struct wk *w, enum wk_table t, const char *s,
    size_t len, bool *match);

/*
 * Copy the header value in[0..len) (name-addrs a comma apart: Contact,
 * Record-Route, Path) into out[0..cap) without the URI parameters the
 * methods m remove: transport (WK_NOTCP) and maddr (WK_NOMADDR), inside
 * <> only (outside they are header parameters, RFC 3261 20).  Quoted
 * display names are left alone.  Returns the length written, or -ENOSPC.
 * *changed gets whether anything was removed.
 */
int wk_strip_params(const char *in, size_t len, unsigned m, char *out,
    size_t cap, bool *changed);

/* The same for one bare URI (a Request-URI): its parameters run to '?'. */
int wk_strip_uri(const char *in, size_t len, unsigned m, char *out,
    size_t cap, bool *changed);

#endif
