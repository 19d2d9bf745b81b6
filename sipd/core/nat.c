/*
 * Far-end NAT detection (the "nated" list).  A client sits behind a
 * remote NAT when the address it writes for itself is one that NATs hide
 * (the nated list: by default the private ranges) and the address its
 * packets come from is not: the NAT rewrote the source, not the headers.
 * Owns the worker's copy of the nated list.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sipd/core/core_int.h"

const char *const core_nat_defaults[] = { CONF_NATED_DEFAULTS, NULL };

/* "addr/n" of core_nat_defaults[] into r: 0, or -EINVAL. */
static int
nat_range(const char *s, struct conf_range *r)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hl = (size_t)(slash - s);

	memset(r, 0, sizeof(*r));
	if (slash == NULL || hl >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	r->prefix = (uint8_t)atoi(slash + 1);
	if (inet_pton(AF_INET, host,
		&((struct sockaddr_in *)(void *)&r->addr)->sin_addr) == 1) {
		r->addr.ss_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host,
		&((struct sockaddr_in6 *)(void *)&r->addr)->sin6_addr) == 1) {
		r->addr.ss_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void
core_nat_configure(struct core *c, const struct conf *conf)
{
	c->nated_defaults = conf->nated_defaults;
	c->nnated = 0;
	if (c->nated_defaults) {
		for (int i = 0; core_nat_defaults[i] != NULL &&
		     c->nnated < CONF_MAX_RANGES; i++) {
			if (nat_range(core_nat_defaults[i],
				&c->nated[c->nnated]) == 0) {
				c->nnated++;
			}
		}
	}
	for (int i = 0; i < conf->nnated && c->nnated < CONF_MAX_RANGES; i++) {
		c->nated[c->nnated++] = conf->nated[i];
	}
}

bool
core_nated(const struct core *c, const struct sockaddr_storage *ss)
{
	for (int i = 0; i < c->nnated; i++) {
		if (core_in_range(&c->nated[i], ss)) {
			return true;
		}
	}
	return false;
}

/* The address req's sender writes for itself into ss: 0, or -EINVAL. */
static int
nat_own_addr(struct msg *req, struct sockaddr_storage *ss)
{
	const struct msg_via *via = msg_via_top(req);
	const struct msg_naddr *ct;
	socklen_t len;

	if (via != NULL && route_addr(msg_sv(req, via->host), 0, ss,
			       &len) == 0) {
		return 0;
	}
	/* a name in the Via: the Contact may still give the address */
	if (msg_naddrs(req, HDR_CONTACT, &ct) > 0 && !ct[0].star &&
	    (ct[0].uri.scheme == URI_SIP || ct[0].uri.scheme == URI_SIPS) &&
	    route_addr(msg_sv(req, ct[0].uri.host), 0, ss, &len) == 0) {
		return 0;
	}
	return -EINVAL;
}

bool
core_nat_far(struct core *c, struct msg *req, const struct tp_src *src)
{
	struct sockaddr_storage own;

	if (nat_own_addr(req, &own) < 0 || !core_nated(c, &own)) {
		return false;
	}
	return !core_nated(c, &src->addr);
}
