/*
 * The control commands that list sipd's Network Address Lists (lan,
 * client-ip, nated) by the table engine (table.c): each line in order,
 * its canonical range and its comment; the nated list starts with the
 * private ranges while "set nated-defaults" is on.  Owns nothing.
 */
#include <stdbool.h>
#include <stddef.h>

#include "proto/table.h"
#include "sipd/conf.h"
#include "sipd/ctl/ctl_int.h"

int
ctl_h_lan_list(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;

	return ctl_table_list(r, &tbl_table[TBL_LAN], c->lan, c->nlan,
	    sizeof(c->lan[0]));
}

int
ctl_h_client_ip_list(struct ctl_req *r)
{
	const struct conf *c = r->ctl->conf;

	return ctl_table_list(r, &tbl_table[TBL_CLIENT_IP], c->client_ip,
	    c->nclient_ip, sizeof(c->client_ip[0]));
}

int
ctl_h_nated_list(struct ctl_req *r)
{
	static const char *const defaults[] = { CONF_NATED_DEFAULTS };
	const struct tbl *t = &tbl_table[TBL_NATED];
	const struct conf *c = r->ctl->conf;
	size_t ndef = c->nated_defaults ? sizeof(defaults) / sizeof(defaults[0])
					: 0;
	msgpack_packer *pk = &r->out->pk;
	struct conf_net d;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, ndef + (size_t)c->nnated);
	for (size_t i = 0; i < ndef; i++) {
		/* constants: a failure would list an empty range */
		(void)conf_net_parse(defaults[i], &d, NULL, 0);
		d.dflt = true;
		ctl_table_pack_row(pk, t, &d, (int)i + 1, r->conn->writer);
	}
	for (int i = 0; i < c->nnated; i++) {
		ctl_table_pack_row(pk, t, &c->nated[i], i + 1, r->conn->writer);
	}
	return 0;
}
