/*
 * The configuration: a script of commands, one per line, split into words
 * by proto/lex and found in the command table of proto/commands.def (the
 * commands flagged CF_CONF).  Each command checks its arguments and
 * records the result in a struct conf; nothing is opened or applied here,
 * so "sipd -t", a real start and a change through the control socket read
 * commands the same way, and the workers apply the result.
 *
 * This file also writes a struct conf back as commands (conf_dump()),
 * which is both "show config" and the file saved after every change
 * (conf_save(): temporary file, fsync, the old file kept as .bak, rename).
 * Accounts are written with their HA1 digests, never a password, and a
 * file that holds digests is readable by its owner only.
 */
#include "sipd/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/cmd.h"
#include "proto/err.h"
#include "proto/lex.h"
#include "proto/table.h"

static const char *const conf_log_outs[] = {
	[CONF_LOG_AUTO] = "auto",
	[CONF_LOG_STDERR] = "stderr",
	[CONF_LOG_SYSLOG] = "syslog",
	[CONF_LOG_FILE] = "file",
	[CONF_LOG_JOURNAL] = "journal",
};

void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		c->levels[i] = LOG_DEFAULT_LEVEL;
	}
	conf_settings_init(c);
	c->log_out = CONF_LOG_AUTO;
	c->acct = NULL;
}

void
conf_fini(struct conf *c)
{
	acct_unref(c->acct);
	c->acct = NULL;
}

void
conf_copy(struct conf *dst, const struct conf *src)
{
	*dst = *src;
	acct_ref(dst->acct);
}

bool
conf_has_secrets(const struct conf *c)
{
	return acct_has_accounts(c->acct) || conf_gw_has_secrets(c);
}

/* ------------------------------------------------------------ values */

/* A port: 1 to 65535, decimal digits only. */
static int
conf_port(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5) {
		return -EINVAL;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > 65535) {
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

/* An IP literal (v6 without brackets) into ss with port. */
static int
conf_ip(const char *host, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
			return -EINVAL;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
			return -EINVAL;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	}
	return 0;
}

/* "a.b.c.d:port" or "[v6]:port" into a socket address. */
int
conf_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs;
	size_t hl;
	uint16_t port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':') {
			return -EINVAL;
		}
		hs = s + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			return -EINVAL;
		}
		hs = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host) || conf_port(colon + 1, &port) < 0) {
		return -EINVAL;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if ((s[0] == '[') != (strchr(host, ':') != NULL)) {
		return -EINVAL;
	}
	return conf_ip(host, port, ss, len);
}

/* A host name or IP literal: letters, digits, '-', '.', '_' (and ':'
 * inside brackets). */
bool
conf_hostname_ok(const char *s, size_t len)
{
	if (len == 0 || len >= CONF_HOST_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != '_') {
			return false;
		}
	}
	return true;
}

int
conf_route_host(const char *s, struct conf_route *r)
{
	const char *colon;
	size_t hl;

	r->port = 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct in6_addr a6;
		char host[INET6_ADDRSTRLEN + 1];

		if (close == NULL) {
			return -EINVAL;
		}
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(host)) {
			return -EINVAL;
		}
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1) {
			return -EINVAL;
		}
		if (close[1] == ':') {
			if (conf_port(close + 2, &r->port) < 0) {
				return -EINVAL;
			}
		} else if (close[1] != '\0') {
			return -EINVAL;
		}
		snprintf(r->host, sizeof(r->host), "%s", host);
		return 0;
	}
	colon = strchr(s, ':');
	hl = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (!conf_hostname_ok(s, hl)) {
		return -EINVAL;
	}
	if (colon != NULL && conf_port(colon + 1, &r->port) < 0) {
		return -EINVAL;
	}
	memcpy(r->host, s, hl);
	r->host[hl] = '\0';
	/* a route is sent to as it is: a name would never be looked up,
	 * so it is refused here rather than skipped at every start */
	{
		struct sockaddr_storage ss;
		socklen_t len;

		if (conf_ip(r->host, 5060, &ss, &len) < 0) {
			return -EDESTADDRREQ;
		}
	}
	return 0;
}

