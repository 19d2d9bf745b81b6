/*
 * The process settings of the configuration: the user and group sipd runs
 * as once its sockets and files are open ("set user", "set group"), what
 * it says of itself in the Server header ("set server-header"), and who
 * may connect to the control socket ("control socket-mode", "control
 * socket-group").  Like conf.c, this only checks and records: main.c
 * drops the privileges, sipd/ctl sets the socket's mode and group, the
 * core writes the header.  Names are checked against the user and group
 * databases when a command is read, so "sipd -t" finds a typing error.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cmd.h"
#include "proto/err.h"
#include "sipd/conf.h"

/* The modes of "control socket-mode", in the order of its enum. */
static const unsigned conf_proc_modes[] = { 0600, 0660, 0666 };

/* A decimal id, or -EINVAL. */
static int
conf_proc_num(const char *s, unsigned long *out)
{
	char *end;

	if (s[0] < '0' || s[0] > '9') {
		return -EINVAL;
	}
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || *out >= (unsigned long)UINT32_MAX) {
		return -EINVAL;
	}
	return 0;
}

int
conf_proc_ids(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	unsigned long v;

	if (conf_proc_num(user, &v) == 0) {
		if (getpwuid_r((uid_t)v, &pw, buf, sizeof(buf), &res) != 0 ||
		    res == NULL) {
			return -ENOENT;
		}
	} else if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL) {
		return -ENOENT;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int
conf_proc_gid(const char *group, gid_t *gid)
{
	struct group gr, *res = NULL;
	char buf[16384];
	unsigned long v;

	if (conf_proc_num(group, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &res) != 0 ||
	    res == NULL) {
		return -ENOENT;
	}
	*gid = gr.gr_gid;
	return 0;
}

/*
 * RFC 3261 20.35: Server is product and comment words.  Taken verbatim,
 * so only bounded and printable: no control characters, no CR or LF that
 * would end the header, no space at either end.
 */
static bool
conf_proc_server_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CONF_SERVER_MAX || s[0] == ' ' ||
	    s[len - 1] == ' ') {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

int
conf_proc_apply(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	const char *v;
	char clip[LOG_CLIP_SIZE];
	uid_t uid;
	gid_t gid;
	int mode;

	switch (a->cmd->id) {
	case CMD_CONTROL_SOCKET_MODE:
		mode = cmd_arg_enum(a, "mode");
		if (mode < 0 || mode >= (int)(sizeof(conf_proc_modes) /
					     sizeof(conf_proc_modes[0]))) {
			return err_fmt(err, cap, -EINVAL, "missing mode");
		}
		c->ctl_mode = conf_proc_modes[mode];
		return 0;
	case CMD_SET_SERVER_HEADER:
		v = cmd_arg_str(a, "value");
		if (v == NULL || (strcmp(v, "none") != 0 &&
				     !conf_proc_server_ok(v))) {
			return err_fmt(err, cap, -EINVAL, "bad Server header "
			    "(1 to %d printable characters, or none)",
			    CONF_SERVER_MAX);
		}
		snprintf(c->server_header, sizeof(c->server_header), "%s",
		    strcmp(v, "none") == 0 ? "" : v);
		return 0;
	default:
		break;
	}
	v = cmd_arg_str(a, a->cmd->id == CMD_SET_USER ? "user" : "group");
	if (v == NULL || strlen(v) >= CONF_NAME_MAX) {
		return err_fmt(err, cap, -EINVAL, "bad name (at most %d bytes)",
		    CONF_NAME_MAX - 1);
	}
	log_clip(clip, sizeof(clip), v, strlen(v));
	switch (a->cmd->id) {
	case CMD_SET_USER:
		if (conf_proc_ids(v, &uid, &gid) < 0) {
			return err_fmt(err, cap, -EINVAL, "unknown user '%s'",
			    clip);
		}
		/* root: stay root, as if the setting were not there */
		snprintf(c->run_user, sizeof(c->run_user), "%s",
		    uid == 0 ? "" : v);
		return 0;
	case CMD_SET_GROUP:
	case CMD_CONTROL_SOCKET_GROUP:
		if (strcmp(v, "default") != 0 && conf_proc_gid(v, &gid) < 0) {
			return err_fmt(err, cap, -EINVAL, "unknown group '%s'",
			    clip);
		}
		snprintf(a->cmd->id == CMD_SET_GROUP ? c->run_group
						     : c->ctl_group,
		    CONF_NAME_MAX, "%s", strcmp(v, "default") == 0 ? "" : v);
		return 0;
	default:
		return err_fmt(err, cap, -ENOTSUP,
		    "'%s' has no configuration handler", a->cmd->name);
	}
}

void
conf_proc_dump(const struct conf *c, const struct conf *d, FILE *f)
{
	if (c->ctl_mode != d->ctl_mode) {
		fprintf(f, "control socket-mode %04o\n", c->ctl_mode);
	}
	if (c->ctl_group[0] != '\0') {
		fputs("control socket-group ", f);
		conf_word_out(f, c->ctl_group);
		fputc('\n', f);
	}
	if (c->run_user[0] != '\0') {
		fputs("set user ", f);
		conf_word_out(f, c->run_user);
		fputc('\n', f);
	}
	if (c->run_group[0] != '\0') {
		fputs("set group ", f);
		conf_word_out(f, c->run_group);
		fputc('\n', f);
	}
	if (strcmp(c->server_header, d->server_header) != 0) {
		fputs("set server-header ", f);
		conf_word_out(f, c->server_header[0] != '\0' ? c->server_header
							     : "none");
		fputc('\n', f);
	}
}
