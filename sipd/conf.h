/*
 * conf: sipd's configuration, read from a script of commands (the grammar
 * of proto/lex.h, one command per line).  sipd runs it at start and
 * "sipd -t" only checks it.  The commands are documented in sipd.conf(5).
 */
#ifndef SIPD_CONF_H
#define SIPD_CONF_H

#include <stddef.h>
#include <sys/socket.h>

#include "sipd/log.h"
#include "sipd/msg/msg.h"
#include "sipd/transport/tp.h"

#define CONF_MAX_LISTENERS 16
#define CONF_DEFAULT_PORT 5060

/* Ranges of the limits commands, inclusive. */
#define CONF_MESSAGE_SIZE_MIN 1024
#define CONF_MESSAGE_SIZE_MAX 65535
#define CONF_HEADERS_MIN 8
#define CONF_HEADERS_MAX 4096
#define CONF_LINE_MIN 128
#define CONF_LINE_MAX 65535

struct conf_listener {
	enum tp_proto proto;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

struct conf {
	struct conf_listener listeners[CONF_MAX_LISTENERS];
	int nlisteners;
	enum log_level levels[LOG__COMP_COUNT];
	struct msg_limits limits;
};

/* The defaults: no listener yet, every component at LOG_DEFAULT_LEVEL. */
void conf_init(struct conf *c);

/*
 * Run one command line in[0..len) against c.  Blank and comment lines do
 * nothing.  Returns 0, or -EINVAL with a message (no file or line) in
 * err[0..cap), or -ENOMEM.
 */
int conf_exec(struct conf *c, const char *in, size_t len, char *err,
    size_t cap);

/*
 * conf_init(), then run every line of the file at path, stopping at the
 * first error; then, when no listener was configured, add the default
 * (udp 127.0.0.1:5060).  Returns 0, or a negative errno with
 * "PATH:LINE: message" (or "PATH: message" when the file cannot be read)
 * in err[0..cap).
 */
int conf_load(struct conf *c, const char *path, char *err, size_t cap);

#endif
