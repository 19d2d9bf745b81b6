/*
 * The control commands of the Router table that read it: "router list"
 * and "router test", which routes an address the way sipd/core would
 * (sipd/router/rtr.h, then the accounts and "set relay-via") and says
 * each step and the decision, sending nothing.  Owns nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/cmd.h"
#include "proto/table.h"
#include "sipd/acct/acct.h"
#include "sipd/core/core.h"
#include "sipd/ctl/ctl_int.h"

int
ctl_h_router_list(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;

	return ctl_table_list(r, &tbl_table[TBL_ROUTER], c->router,
	    c->nrouter, sizeof(c->router[0]));
}

static const char *const proto_names[] = { "auto", "udp", "tcp", "tls" };

/* The decision on res, as core_router() and the proxy would take it. */
static void
decide(const struct conf *c, const struct rtr_result *res, bool client,
    char *decision, size_t dcap, char *target, size_t tcap)
{
	char addr[2 * RTR_ADDR_MAX + 2];
	struct acct_target t;

	rtr_addr_str(res->local, res->domain, addr, sizeof(addr));
	snprintf(target, tcap, "%s", addr);
	switch (res->kind) {
	case RTR_GATEWAY: {
		const struct conf_gw *g = conf_gw_find(c, res->gateway);
		char to[CONF_GW_STR + 8];
		snprintf(decision, dcap, "gateway");
		if (g == NULL) {
			snprintf(target, tcap, "%.100s (number '%.100s'; no "
			    "gateway %.100s: 404)", res->gateway, res->local,
			    res->gateway);
			return;
		}
		conf_gw_target(g, to, sizeof(to));
		/* a stranger is challenged there: clients only */
		snprintf(target, tcap, "%.100s (number '%.100s'; sip:%.100s@"
		    "%.100s to %.100s%s)", g->name, res->local, res->local,
		    g->domain, to + (strncmp(to, "sip:", 4) == 0 ? 4 : 0),
		    client ? "" : "; a stranger gets 407");
		return;
	}
	case RTR_IP:
		snprintf(decision, dcap, "ip");
		return;
	default:
		break;
	}
	switch (acct_resolve(c->acct, res->local, strlen(res->local),
	    res->domain, strlen(res->domain), &t)) {
	case ACCT_LOCAL:
		snprintf(decision, dcap, "local account");
		snprintf(target, tcap, "%s@%s", t.user, t.domain);
		return;
	case ACCT_FORWARD:
		snprintf(decision, dcap, "local account, forwarded");
		snprintf(target, tcap, "%.64s@%.253s -> %.256s", t.user, t.domain,
		    t.forward);
		return;
	case ACCT_UNKNOWN:
		snprintf(decision, dcap, "refused");
		snprintf(target, tcap, "%s (no such account: 404)", addr);
		return;
	default:
		break;
	}
	if (!res->dotted) {
		snprintf(decision, dcap, "refused");
		snprintf(target, tcap, "%s (not a domain: 404)", addr);
		return;
	}
	if (c->relay_via[0] != '\0' && !res->by_record &&
	    res->proto == RTR_PROTO_ANY) {
		snprintf(decision, dcap, "relay via");
		snprintf(target, tcap, "%.100s (for %.300s)", c->relay_via, addr);
		return;
	}
	snprintf(decision, dcap, "dns name");
	(void)client;
}

int
ctl_h_router_test(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;
	const char *addr = cmd_arg_str(r->args, "address");
	int src = cmd_arg_enum(r->args, "source");
	char local[RTR_ADDR_MAX], decision[64], target[1024];
	const char *at, *domain = NULL;
	msgpack_packer *pk = &r->out->pk;
	struct rtr_result res;
	struct rtr_in in;
	bool client = src != 1;
	int rc;

	if (addr == NULL || addr[0] == '\0') {
		return ctl_fail(r, -EINVAL, "missing address");
	}
	/* "sip:" and "sips:" are taken off: the Router sees addresses */
	if (strncasecmp(addr, "sip:", 4) == 0) {
		addr += 4;
	} else if (strncasecmp(addr, "sips:", 5) == 0) {
		addr += 5;
	}
	if (strlen(addr) >= sizeof(local)) {
		return ctl_fail(r, -EINVAL, "address too long");
	}
	snprintf(local, sizeof(local), "%s", addr);
	at = strrchr(local, '@');
	if (at != NULL) {
		local[at - local] = '\0';
		domain = at + 1;
	}
	in.main_domain = core_main_domain(c->acct, c->main_domain);
	in.client = client;
	rc = rtr_route(c->router, c->nrouter, &in, local, domain, &res);
	if (rc == -ELOOP) {
		snprintf(decision, sizeof(decision), "refused");
		snprintf(target, sizeof(target), "routing loop: more than %d "
		    "records applied (482)", RTR_LOOP_LIMIT);
	} else if (rc < 0) {
		snprintf(decision, sizeof(decision), "refused");
		snprintf(target, sizeof(target), "a rewrite is too long (404)");
	} else {
		decide(c, &res, client, decision, sizeof(decision), target,
		    sizeof(target));
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_map(pk, 7);
	proto_kv_str(pk, "source", client ? "client" : "stranger");
	msgpack_pack_str(pk, 5);
	msgpack_pack_str_body(pk, "steps", 5);
	msgpack_pack_array(pk, rc == 0 ? (size_t)res.nsteps : 0);
	for (int i = 0; rc == 0 && i < res.nsteps; i++) {
		msgpack_pack_map(pk, 3);
		proto_kv_uint(pk, "number", (uint64_t)res.steps[i].record + 1);
		proto_kv_str(pk, "record", c->router[res.steps[i].record].text);
		proto_kv_str(pk, "result", res.steps[i].addr);
	}
	proto_kv_bool(pk, "norelay-skipped", rc == 0 && res.norelay_skipped);
	proto_kv_str(pk, "decision", decision);
	proto_kv_str(pk, "target", target);
	proto_kv_str(pk, "transport", rc == 0 ? proto_names[res.proto]
					      : "auto");
	/* MediaRelay:, NoMediaRelay: (the refusal wins, as in the core) */
	proto_kv_str(pk, "media", rc != 0 ? "auto"
	    : (res.media & RTR_F_NOMEDIA) ? "no relay"
	    : (res.media & RTR_F_MEDIA)   ? "relay"
					  : "auto");
	return 0;
}
