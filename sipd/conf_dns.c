/*
 * The resolver's settings ("dns server", "dns timeout" and the others of
 * proto/settings.def): the check of a server list before it is taken, and
 * the mapping of the configuration onto struct dns_conf, which every
 * worker's resolver is given (sipd/worker.c).  Owns nothing.
 */
#include <stdio.h>
#include <string.h>

#include "sipd/conf.h"

void
conf_dns_resolver(const struct conf *c, struct dns_conf *out)
{
	dns_conf_default(out);
	snprintf(out->servers, sizeof(out->servers), "%s", c->dns.servers);
	out->timeout_ms = c->dns.timeout_ms;
	out->tries = c->dns.tries;
	out->cache_size = c->dns.cache_size;
	out->neg_ttl_max_s = c->dns.neg_ttl_s;
	out->blacklist_ms = c->dns.blacklist_s * 1000u;
}

int
conf_dns_check_servers(const char *v, char *err, size_t cap)
{
	struct dns_conf dc;

	dns_conf_default(&dc);
	if (strlen(v) >= sizeof(dc.servers)) {
		snprintf(err, cap, "dns, server list too long (at most %zu "
		    "bytes)", sizeof(dc.servers) - 1);
		return -1;
	}
	snprintf(dc.servers, sizeof(dc.servers), "%s", v);
	return dns_conf_check(&dc, err, cap) < 0 ? -1 : 0;
}
