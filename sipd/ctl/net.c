/*
 * The control commands that list sipd's Network Address Lists (lan,
 * client-ip, nated): each line in order, its canonical text and its
 * comment; the nated list starts with the private ranges while "set
 * nated-defaults" is on.  Owns nothing.
 */
#include <stdbool.h>
#include <stddef.h>

#include "proto/cmd.h"
#include "sipd/conf.h"
#include "sipd/core/core.h"
#include "sipd/ctl/ctl_int.h"

static void
pack_line(msgpack_packer *pk, const char *text, const char *comment,
    int dflt)
{
	bool has = comment[0] != '\0';

	msgpack_pack_map(pk, 1 + (has ? 1 : 0) + (dflt >= 0 ? 1 : 0));
	proto_kv_str(pk, "range", text);
	if (has) {
		proto_kv_str(pk, "comment", comment);
	}
	if (dflt >= 0) {
		proto_kv_bool(pk, "default", dflt > 0);
	}
}

static int
list(struct ctl_req *r, const struct conf_net *v, int n)
{
	msgpack_packer *pk = &r->out->pk;

	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		pack_line(pk, v[i].text, v[i].comment, -1);
	}
	return 0;
}

int
ctl_h_lan_list(struct ctl_req *r)
{
	return list(r, r->ctl->conf->lan, r->ctl->conf->nlan);
}

int
ctl_h_client_ip_list(struct ctl_req *r)
{
	return list(r, r->ctl->conf->client_ip, r->ctl->conf->nclient_ip);
}

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
		pack_line(pk, core_nat_defaults[i], "", 1);
	}
	for (int i = 0; i < c->nnated; i++) {
		pack_line(pk, c->nated[i].text, c->nated[i].comment, 0);
	}
	return 0;
}