/* A user name or a uid. */
static int
conf_user(const char *s, uid_t *out)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *end;
	unsigned long v;

	if (s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (*end != '\0' || errno != 0 || v >= (unsigned long)UINT32_MAX) {
			return -EINVAL;
		}
		*out = (uid_t)v;
		return 0;
	}
	if (getpwnam_r(s, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		return -ENOENT;
	}
	*out = pw.pw_uid;
	return 0;
}

const char *
conf_listener_str(const struct conf_listener *l, char *buf, size_t cap)
{
	char addr[TP_ADDRSTRLEN];

	tp_addr_str((const struct sockaddr *)&l->addr, addr, sizeof(addr));
	snprintf(buf, cap, "%s %s", tp_proto_name(l->proto), addr);
	return buf;
}

const char *
conf_canon_arg(enum cmd_type type, const char *val, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (type == CMD_T_HOSTPORT && conf_hostport(val, &ss, &len) == 0) {
		tp_addr_str((const struct sockaddr *)&ss, buf, cap);
		return buf;
	}
	if (type == CMD_T_RANGE && conf_net_canon(val, buf, cap) == 0) {
		return buf;
	}
	snprintf(buf, cap, "%s", val);
	return buf;
}

const char *
conf_route_target(const struct conf_route *r, char *buf, size_t cap)
{
	bool v6 = strchr(r->host, ':') != NULL;

	if (r->port != 0) {
		snprintf(buf, cap, v6 ? "[%s]:%u" : "%s:%u", r->host,
		    (unsigned)r->port);
	} else {
		snprintf(buf, cap, v6 ? "[%s]" : "%s", r->host);
	}
	return buf;
}

/* ---------------------------------------------------------- commands */

static int
conf_path_copy(char *dst, const char *src, const char *what, char *err,
    size_t cap)
{
	if (src == NULL) {
		dst[0] = '\0';
		return 0;
	}
	if (strlen(src) >= CONF_PATH_MAX) {
		return err_fmt(err, cap, -EINVAL,
		    "%s path too long (at most %d bytes)", what,
		    CONF_PATH_MAX - 1);
	}
	snprintf(dst, CONF_PATH_MAX, "%s", src);
	return 0;
}

static int
conf_log_level(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	const char *cs = cmd_arg_str(a, "component");
	const char *ls = cmd_arg_str(a, "level");
	int comp = -1, level;

	if (cs == NULL || ls == NULL) {
		return err_fmt(err, cap, -EINVAL, "missing component or "
		    "level");
	}
	if (strcmp(cs, "all") != 0) {
		comp = log_comp_lookup(cs);
		if (comp < 0) {
			return err_fmt(err, cap, -EINVAL,
			    "unknown component '%s'", cs);
		}
	}
	level = log_level_lookup(ls);
	if (level < 0) {
		return err_fmt(err, cap, -EINVAL, "unknown level '%s'", ls);
	}
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		if (comp < 0 || comp == i) {
			c->levels[i] = (enum log_level)level;
		}
	}
	return 0;
}

static int
conf_log_output(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	int t = cmd_arg_enum(a, "target");
	const char *file = cmd_arg_str(a, "file");
	int rc;

	if (t < 0 || t > CONF_LOG_JOURNAL) {
		return err_fmt(err, cap, -EINVAL, "missing target");
	}
	if ((t == CONF_LOG_FILE) != (file != NULL)) {
		return err_fmt(err, cap, -EINVAL,
		    t == CONF_LOG_FILE ? "log output file needs a file name"
				       : "a file name is for log output file "
					 "only");
	}
	if (file != NULL && file[0] != '/') {
		return err_fmt(err, cap, -EINVAL,
		    "the log file's path must be absolute");
	}
	rc = conf_path_copy(c->log_file, file, "log file", err, cap);
	if (rc < 0) {
		return rc;
	}
	c->log_out = (enum conf_log_out)t;
	return 0;
}

