/*
 * The decoder of control requests: a frame's body made a command with
 * typed arguments, or refused with the reply's error and a log line.
 * sipd checks every request here, whatever client sent it: the command
 * table is shared with sipctl, trust is not.  Owns nothing past a call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto/err.h"
#include "sipd/ctl/ctl_int.h"

int
ctl_decode(struct ctl_decoded *d, const char *body, size_t len, bool writer,
    const char *who)
{
	char clip[LOG_CLIP_SIZE];
	int rc;

	d->cmd = NULL;
	d->args = NULL;
	d->code = ERR_INVALID;
	d->err[0] = '\0';
	d->log[0] = '\0';
	rc = proto_decode(&d->m, body, len, d->err, sizeof(d->err));
	if (rc < 0) {
		snprintf(d->log, sizeof(d->log), "bad frame from %s (%s)", who,
		    d->err);
		return rc;
	}
	if (d->m.kind != PROTO_REQUEST) {
		snprintf(d->log, sizeof(d->log), "bad frame from %s (not a "
		    "request)", who);
		snprintf(d->err, sizeof(d->err), "not a request");
		return -SIPD_EPROTO;
	}
	if (d->m.id == 0) {
		snprintf(d->log, sizeof(d->log), "bad frame from %s (id 0)",
		    who);
		snprintf(d->err, sizeof(d->err), "id 0 is reserved");
		return -SIPD_EPROTO;
	}
	d->cmd = cmd_by_name(d->m.cmd, d->m.cmd_len);
	if (d->cmd == NULL || (d->cmd->flags & CF_LOCAL) != 0) {
		d->cmd = NULL;
		log_clip(clip, sizeof(clip), d->m.cmd, d->m.cmd_len);
		snprintf(d->log, sizeof(d->log), "unknown command '%s' from %s",
		    clip, who);
		snprintf(d->err, sizeof(d->err), "unknown command '%s'", clip);
		return -EINVAL;
	}
	if ((d->cmd->flags & CF_WRITE) != 0 && !writer) {
		d->code = ERR_DENIED;
		snprintf(d->log, sizeof(d->log), "refused '%s' to %s (read "
		    "only)", d->cmd->name, who);
		snprintf(d->err, sizeof(d->err), "'%s' needs root or sipd's "
		    "user", d->cmd->name);
		return -EPERM;
	}
	d->args = malloc(sizeof(*d->args));
	if (d->args == NULL || cmd_args_init(d->args, d->cmd) < 0) {
		d->code = ERR_INTERNAL;
		snprintf(d->err, sizeof(d->err), "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = proto_args(d->m.args, d->args, d->err, sizeof(d->err));
	if (rc < 0) {
		d->code = err_code_of(rc);
		snprintf(d->log, sizeof(d->log), "bad arguments for '%s' from "
		    "%s (%s)", d->cmd->name, who, d->err);
		goto fail;
	}
	return 0;
fail:
	free(d->args);
	d->args = NULL;
	return rc;
}

void
ctl_decoded_fini(struct ctl_decoded *d)
{
	free(d->args);
	d->args = NULL;
	proto_msg_fini(&d->m);
}
