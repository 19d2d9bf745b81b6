/*
 * The control commands that list sipd's address lists: the nated list
 * (far-end NAT), with the private ranges that head it while "set
 * nated-defaults" is on.  Owns nothing.
 */
#include <netinet/in.h>
#include <stdio.h>

#include "proto/cmd.h"
#include "sipd/conf.h"
#include "sipd/core/core.h"
#include "sipd/ctl/ctl_int.h"

int
ctl_h_nated_list(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	const struct conf *c = r->ctl->conf;
	size_t ndef = 0;

	if (c->nated_defaults) {
		while (core_nat_defaults[ndef] != NULL) {
			ndef++;
		}
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, ndef + (size_t)c->nnated);
	for (size_t i = 0; i < ndef; i++) {
		msgpack_pack_map(pk, 2);
		proto_kv_str(pk, "range", core_nat_defaults[i]);
		proto_kv_bool(pk, "default", true);
	}
	for (int i = 0; i < c->nnated; i++) {
		char buf[INET6_ADDRSTRLEN + 8];

		msgpack_pack_map(pk, 2);
		proto_kv_str(pk, "range",
		    conf_range_str(&c->nated[i], buf, sizeof(buf)));
		proto_kv_bool(pk, "default", false);
	}
	return 0;
}