static int
conf_control(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap)
{
	const char *user;
	uid_t uid;
	int i;

	switch (a->cmd->id) {
	case CMD_CONTROL_SOCKET:
		return conf_path_copy(c->ctl_socket, cmd_arg_str(a, "path"),
		    "socket", err, cap);
	default:
		break;
	}
	user = cmd_arg_str(a, "user");
	if (user == NULL) {
		return err_fmt(err, cap, -EINVAL, "missing user");
	}
	if (conf_user(user, &uid) < 0) {
		char clip[LOG_CLIP_SIZE];

		return err_fmt(err, cap, -EINVAL,
		    "unknown user '%s' (expected a user name or a uid)",
		    log_clip(clip, sizeof(clip), user, strlen(user)));
	}
	for (i = 0; i < c->nctl_allow; i++) {
		if (c->ctl_allow[i] == uid) {
			break;
		}
	}
	if (a->cmd->id == CMD_CONTROL_ALLOW) {
		if (i < c->nctl_allow) {
			return err_fmt(err, cap, -EEXIST,
			    "uid %lu is allowed already", (unsigned long)uid);
		}
		if (c->nctl_allow == CONF_MAX_USERS) {
			return err_fmt(err, cap, -EBUSY,
			    "too many users (at most %d)", CONF_MAX_USERS);
		}
		c->ctl_allow[c->nctl_allow++] = uid;
		return 0;
	}
	if (i == c->nctl_allow) {
		return err_fmt(err, cap, -ENOENT, "uid %lu is not in the list",
		    (unsigned long)uid);
	}
	memmove(&c->ctl_allow[i], &c->ctl_allow[i + 1],
	    (size_t)(c->nctl_allow - i - 1) * sizeof(c->ctl_allow[0]));
	c->nctl_allow--;
	return 0;
}

/* The domain and account commands beyond their tables' add and remove
 * (aliases, state, password, forwarder): an edit of c->acct (acct.h). */
static int
conf_acct(struct conf *c, const struct cmd_args *a, char *err, size_t cap)
{
	const char *domain = cmd_arg_str(a, "domain");
	const char *alias = cmd_arg_str(a, "alias");
	const char *account = cmd_arg_str(a, "account");
	const char *ha1[ACCT__ALG_COUNT] = { cmd_arg_str(a, "ha1-md5"),
		cmd_arg_str(a, "ha1-sha256") };
	const char *target;

	if ((domain == NULL && account == NULL) ||
	    (a->cmd->id == CMD_DOMAIN_ALIAS_ADD && alias == NULL)) {
		return err_fmt(err, cap, -EINVAL, "missing argument");
	}
	switch (a->cmd->id) {
	case CMD_DOMAIN_ALIAS_ADD:
	case CMD_DOMAIN_ALIAS_REMOVE:
		if (alias == NULL) {
			return err_fmt(err, cap, -EINVAL, "missing alias");
		}
		return acct_domain_alias(&c->acct, domain, alias,
		    a->cmd->id == CMD_DOMAIN_ALIAS_ADD, err, cap);
	case CMD_DOMAIN_ENABLE:
	case CMD_DOMAIN_DISABLE:
		return acct_domain_enable(&c->acct, domain,
		    a->cmd->id == CMD_DOMAIN_ENABLE, err, cap);
	default:
		break;
	}
	if (account == NULL) {
		return err_fmt(err, cap, -EINVAL, "missing account");
	}
	switch (a->cmd->id) {
	case CMD_ACCOUNT_PASSWORD:
		if (cmd_arg_str(a, "password") == NULL) {
			return err_fmt(err, cap, -EINVAL, "missing password");
		}
		return acct_account_password(&c->acct, account,
		    cmd_arg_str(a, "password"), err, cap);
	case CMD_ACCOUNT_ALIAS_ADD:
	case CMD_ACCOUNT_ALIAS_REMOVE:
		if (alias == NULL) {
			return err_fmt(err, cap, -EINVAL, "missing alias");
		}
		return acct_account_alias(&c->acct, account, alias,
		    a->cmd->id == CMD_ACCOUNT_ALIAS_ADD, ha1, err, cap);
	case CMD_ACCOUNT_FORWARD:
		target = cmd_arg_str(a, "target");
		if (target == NULL) {
			return err_fmt(err, cap, -EINVAL, "missing target");
		}
		return acct_account_forward(&c->acct, account,
		    strcmp(target, "none") == 0 ? NULL : target, err, cap);
	case CMD_ACCOUNT_ENABLE:
	case CMD_ACCOUNT_DISABLE:
		return acct_account_enable(&c->acct, account,
		    a->cmd->id == CMD_ACCOUNT_ENABLE, err, cap);
	default:
		return err_fmt(err, cap, -ENOTSUP,
		    "'%s' has no configuration handler", a->cmd->name);
	}
}

