/*
 * The process settings of the configuration: the user and group sipd runs
 * as once its sockets and files are open ("set user", "set group"), what
 * it says of itself in the Server header ("set server-header"), and who
 * may connect to the control socket ("control socket-mode", "control
 * socket-group").  They are declared in proto/settings.def; this file
 * holds their checks: main.c drops the privileges, sipd/ctl sets the
 * socket's mode and group, the core writes the header.  Names are checked
 * against the user and group databases when a command is read, so
 * "sipd -t" finds a typing error.
 */
#include <arpa/inet.h>
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
static const unsigned conf_proc_modes[] = {
	[CONF_CTL_MODE_0600] = 0600,
	[CONF_CTL_MODE_0660] = 0660,
	[CONF_CTL_MODE_0666] = 0666,
};

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

unsigned
conf_ctl_mode_bits(const struct conf *c)
{
	if (c->ctl_mode < 0 || c->ctl_mode > CONF_CTL_MODE_0666) {
		return 0600;
	}
	return conf_proc_modes[c->ctl_mode];
}

int
conf_proc_check_server(const char *v, char *err, size_t cap)
{
	if (!conf_proc_server_ok(v)) {
		return err_fmt(err, cap, -EINVAL, "bad Server header "
		    "(1 to %d printable characters, or none)", CONF_SERVER_MAX);
	}
	return 0;
}

int
conf_proc_hostport(const char *v, char *host, size_t cap, uint16_t *port)
{
	unsigned char bin[sizeof(struct in6_addr)];
	const char *colon, *h = v;
	size_t hl;
	unsigned long p;
	char *end;
	int af = AF_INET;

	colon = strrchr(v, ':');
	if (colon == NULL) {
		return -EINVAL;
	}
	hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 2 || v[hl - 1] != ']') {
			return -EINVAL;
		}
		h = v + 1;
		hl -= 2;
		af = AF_INET6;
	}
	if (hl == 0 || hl >= cap || colon[1] < '0' || colon[1] > '9') {
		return -EINVAL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(af, host, bin) != 1) {
		return -EINVAL;
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || p == 0 || p > 65535) {
		return -EINVAL;
	}
	*port = (uint16_t)p;
	return 0;
}

int
conf_proc_check_metrics(const char *v, char *err, size_t cap)
{
	char host[INET6_ADDRSTRLEN], clip[LOG_CLIP_SIZE];
	uint16_t port;

	if (conf_proc_hostport(v, host, sizeof(host), &port) < 0) {
		return err_fmt(err, cap, -EINVAL, "bad metrics address '%s' "
		    "(address:port, as 127.0.0.1:9100 or [::1]:9100, or off)",
		    log_clip(clip, sizeof(clip), v, strlen(v)));
	}
	return 0;
}

int
conf_proc_check_hep(const char *v, char *err, size_t cap)
{
	char host[INET6_ADDRSTRLEN], clip[LOG_CLIP_SIZE];
	uint16_t port;

	if (conf_proc_hostport(v, host, sizeof(host), &port) < 0) {
		return err_fmt(err, cap, -EINVAL, "bad HEP collector '%s' "
		    "(address:port, as 127.0.0.1:9060 or [::1]:9060, or off)",
		    log_clip(clip, sizeof(clip), v, strlen(v)));
	}
	return 0;
}

int
conf_proc_check_user(const char *v, char *err, size_t cap)
{
	char clip[LOG_CLIP_SIZE];
	uid_t uid;
	gid_t gid;

	if (conf_proc_ids(v, &uid, &gid) < 0) {
		return err_fmt(err, cap, -EINVAL, "unknown user '%s'",
		    log_clip(clip, sizeof(clip), v, strlen(v)));
	}
	return 0;
}

int
conf_proc_check_group(const char *v, char *err, size_t cap)
{
	char clip[LOG_CLIP_SIZE];
	gid_t gid;

	if (conf_proc_gid(v, &gid) < 0) {
		return err_fmt(err, cap, -EINVAL, "unknown group '%s'",
		    log_clip(clip, sizeof(clip), v, strlen(v)));
	}
	return 0;
}
