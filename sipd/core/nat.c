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
nat_range(const char *s, struct tp_net *r)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct sockaddr_storage ss;
	size_t hl;

	memset(&ss, 0, sizeof(ss));
	if (slash == NULL || (hl = (size_t)(slash - s)) >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host,
		&((struct sockaddr_in *)(void *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, host,
		       &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) ==
	    1) {
		ss.ss_family = AF_INET6;
	} else {
		return -EINVAL;
	}
	return tp_net_prefix(r, (const struct sockaddr *)&ss,
	    (unsigned)atoi(slash + 1));
}

void
core_nat_configure(struct core *c, const struct conf *conf)
{
	c->nated_defaults = conf->nated_defaults;
	c->nnated = 0;
	/* the defaults first: a "!" entry may take some of them out */
	for (int i = 0; c->nated_defaults && core_nat_defaults[i] != NULL;
	     i++) {
		if (nat_range(core_nat_defaults[i], &c->nated[c->nnated]) ==
		    0) {
			c->nnated++;
		}
	}
	for (int i = 0; i < conf->nnated; i++) {
		c->nated[c->nnated++] = conf->nated[i].net;
	}
}

bool
core_nated(const struct core *c, const struct sockaddr_storage *ss)
{
	return tp_net_match(c->nated, (size_t)c->nnated,
	    (const struct sockaddr *)ss);
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