int
conf_apply(struct conf *c, const struct cmd_args *a, char *err, size_t cap)
{
	const struct conf_setting *set;

	if ((a->cmd->flags & CF_CONF) == 0) {
		return err_fmt(err, cap, -EINVAL,
		    "'%s' is not a configuration command", a->cmd->name);
	}
	set = conf_setting_of(a->cmd->id);
	if (set != NULL) {
		return conf_setting_apply(c, set, a, err, cap);
	}
	switch (a->cmd->id) {
	case CMD_LISTENER_ADD:
		return conf_listener_add(c, a, err, cap);
	case CMD_LISTENER_REMOVE:
		return conf_listener_remove(c, a, err, cap);
	case CMD_LAN_ADD:
	case CMD_CLIENT_IP_ADD:
	case CMD_NATED_ADD:
		return conf_net_cmd(c, a, true, err, cap);
	case CMD_LAN_REMOVE:
	case CMD_CLIENT_IP_REMOVE:
	case CMD_NATED_REMOVE:
		return conf_net_cmd(c, a, false, err, cap);
	case CMD_DOMAIN_ADD:
		return conf_table_add(&tbl_table[TBL_DOMAIN], c, a, err, cap);
	case CMD_DOMAIN_REMOVE:
		return conf_table_remove(&tbl_table[TBL_DOMAIN], c, a, err,
		    cap);
	case CMD_DOMAIN_ALIAS_ADD:
	case CMD_DOMAIN_ALIAS_REMOVE:
	case CMD_DOMAIN_ENABLE:
	case CMD_DOMAIN_DISABLE:
		return conf_acct(c, a, err, cap);
	case CMD_ACCOUNT_ADD:
		return conf_table_add(&tbl_table[TBL_ACCOUNT], c, a, err, cap);
	case CMD_ACCOUNT_REMOVE:
		return conf_table_remove(&tbl_table[TBL_ACCOUNT], c, a, err,
		    cap);
	case CMD_ACCOUNT_PASSWORD:
	case CMD_ACCOUNT_ALIAS_ADD:
	case CMD_ACCOUNT_ALIAS_REMOVE:
	case CMD_ACCOUNT_FORWARD:
	case CMD_ACCOUNT_ENABLE:
	case CMD_ACCOUNT_DISABLE:
		return conf_acct(c, a, err, cap);
	case CMD_ROUTE_ADD: {
		int rc = conf_route_add(c, a, err, cap);
		if (rc == 0) {
			conf_router_route_deprecated();
		}
		return rc;
	}
	case CMD_ROUTER_ADD:
		return conf_router_add(c, a, err, cap);
	case CMD_GATEWAY_ADD:
		return conf_gw_add(c, a, err, cap);
	case CMD_GATEWAY_SET:
		return conf_gw_set(c, a, err, cap);
	case CMD_GATEWAY_REMOVE:
		return conf_gw_remove(c, a, err, cap);
	case CMD_ROUTER_REMOVE:
		return conf_router_remove(c, a, err, cap);
	case CMD_ROUTE_REMOVE:
		return conf_route_remove(c, a, err, cap);
	case CMD_WORKAROUND_PRODUCT_ADD:
	case CMD_WORKAROUND_PRODUCT_REMOVE:
	case CMD_WORKAROUND_SITE_ADD:
	case CMD_WORKAROUND_SITE_REMOVE:
		return conf_wk_cmd(c, a, err, cap);
	case CMD_LOG_LEVEL:
		return conf_log_level(c, a, err, cap);
	case CMD_LOG_OUTPUT:
		return conf_log_output(c, a, err, cap);
	case CMD_CONTROL_SOCKET:
	case CMD_CONTROL_ALLOW:
	case CMD_CONTROL_DISALLOW:
		return conf_control(c, a, err, cap);
	default:
		return err_fmt(err, cap, -ENOTSUP,
		    "'%s' has no configuration handler", a->cmd->name);
	}
}

