/*
 * The control commands of message waiting: "mwi set", by which the
 * voicemail system gives an account's counts (stored, then every
 * subscription of the account notified from the first worker), and
 * "mwi show".  Owns nothing: the counts and subscriptions are
 * sipd/mwi's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/cmd.h"
#include "sipd/acct/acct.h"
#include "sipd/core/core.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/mwi/mwi.h"
#include "sipd/worker.h"

/* The canonical "user@domain" of an account given by name or alias. */
static int
canonical(struct ctl_req *r, const char *account, char *aor, size_t cap)
{
	struct acct_account_info *ai = malloc(sizeof(*ai));
	int rc = -ENOENT;

	if (ai == NULL) {
		return ctl_fail(r, -ENOMEM, "out of memory");
	}
	if (account != NULL &&
	    acct_account_find(r->ctl->conf->acct, account, ai) == 0) {
		snprintf(aor, cap, "%s@%s", ai->user, ai->domain);
		rc = 0;
	}
	free(ai);
	return rc == 0 ? 0 : ctl_fail(r, rc, "no account %.300s",
				 account != NULL ? account : "");
}

static void
changed(struct worker *w, void *arg)
{
	core_mwi_changed(w->core, arg);
}

int
ctl_h_mwi_set(struct ctl_req *r)
{
	struct mwi *m = workers_mwi(r->ctl->ws);
	char aor[MWI_AOR_MAX];
	struct mwi_counts c;
	int rc;

	if (m == NULL) {
		return ctl_fail(r, -ENOENT, "no message-waiting state");
	}
	if (cmd_arg_has(r->args, "urgent-new") !=
	    cmd_arg_has(r->args, "urgent-old")) {
		return ctl_fail(r, -EINVAL,
		    "give both urgent counts, or neither");
	}
	rc = canonical(r, cmd_arg_str(r->args, "account"), aor, sizeof(aor));
	if (rc != 0) {
		return rc;
	}
	c.new_msgs = (uint32_t)cmd_arg_uint(r->args, "new", 0);
	c.old_msgs = (uint32_t)cmd_arg_uint(r->args, "old", 0);
	c.urgent_new = (uint32_t)cmd_arg_uint(r->args, "urgent-new", 0);
	c.urgent_old = (uint32_t)cmd_arg_uint(r->args, "urgent-old", 0);
	if (c.urgent_new > c.new_msgs || c.urgent_old > c.old_msgs) {
		return ctl_fail(r, -EINVAL,
		    "more urgent messages than messages");
	}
	rc = mwi_set(m, aor, &c);
	if (rc == -ENOSPC) {
		return ctl_fail(r, rc,
		    "too many accounts with counts (at most %d)",
		    MWI_MAX_ACCOUNTS);
	}
	if (rc != 0) {
		return ctl_fail(r, rc, "counts of %s set but not stored", aor);
	}
	log_info(LOG_TRANSPORT, "control, %s set the messages of %s to "
	    "%u/%u (%u/%u)", r->conn->name, aor, c.new_msgs, c.old_msgs,
	    c.urgent_new, c.urgent_old);
	/* RFC 3842 3.5: every subscriber hears of the change */
	workers_call(r->ctl->ws, 0, changed, aor);
	proto_begin_reply(r->out, r->id);
	msgpack_pack_nil(&r->out->pk);
	return 0;
}

int
ctl_h_mwi_show(struct ctl_req *r)
{
	msgpack_packer *pk = &r->out->pk;
	struct mwi *m = workers_mwi(r->ctl->ws);
	const char *account = cmd_arg_str(r->args, "account");
	char aor[MWI_AOR_MAX];
	struct mwi_row *rows = NULL;
	int n, rc;

	if (m == NULL) {
		return ctl_fail(r, -ENOENT, "no message-waiting state");
	}
	if (account != NULL) {
		rc = canonical(r, account, aor, sizeof(aor));
		if (rc != 0) {
			return rc;
		}
	}
	n = mwi_list(m, account != NULL ? aor : NULL, time(NULL), &rows);
	if (n < 0) {
		return ctl_fail(r, n, "out of memory");
	}
	if (n == 0 && account != NULL) {
		/* an account without counts: all zero */
		memset(rows, 0, sizeof(*rows));
		snprintf(rows[0].aor, sizeof(rows[0].aor), "%s", aor);
		n = 1;
	}
	proto_begin_reply(r->out, r->id);
	msgpack_pack_array(pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		msgpack_pack_map(pk, 7);
		proto_kv_str(pk, "account", rows[i].aor);
		proto_kv_uint(pk, "new", rows[i].counts.new_msgs);
		proto_kv_uint(pk, "old", rows[i].counts.old_msgs);
		proto_kv_uint(pk, "urgent-new", rows[i].counts.urgent_new);
		proto_kv_uint(pk, "urgent-old", rows[i].counts.urgent_old);
		proto_kv_uint(pk, "subscriptions", rows[i].subs);
		proto_kv_uint(pk, "implicit", rows[i].implicit);
	}
	free(rows);
	return 0;
}
