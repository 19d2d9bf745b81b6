/*
 * The process settings of the configuration: what sipd says of itself in
 * the Server header ("set server-header").  Like conf.c, this only checks
 * and records: the core writes the header.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/cmd.h"
#include "proto/err.h"
#include "sipd/conf.h"

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

	switch (a->cmd->id) {
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
	return err_fmt(err, cap, -ENOTSUP,
	    "'%s' has no configuration handler", a->cmd->name);
}

void
conf_proc_dump(const struct conf *c, const struct conf *d, FILE *f)
{
	if (strcmp(c->server_header, d->server_header) != 0) {
		fputs("set server-header ", f);
		conf_word_out(f, c->server_header[0] != '\0' ? c->server_header
							     : "none");
		fputc('\n', f);
	}
}
