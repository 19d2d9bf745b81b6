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
#include "sipd/txn/txn.h"

#define CONF_MAX_LISTENERS 16
#define CONF_DEFAULT_PORT 5060

/* Ranges of the limits commands, inclusive. */
#define CONF_MESSAGE_SIZE_MIN 1024
#define CONF_MESSAGE_SIZE_MAX 65535
#define CONF_HEADERS_MIN 8
#define CONF_HEADERS_MAX 4096
#define CONF_LINE_MIN 128
#define CONF_LINE_MAX 65535

#define CONF_MAX_RANGES 64
#define CONF_MAX_ROUTES 64
#define CONF_PATH_MAX 256
#define CONF_HOST_MAX 256

struct conf_listener {
	enum tp_proto proto;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	/* TLS only: certificate chain and key (PEM), optional CA file and
	 * whether peers must present a certificate that verifies */
	char cert[CONF_PATH_MAX];
	char key[CONF_PATH_MAX];
	char ca[CONF_PATH_MAX];
	bool verify;
};

/* An address range, "192.0.2.0/24" or "2001:db8::/32". */
struct conf_range {
	struct sockaddr_storage addr;
	uint8_t prefix;
};

/*
 * The static forwarding rule (until the Router table): every request whose
 * Request-URI host is domain ("*" for any) goes to host:port over proto.
 */
struct conf_route {
	char domain[CONF_HOST_MAX];
	char host[CONF_HOST_MAX]; /* IP literal or name */
	uint16_t port;            /* 0: the transport's default */
	enum tp_proto proto;
	bool proto_set;           /* false: UDP, or TCP past the size limit */
};

struct conf {
	struct conf_listener listeners[CONF_MAX_LISTENERS];
	int nlisteners;
	enum log_level levels[LOG__COMP_COUNT];
	struct msg_limits limits;

	/* transport (RFC 3261 18) */
	int udp_tos;              /* "UDP TOS Tag", 0-255, default 0 */
	uint32_t input_channels;  /* cap on inbound TCP/TLS connections */
	uint32_t idle_timeout_s;  /* close a connection quiet this long */
	uint32_t size_limit_lan;  /* "Request Size Limit" inside the LAN */
	uint32_t size_limit_wan;  /* and outside it (RFC 3261 18.1.1) */
	struct conf_range lan[CONF_MAX_RANGES];
	int nlan;

	/* transactions (RFC 3261 17): T1, T2, T4, Timer B, Timer C, the
	 * server and client transaction limits */
	struct txn_settings txn;
	unsigned processors;      /* worker threads */

	/* proxy (RFC 3261 16) */
	bool force_rr;            /* "Force Dialog Relaying" */
	struct conf_route routes[CONF_MAX_ROUTES];
	int nroutes;
};

#define CONF_DEFAULT_INPUT_CHANNELS 1024
#define CONF_DEFAULT_IDLE_TIMEOUT 120
/* RFC 3261 18.1.1: 200 bytes under a 1500-byte path MTU */
#define CONF_DEFAULT_SIZE_LIMIT 1300
#define CONF_MAX_PROCESSORS 64

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