int
conf_exec(struct conf *c, const char *in, size_t len, char *err, size_t cap)
{
	struct cmd_args *a = NULL;
	struct lex_line l;
	struct lex_err lerr = { 0, NULL };
	int rc;

	rc = lex_split(&l, in, len, 0, &lerr);
	if (rc == -EINVAL) {
		rc = err_fmt(err, cap, -EINVAL, "%s (column %u)", lerr.msg,
		    lerr.col);
		goto out;
	}
	if (rc < 0 || l.count == 0) {
		goto out;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = cmd_parse(a, l.words, l.count, CF_LOCAL, err, cap);
	if (rc < 0) {
		/* the message is logged (SIGHUP): it names no word of a
		 * password line, which an unquoted blank may have split */
		if (a->cmd != NULL && (a->cmd->flags & CF_SECRET) != 0) {
			char usage[512];

			rc = err_fmt(err, cap, rc, "bad arguments (usage: %s)",
			    cmd_usage(a->cmd, usage, sizeof(usage)));
		}
		goto out;
	}
	if ((a->cmd->flags & CF_CONF) == 0) {
		rc = err_fmt(err, cap, -EINVAL,
		    "'%s' is not allowed in the configuration file",
		    a->cmd->name);
		goto out;
	}
	rc = conf_apply(c, a, err, cap);
out:
	free(a);
	lex_fini(&l);
	return rc;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t cap)
{
	char msg[512];
	char *line = NULL;
	size_t linecap = 0;
	ssize_t n;
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	conf_init(c);
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return rc;
	}
	while ((n = getline(&line, &linecap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n') {
			n--;
		}
		rc = conf_exec(c, line, (size_t)n, msg, sizeof(msg));
		if (rc < 0) {
			snprintf(err, cap, "%s:%u: %s", path, lineno,
			    rc == -ENOMEM ? strerror(ENOMEM) : msg);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, cap, "%s: %s", path, strerror(EIO));
		goto out;
	}
	if (c->nlisteners == 0) {
		struct sockaddr_in *a4 =
		    (struct sockaddr_in *)(void *)&c->listeners[0].addr;

		a4->sin_family = AF_INET;
		a4->sin_port = htons(CONF_DEFAULT_PORT);
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->listeners[0].proto = TP_UDP;
		c->listeners[0].addrlen = sizeof(*a4);
		c->nlisteners = 1;
		c->listener_implied = true;
	}
out:
	free(line);
	fclose(f);
	if (rc < 0) {
		conf_fini(c);
	}
	return rc;
}

/* -------------------------------------------------------------- dump */

uint32_t
conf_source_channels(const struct conf *c)
{
	uint32_t n = c->input_channels / CONF_SOURCE_CHANNELS_SHARE;

	if (c->source_channels != 0) {
		return c->source_channels;
	}
	return n > 0 ? n : 1;
}

int
conf_dump(const struct conf *c, FILE *f, bool secrets)
{
	return conf_dump_all(c, f, false, secrets);
}

int
conf_dump_all(const struct conf *c, FILE *f, bool all, bool secrets)
{
	enum log_level common = c->levels[0];
	int best = 0;

	if (c->ctl_socket[0] != '\0') {
		fputs("control socket ", f);
		lex_word_out(f, c->ctl_socket);
		fputc('\n', f);
	}
	for (int i = 0; i < c->nctl_allow; i++) {
		fprintf(f, "control allow %lu\n", (unsigned long)c->ctl_allow[i]);
	}
	if (all || c->log_out != CONF_LOG_AUTO) {
		fprintf(f, "log output %s", conf_log_outs[c->log_out]);
		if (c->log_out == CONF_LOG_FILE) {
			fputc(' ', f);
			lex_word_out(f, c->log_file);
		}
		fputc('\n', f);
	}
	/* all: "log level all LEVEL" with the level most components have,
	 * then the components that differ */
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		int votes = 0;

		for (int k = 0; k < LOG__COMP_COUNT; k++) {
			votes += c->levels[k] == c->levels[i];
		}
		if (votes > best) {
			best = votes;
			common = c->levels[i];
		}
	}
	if (all) {
		fprintf(f, "log level all %s\n", log_level_name(common));
	}
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		if (all ? c->levels[i] != common
			: c->levels[i] != LOG_DEFAULT_LEVEL) {
			fprintf(f, "log level %s %s\n",
			    log_comp_name((enum log_comp)i),
			    log_level_name(c->levels[i]));
		}
	}
	conf_settings_dump(c, f, all);
	conf_net_dump(c, f);
	conf_listener_dump(c, f);
	conf_route_dump(c, f);
	conf_router_dump(c, f);
	conf_acct_dump(c->acct, secrets, f);
	conf_gw_dump(c, f, secrets);
	conf_wk_dump(c, f);
	return ferror(f) ? -EIO : 0;
}
