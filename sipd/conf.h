/*
 * conf: sipd's configuration, read from a script of commands (the grammar
 * of proto/lex.h, one command per line, the commands of proto/commands.def
 * flagged CF_CONF).  sipd runs it at start and "sipd -t" only checks it;
 * the control socket runs the same commands on a copy (conf_apply()) and
 * writes the result back (conf_save()).  The commands are documented in
 * sipd.conf(5) and sipctl(8).
 */
#ifndef SIPD_CONF_H
#define SIPD_CONF_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "proto/cmd.h"
#include "sipd/acct/acct.h"
#include "sipd/dns/dns.h"
#include "sipd/log.h"
#include "sipd/msg/msg.h"
#include "sipd/router/rtr.h"
#include "sipd/transport/tp.h"
#include "sipd/txn/txn.h"
#include "sipd/wk/wk.h"

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
#define CONF_MAX_USERS 32
#define CONF_NAME_MAX 64    /* a user or group name */
#define CONF_METRICS_MAX 64 /* "[v6 address]:port" */
#define CONF_SERVER_MAX 128 /* the Server header's value */
#define CONF_MEDIA_PORTS_MAX 12 /* "20000-29999" */
#define CONF_DEFAULT_MEDIA_PORTS "20000-29999"
#define CONF_WORKER_PORTS_MAX 8 /* "off", "auto", "65535" */
#define CONF_DEFAULT_MEDIA_TIMEOUT 60
#define CONF_DEFAULT_SERVER "sipd"
#define CONF_DEFAULT_DIALOG_TIMEOUT 7200
#define CONF_DEFAULT_GW_BACKOFF 5
#define CONF_DEFAULT_GW_BACKOFF_MAX 900
#define CONF_CDR_FILE_NAME "cdr.csv"

/* "control socket-mode": the choices of its enum, in order */
enum conf_ctl_mode {
	CONF_CTL_MODE_0600,
	CONF_CTL_MODE_0660,
	CONF_CTL_MODE_0666,
};

struct cmd_args;

/*
 * An External Gateway (conf_gw.c): a SIP provider sipd registers with
 * and sends "number@NAME.sipgw" calls to.  Strings are "" when unset.
 */
#define CONF_MAX_GW 32
#define CONF_GW_NAME_MAX 64
#define CONF_GW_STR 256
#define CONF_GW_EVERY_MAX 86400
struct conf_gw {
	char name[CONF_GW_NAME_MAX];   /* letters and digits, unique */
	char domain[CONF_HOST_MAX];    /* the provider's SIP domain */
	char via[CONF_GW_STR];         /* a name, an IP or a SIP URI to
	                                * send to instead of the domain */
	char username[CONF_GW_STR];    /* "@domain" added when it has none */
	char password[CONF_GW_STR];    /* a secret: in the clear */
	char authname[CONF_GW_STR];    /* the Digest user, if not username */
	uint32_t register_every;       /* seconds; 0: do not register */
	char contact[CONF_GW_STR];     /* the local account registered;
	                                * "": name at the main domain */
	bool calls_auth;               /* Calls: Authenticate */
	bool subst_from;               /* Calls: Substitute From */
	bool subst_to;                 /* Calls: Substitute To */
};

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

/*
 * The ranges that head the nated list while "set nated-defaults" is on:
 * RFC 1918, RFC 6598 (shared address space, carrier-grade NAT) and the
 * RFC 4193 local addresses in use (fd00::/8).
 */
#define CONF_NATED_DEFAULTS                                                \
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",  \
	    "fd00::/8"

/*
 * A line of a Network Address List (lan, client-ip, nated; conf_net.c):
 * its addresses, its canonical text ("!10.0.0.1-10.0.0.9", "10.0.0.0/8",
 * "2001:db8::1") and its comment (after ";").
 */
#define CONF_NET_TEXT (2 * 46 + 4)
#define CONF_NET_COMMENT 96
#define CONF_NET_ADDR 46 /* INET6_ADDRSTRLEN */
/* NAT bindings of UDP are commonly dropped after 30 s of silence */
#define CONF_DEFAULT_NAT_KEEPALIVE 25
#define CONF_DEFAULT_NAT_KEEPALIVE_DROP 3

/* "set nat-keepalive-method": the choices of its enum, in order */
enum conf_nat_ka {
	CONF_NAT_KA_CRLF,
	CONF_NAT_KA_OPTIONS,
};
struct conf_net {
	struct tp_net net;
	char text[CONF_NET_TEXT];
	char comment[CONF_NET_COMMENT];
	bool dflt; /* listed: one of the ranges of "set nated-defaults" */
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

/*
 * "relay to-non-clients": whom requests from non-clients may be relayed
 * to (to a domain that is not local).  A client is a peer whose address is
 * in a client-ip range, or that authenticated as a local account.
 */
enum conf_relay {
	CONF_RELAY_ANYBODY, /* an open relay: warned about at start */
	CONF_RELAY_CLIENTS, /* only clients may relay (the default) */
	CONF_RELAY_NOBODY,  /* nobody: non-clients reach local accounts only */
};

/* "set media-relay": which calls get a media relay. */
enum conf_media_relay {
	CONF_MEDIA_RELAY_NEVER,
	CONF_MEDIA_RELAY_AUTO,   /* when a condition calls for one */
	CONF_MEDIA_RELAY_ALWAYS,
};

/* "set media-io": how the media relay's thread waits for packets. */
enum conf_media_io {
	CONF_MEDIA_IO_AUTO,  /* io_uring where built in and allowed, else epoll */
	CONF_MEDIA_IO_EPOLL, /* epoll (recvmmsg/sendmmsg) */
};

/* The registrar (RFC 3261 10.3), read by sipd/reg. */
struct conf_reg {
	/* Expires given to a binding when the REGISTER names none (10.3
	 * step 7), CONF_DEFAULT_REG_EXPIRES */
	uint32_t default_expires_s;
	/* shorter requested expirations are refused with 423 and
	 * Min-Expires (10.3 step 7), CONF_DEFAULT_REG_MIN_EXPIRES */
	uint32_t min_expires_s;
	/* longer ones are shortened to this, CONF_DEFAULT_REG_MAX_EXPIRES */
	uint32_t max_expires_s;
	/* the most contacts of one address-of-record,
	 * CONF_DEFAULT_REG_MAX_BINDINGS */
	uint32_t max_bindings;
	/* the SQLite file of the bindings, an absolute path; "" for
	 * CONF_REG_STORE_NAME in the run directory (/run/sipd as root, else
	 * $XDG_RUNTIME_DIR/sipd) */
	char store[CONF_PATH_MAX];
	/* bindings (and message-waiting counts) kept in the store, default
	 * true; false: in memory only, lost at a restart, and no store is
	 * opened (usrloc's db_mode 0) */
	bool durable;
};

/* Request authentication (RFC 7616 Digest), read by sipd/auth. */
struct conf_auth {
	/* how long a nonce is accepted, CONF_DEFAULT_AUTH_NONCE_LIFETIME */
	uint32_t nonce_lifetime_s;
	/* offer Digest (MD5 and SHA-256) in challenges, default true */
	bool advertise_digest;
	/* offer NTLM in challenges, default false */
	bool advertise_ntlm;
	/* offer SHA-256 (RFC 8760) besides MD5; default false, as some user
	 * agents (libre 1.1, baresip 1.0) give up on a response holding any
	 * challenge they cannot compute */
	bool sha256;
	/* list the SHA-256 challenge before the MD5 one (RFC 8760 2.4: the
	 * preferred first); default false, as many user agents read only
	 * the first challenge and know only MD5 */
	bool sha256_first;
	/* failures of one user and address within fail_window_s that start
	 * a penalty of fail_penalty_s during which every attempt is refused;
	 * 0: no limit.  Defaults CONF_DEFAULT_AUTH_FAIL_LIMIT, _WINDOW,
	 * _PENALTY */
	uint32_t fail_limit;
	uint32_t fail_window_s;
	uint32_t fail_penalty_s;
	/* accept digests without qop (RFC 2069, no replay protection);
	 * default false */
	bool rfc2069;
	/* challenges sent to one source a second, beyond which requests
	 * that would be challenged are dropped; 0: no limit.  Default
	 * CONF_DEFAULT_AUTH_CHALLENGE_RATE */
	uint32_t challenge_rate;
};

enum conf_log_out {
	CONF_LOG_AUTO,   /* stderr in the foreground, else syslog */
	CONF_LOG_STDERR,
	CONF_LOG_SYSLOG,
	CONF_LOG_FILE,
	CONF_LOG_JOURNAL, /* systemd's journal, with fields */
};

struct conf {
	struct conf_listener listeners[CONF_MAX_LISTENERS];
	int nlisteners;
	enum log_level levels[LOG__COMP_COUNT];
	struct msg_limits limits;

	/* transport (RFC 3261 18) */
	uint32_t udp_tos;         /* "UDP TOS Tag", 0-255, default 0 */
	uint32_t input_channels;  /* cap on inbound TCP/TLS connections */
	uint32_t idle_timeout_s;  /* close a connection quiet this long */
	uint32_t source_channels; /* per source address; 0: automatic */
	uint32_t first_msg_s;     /* a first message within this, or closed */
	uint32_t size_limit_lan;  /* "Request Size Limit" inside the LAN */
	uint32_t size_limit_wan;  /* and outside it (RFC 3261 18.1.1) */
	/* "set worker-ports": "off", "auto" or a worker's first port
	 * (conf_worker_ports()) */
	char worker_ports[CONF_WORKER_PORTS_MAX];
	struct conf_net lan[CONF_MAX_RANGES];
	int nlan;

	/* transactions (RFC 3261 17): T1, T2, T4, Timer B, Timer C, the
	 * server and client transaction limits */
	struct txn_settings txn;
	uint32_t processors;      /* worker threads */
	/* how long SIGTERM and "shutdown" let running transactions finish
	 * ("set stop-grace"), CONF_DEFAULT_STOP_GRACE */
	uint32_t stop_grace_s;

	/* proxy (RFC 3261 16) */
	bool force_rr;            /* "Force Dialog Relaying" */
	/* call records (sipd/cdr/cdr.h): on, the CSV file ("" for the
	 * state directory's CONF_CDR_FILE_NAME), its rotation size in
	 * bytes (0: never), the seconds a call lives without a request */
	struct conf_cdr {
		bool on;
		char file[CONF_PATH_MAX];
		uint32_t rotate_size;
		uint32_t dialog_timeout_s;
	} cdr;
	struct conf_route routes[CONF_MAX_ROUTES];
	int nroutes;
	/* the Router table ("router add"), applied top to bottom */
	struct rtr_record router[RTR_MAX_RECORDS];
	int nrouter;
	/* "set relay-via": "host[:port]" the final pass sends host names
	 * to instead, "" for none */
	char relay_via[CONF_HOST_MAX + 8];
	/* "set main-domain": a local domain's name or alias, "" for the
	 * first local domain (core_main_domain()) */
	char main_domain[CONF_HOST_MAX];
	/* the External Gateways ("gateway add"), by name */
	struct conf_gw gw[CONF_MAX_GW];
	int ngw;
	/* their registration's backoff: the first wait, and the cap */
	uint32_t gw_backoff_s;
	uint32_t gw_backoff_max_s;

	/* the resolver (RFC 3263, "dns ..."), per worker: the servers
	 * ("addr[:port],..."; "" for /etc/resolv.conf), the wait for one
	 * try, the tries, the cache's entries, the cap on negative caching
	 * (RFC 2308 5) and how long a failed target is avoided */
	struct conf_dns {
		char servers[DNS_SERVERS_MAX];
		uint32_t timeout_ms;
		uint32_t tries;
		uint32_t cache_size;
		uint32_t neg_ttl_s;
		uint32_t blacklist_s;
	} dns;

	/* relay policy: "relay to-non-clients" (default CONF_RELAY_CLIENTS)
	 * and the "Client IP" ranges (client-ip add), none by default */
	enum conf_relay relay_non_clients;
	/* "set auth-local-from": a request from a non-client whose From is
	 * in a local domain must authenticate (default on) */
	bool auth_local_from;
	struct conf_net client_ip[CONF_MAX_RANGES];
	int nclient_ip;
	/* far-end NAT: the ranges remote clients use behind their NATs
	 * ("nated add"), after the private ranges while "set
	 * nated-defaults" is on (the default) */
	struct conf_net nated[CONF_MAX_RANGES];
	int nnated;
	bool nated_defaults;
	/* the addresses sipd writes for itself (Via, Record-Route, SDP)
	 * toward peers in the LAN and outside it, "" for its own: a server
	 * behind a NAT that forwards its ports gives the NAT's */
	char lan_address[CONF_NET_ADDR];
	char wan_address[CONF_NET_ADDR];
	/* every this many seconds a UDP binding registered from behind a
	 * remote NAT gets a CRLF CRLF datagram that keeps the NAT's mapping
	 * open, CONF_DEFAULT_NAT_KEEPALIVE; 0: none */
	uint32_t nat_keepalive_s;
	/* "set nat-keepalive-method": a CRLF CRLF datagram, or an OPTIONS
	 * request whose answers are counted; "set nat-keepalive-drop": the
	 * OPTIONS unanswered in a row that drop the binding (0: never) */
	enum conf_nat_ka nat_keepalive_method;
	uint32_t nat_keepalive_drop;

	/* outgoing TLS: the CA file servers are checked against ("" for the
	 * system's store) and whether they are checked at all (default on) */
	char tls_client_ca[CONF_PATH_MAX];
	bool tls_client_verify;

	/* the registrar ("set reg-...") and authentication ("set auth-...") */
	struct conf_reg reg;
	struct conf_auth auth;

	/*
	 * The local domains and accounts (domain ..., account ...): one
	 * reference to an immutable snapshot (sipd/acct/acct.h), NULL while
	 * there is no domain.  A struct conf owns its reference: copy one
	 * with conf_copy() and release it with conf_fini().  A plain struct
	 * assignment borrows the pointer, valid while the original holds it.
	 * Workers get it through workers_configure() -> core_configure() on
	 * their own threads; the control plane drops the old snapshot only
	 * after every worker has been given the new one.
	 */
	struct acct *acct;

	/* the device workarounds (workaround product/site ...) */
	struct wk wk;

	/* where log lines go (log output); file: log_file */
	enum conf_log_out log_out;
	char log_file[CONF_PATH_MAX];

	/* the control socket (control ...): its path ("" for the default),
	 * the users allowed besides root and sipd's own, the frame limit */
	char ctl_socket[CONF_PATH_MAX];
	uid_t ctl_allow[CONF_MAX_USERS];
	int nctl_allow;
	uint32_t ctl_max_frame;

	/* save each change made through the control socket at once
	 * (config autosave), else only on "config save" */
	bool autosave;

	/* conf_load() added the default listener: the file names none */
	bool listener_implied;

	/* the process (conf_proc.c): the socket's mode (enum
	 * conf_ctl_mode: conf_ctl_mode_bits() gives 0600, 0660 or 0666)
	 * and group ("" for the run group), the user and group sipd runs
	 * as once started ("" for no change), the Server header's value
	 * ("" for none) */
	int ctl_mode;
	char ctl_group[CONF_NAME_MAX];
	char run_user[CONF_NAME_MAX];
	char run_group[CONF_NAME_MAX];
	char server_header[CONF_SERVER_MAX + 1];
	/* the Prometheus endpoint's "address:port" (sipd/ctl/metrics.c),
	 * "" for none */
	char metrics_listen[CONF_METRICS_MAX];

	/* the media relay (set media-...): its UDP ports "MIN-MAX", the
	 * seconds a relay may carry no packet, whether a new SSRC from
	 * another source moves a leg's latch (sipd/media/media.h) */
	char media_ports[CONF_MEDIA_PORTS_MAX];
	uint32_t media_timeout_s;
	bool media_relatch;
	bool media_strict_latch;
	enum conf_media_io media_io;
	/* which calls get a relay (sipd/core/media.c): never, those the
	 * conditions below (or a routing decision) call for, or all; and
	 * the conditions: LAN<->WAN, a side behind a remote NAT, IPv4<->IPv6 */
	enum conf_media_relay media_relay;
	bool media_relay_lan, media_relay_nat, media_relay_family;
	/* the HEP collector's "address:port" (sipd/ctl/hep.c), "" for
	 * none, and the capture agent id sent to it */
	char hep_server[CONF_METRICS_MAX];
	uint32_t hep_id;
};

#define CONF_DEFAULT_INPUT_CHANNELS 1024
#define CONF_DEFAULT_IDLE_TIMEOUT 120
#define CONF_DEFAULT_FIRST_MESSAGE 5
/* source-channels 0: this fraction of input-channels, at least 1 */
#define CONF_SOURCE_CHANNELS_SHARE 16

/* The per-source connection limit in force for c. */
uint32_t conf_source_channels(const struct conf *c);
/* RFC 3261 18.1.1: 200 bytes under a 1500-byte path MTU */
#define CONF_DEFAULT_SIZE_LIMIT 1300
#define CONF_MAX_PROCESSORS 64
/* a short stop by default; 32 (64*T1, RFC 3261 17.1.2.2) lets every
 * non-INVITE transaction run its course */
#define CONF_DEFAULT_STOP_GRACE 2
#define CONF_DEFAULT_MAX_FRAME (1024 * 1024)
#define CONF_DEFAULT_REG_EXPIRES 3600
#define CONF_DEFAULT_REG_MIN_EXPIRES 60
#define CONF_DEFAULT_REG_MAX_EXPIRES 86400
#define CONF_DEFAULT_REG_MAX_BINDINGS 10
#define CONF_REG_STORE_NAME "registrations.db"
#define CONF_DEFAULT_AUTH_NONCE_LIFETIME 300
#define CONF_DEFAULT_AUTH_FAIL_LIMIT 10
#define CONF_DEFAULT_AUTH_FAIL_WINDOW 60
#define CONF_DEFAULT_AUTH_FAIL_PENALTY 300
#define CONF_DEFAULT_AUTH_CHALLENGE_RATE 100

/* The defaults: no listener yet, every component at LOG_DEFAULT_LEVEL,
 * no domain (c->acct NULL), every setting at its default.  Allocates
 * nothing. */
void conf_init(struct conf *c);

/*
 * The settings of proto/settings.def, in sipd/settings.c: each one's
 * command, field, default and when it applies.
 */
enum conf_set_type {
	CONF_SET_U32,
	CONF_SET_BOOL,
	CONF_SET_ENUM,
	CONF_SET_PATH,
	CONF_SET_STR,
};

struct conf_setting {
	enum cmd_id cmd;
	const char *key;    /* its name in "show settings" */
	enum conf_set_type type;
	size_t off;         /* of its field in struct conf */
	size_t size;        /* of its field */
	uint32_t dflt;      /* a number, bool or enum member; 0 for a path */
	const char *dstr;   /* STR: the default */
	bool next_start;    /* applies at the next start, not at once */
	/* STR: refuse a bad value with a message in err */
	int (*check)(const char *v, char *err, size_t cap);
	const char *empty;  /* STR: the word for no value, or NULL */
};

extern const struct conf_setting conf_settings[];
extern const int conf_nsettings;

/* The setting that command id sets, or NULL. */
const struct conf_setting *conf_setting_of(enum cmd_id id);

/* Set every setting of c to its default. */
void conf_settings_init(struct conf *c);

/*
 * Apply a setting's command a to c.  Returns 0, or -EINVAL with a message
 * in err (a path that is not absolute or too long); c is then unchanged.
 */
int conf_setting_apply(struct conf *c, const struct conf_setting *s,
    const struct cmd_args *a, char *err, size_t cap);

/* Is s in c set to something other than its default? */
bool conf_setting_changed(const struct conf *c, const struct conf_setting *s);

/* The value of s in c as the command's argument ("500", "on", "clients",
 * "default" for an unset path) into buf; returns buf. */
const char *conf_setting_text(const struct conf *c,
    const struct conf_setting *s, char *buf, size_t cap);

/* Its default the same way. */
const char *conf_setting_default_text(const struct conf_setting *s,
    char *buf, size_t cap);

/* Its value as a number (U32, BOOL, ENUM). */
uint32_t conf_setting_value(const struct conf *c,
    const struct conf_setting *s);

/* Write the command of every setting c changes from its default (all:
 * of every setting). */
void conf_settings_dump(const struct conf *c, FILE *f, bool all);

/* Release what c owns (its account snapshot); c->acct becomes NULL, so a
 * second call does nothing. */
void conf_fini(struct conf *c);

/* *dst = *src, with dst's own reference to the account snapshot. */
void conf_copy(struct conf *dst, const struct conf *src);

/* Does c hold secrets (password digests)?  Then its file must be 0600. */
bool conf_has_secrets(const struct conf *c);

/*
 * Apply one configuration command (a CF_CONF command of the table, its
 * arguments parsed and checked) to c.  Returns 0, or a negative errno
 * with a message in err[0..cap): -EINVAL (a bad value), -EEXIST,
 * -ENOENT, -EBUSY (a limit reached, the last listener).  On failure c is
 * unchanged.
 */
int conf_apply(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);

/*
 * Run one command line in[0..len) against c.  Blank and comment lines do
 * nothing; a command that is not allowed in the file (not CF_CONF) is an
 * error.  Returns 0, or a negative errno with a message (no file or line)
 * in err[0..cap).
 */
int conf_exec(struct conf *c, const char *in, size_t len, char *err,
    size_t cap);

/*
 * conf_init(), then run every line of the file at path, stopping at the
 * first error; then, when no listener was configured, add the default
 * (udp 127.0.0.1:5060).  Returns 0 (release c with conf_fini()), or a
 * negative errno with "PATH:LINE: message" (or "PATH: message" when the
 * file cannot be read) in err[0..cap) and nothing to release.
 */
int conf_load(struct conf *c, const char *path, char *err, size_t cap);

/*
 * Write c as a script of commands that conf_load() turns back into c:
 * every setting that differs from the default, every listener, range and
 * route.  Without secrets, each password digest is written as
 * CONF_HIDDEN (what "show config" gives a user who may only read); such
 * a listing does not load.  Returns 0 or -EIO.
 */
#define CONF_HIDDEN "hidden"
int conf_dump(const struct conf *c, FILE *f, bool secrets);

/* The same, with all: every setting, log level and output too, at its
 * default or not (what conf_render() compares). */
int conf_dump_all(const struct conf *c, FILE *f, bool all, bool secrets);

/*
 * Write c to path atomically: a temporary file in the same directory,
 * fsync, the previous file kept as path.bak, rename.  The file keeps the
 * mode of the one it replaces (0600 for a new one), except that when c
 * holds secrets (conf_has_secrets()) group and others lose every access;
 * path.bak always does.  Returns 0 or a negative errno with a message in
 * err[0..cap).
 */
int conf_save(const struct conf *c, const char *path, char *err, size_t cap);

/*
 * The process settings (conf_proc.c): the checks of "set user", "set
 * group", "control socket-group" and "set server-header" (settings.def),
 * and the mode bits of "control socket-mode".  conf_proc_ids() and
 * conf_proc_gid() resolve a user or group name (or number): 0 or
 * -ENOENT.
 */
int conf_proc_check_user(const char *v, char *err, size_t cap);
int conf_proc_check_group(const char *v, char *err, size_t cap);
int conf_proc_check_server(const char *v, char *err, size_t cap);
int conf_proc_check_metrics(const char *v, char *err, size_t cap);
int conf_proc_check_hep(const char *v, char *err, size_t cap);

/*
 * "192.0.2.1:9100" or "[2001:db8::1]:9100" (an IP literal and a port,
 * 1 to 65535): the address into host[0..cap) without brackets, the port
 * into *port.  Returns 0 or -EINVAL.
 */
int conf_proc_hostport(const char *v, char *host, size_t cap,
    uint16_t *port);

/* conf_router.c: "router add" and "router remove" on c, by the table
 * engine; "set relay-via" refusing what is not "address[:port]".  0 or a
 * negative errno with a message in err.  The codec of a record (its text,
 * by rtr_parse()) and the "router add" lines of the table. */
int conf_router_add(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
int conf_router_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
int conf_router_parse_record(void *row, const char *v, char *err,
    size_t cap);
void conf_router_text_record(const void *row, char *buf, size_t cap);
void conf_router_dump(const struct conf *c, FILE *f);
int conf_router_check_via(const char *v, char *err, size_t cap);
/* "set main-domain": refuses what is not a domain name. */
int conf_router_check_domain(const char *v, char *err, size_t cap);
/* Log, once a process, that "route add" gives way to "router add". */
void conf_router_route_deprecated(void);

/*
 * The table engine (conf_table.c): the tables of proto/tables.def whose
 * rows are one structure, handled from their declaration.  For each field
 * of tbl_fields[], where a row keeps it (off, size; size 0: a codec, the
 * place or the kind), the check of a str value and the view listing it.
 */
typedef int conf_tcheck_fn(const char *v, char *err, size_t cap);
typedef void conf_tview_fn(const void *row, char *buf, size_t cap);
typedef int conf_tparse_fn(void *row, const char *v, char *err, size_t cap);
struct tbl;
struct tbl_field;
/* How a field is listed: the AT column's macro (tables.def). */
enum conf_tlist {
	CONF_TL_TEXT,  /* AT, CODEC: as its type says */
	CONF_TL_WORDS, /* AT_WORDS: an array of its blank-separated words */
	CONF_TL_SET,   /* AT_SET: a boolean, whether its listed value is set */
};
struct conf_tfield {
	size_t off, size;
	conf_tparse_fn *parse; /* a codec (CODEC column): its text into row, */
	conf_tview_fn *text;   /* and back */
	bool place;            /* PLACE: the row's place in the table, from 1 */
	enum conf_tlist list;  /* how the list shows it */
	conf_tcheck_fn *check;
	conf_tview_fn *view;
	bool kind; /* KIND: the last of the table's words */
};
const struct conf_tfield *conf_tfield(const struct tbl_field *f);
/* Does a row keep f, in a member of its type's size? */
bool conf_tfield_stored(const struct tbl_field *f);
/* Fill row[0..size) with the declared defaults of the fields add takes,
 * the others zero.  0 or -EINVAL. */
int conf_row_init(const struct tbl *t, void *row, size_t size);
/* Set field name of row from its text v, checked; nothing changes on an
 * error.  0, or -EINVAL with a message naming the field. */
int conf_row_set(const struct tbl *t, void *row, const char *name,
    const char *v, char *err, size_t cap);
/* Field f of row as text: a str as it is, a uint in decimal, on or off. */
void conf_row_text(const struct tbl_field *f, const void *row, char *buf,
    size_t cap);
/* The row of rows[0..n) (each size bytes) with the keys of a (any case;
 * a key kept by a codec compared as the codec writes it back; in a table
 * with a PLACE field, a first key of digits alone is a place), or -1. */
int conf_rows_find(const struct tbl *t, const void *rows, int n,
    size_t size, const struct cmd_args *a);
/* "T add", "T set KEY field value" and "T remove KEY" on rows[0..*n) of
 * at most max: every value checked first (nothing changes on an error:
 * 0, or -EINVAL, -EEXIST, -ENOENT, -EBUSY with a message). */
int conf_rows_add(const struct tbl *t, void *rows, int *n, int max,
    size_t size, const struct cmd_args *a, char *err, size_t cap);
int conf_rows_set(const struct tbl *t, void *rows, int n, size_t size,
    const struct cmd_args *a, char *err, size_t cap);
int conf_rows_remove(const struct tbl *t, void *rows, int *n, size_t size,
    const struct cmd_args *a, char *err, size_t cap);
/* The "T add" line of row: the positional fields, then each other that
 * is not its default; a secret CONF_HIDDEN without secrets. */
void conf_row_dump(const struct tbl *t, const void *row, bool secrets,
    FILE *f);
/* Does row hold a secret? */
bool conf_row_has_secrets(const struct tbl *t, const void *row);
/*
 * A table's own rules beyond its fields' (conf_table.c's thooks[], one
 * line a table): check is given the row as "T add" or "T set" would
 * leave it, every field set, and refuses it with a message naming the
 * field at fault; remove is asked before rows[i] of rows[0..n) goes.
 * Either 0 or a negative errno with a message; NULL: none.  What a
 * change does to the running daemon (a listener's socket) follows from
 * the new configuration (ctl_conf_apply()), not from a hook.
 */
typedef int conf_trow_fn(const void *row, char *err, size_t cap);
typedef int conf_tremove_fn(const void *rows, int n, int i, char *err,
    size_t cap);
struct conf_thooks {
	conf_trow_fn *check;
	conf_tremove_fn *remove;
	/* storage: for a table kept outside struct conf's arrays, its row
	 * structure's size and how a row checked by the engine is stored
	 * (put) and taken out (del: a row of the keys alone); each 0 or a
	 * negative errno with a message */
	size_t size;
	int (*put)(struct conf *c, const void *row, char *err, size_t cap);
	int (*del)(struct conf *c, const void *row, char *err, size_t cap);
};
/* "T add" and "T remove" on a table with storage hooks: every value of
 * a set by its field (a refused one named), the row checked, then put or
 * del.  0, or a negative errno with a message. */
int conf_table_add(const struct tbl *t, struct conf *c,
    const struct cmd_args *a, char *err, size_t cap);
int conf_table_remove(const struct tbl *t, struct conf *c,
    const struct cmd_args *a, char *err, size_t cap);

/* conf_acct.c: a domain and an account as rows of their tables
 * (tables.def), filled from the snapshot by conf_domain_row() and
 * conf_account_row(); their storage hooks (c->acct); the password listed
 * as whether the account has digests; the domains' and accounts' lines,
 * digests CONF_HIDDEN without secrets. */
struct conf_domain {
	char domain[ACCT_DOMAIN_MAX + 1];
	bool enabled;
	uint32_t accounts;
	char aliases[ACCT_MAX_ALIASES * (ACCT_DOMAIN_MAX + 1)];
};
void conf_domain_row(const struct acct_domain_info *di,
    struct conf_domain *row);
int conf_domain_put(struct conf *c, const void *row, char *err,
    size_t cap);
int conf_domain_del(struct conf *c, const void *row, char *err,
    size_t cap);
struct conf_account {
	char account[ACCT_USER_MAX + 1 + ACCT_DOMAIN_MAX + 1];
	bool enabled;
	char aliases[ACCT_MAX_ALIASES * (ACCT_USER_MAX + 1)];
	char forward[ACCT_URI_MAX + 1];
	char password[ACCT_PASSWORD_MAX + 1];
	char ha1_md5[ACCT_HA1_MAX + 1];
	char ha1_sha256[ACCT_HA1_MAX + 1];
};
void conf_account_row(const struct acct_account_info *ai,
    struct conf_account *row);
int conf_account_put(struct conf *c, const void *row, char *err,
    size_t cap);
int conf_account_del(struct conf *c, const void *row, char *err,
    size_t cap);
conf_tview_fn conf_account_view_password;
void conf_acct_dump(const struct acct *a, bool secrets, FILE *f);

/* conf_listener.c: the listeners' (tables.def) transport and address
 * codecs and their rules (struct conf_thooks); "listener add" and
 * "listener remove" on c; the "listener add" lines; "a.b.c.d:port" or
 * "[v6]:port" into a socket address (0 or -EINVAL). */
conf_tparse_fn conf_listener_parse_transport, conf_listener_parse_address;
conf_tview_fn conf_listener_text_transport, conf_listener_text_address;
conf_trow_fn conf_listener_check;
conf_tremove_fn conf_listener_removable;
int conf_listener_add(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
int conf_listener_remove(struct conf *c, const struct cmd_args *a,
    char *err, size_t cap);
void conf_listener_dump(const struct conf *c, FILE *f);
/*
 * "set worker-ports" (conf_listener.c): conf_worker_ports() reads v,
 * "off", "auto" or a port from 1024 to 65535, into *first: -1 for off,
 * 0 for auto (worker i on a UDP listener's port + 1 + i), else worker i
 * on first + i; returns 0 or -EINVAL.  The check of the setting
 * (settings.def) says why a value is refused.
 */
int conf_worker_ports(const char *v, int *first);
int conf_listener_check_worker_ports(const char *v, char *err, size_t cap);
int conf_hostport(const char *s, struct sockaddr_storage *ss,
    socklen_t *len);

/* conf_gw.c: "gateway add", "gateway set" and "gateway remove" on c, each
 * checking every value (nothing changes on an error: 0 or a negative
 * errno with a message in err); the listing; lookups. */
int conf_gw_add(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
int conf_gw_set(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
int conf_gw_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
/* conf_router.c: the forwarding rules' (tables.def) domain check and
 * the codecs of their target and transport; "route add" and "route
 * remove" on c; the "route add" lines. */
conf_tcheck_fn conf_route_check_domain;
conf_tparse_fn conf_route_parse_target, conf_route_parse_transport;
conf_tview_fn conf_route_text_target, conf_route_text_transport;
int conf_route_add(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
int conf_route_remove(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
void conf_route_dump(const struct conf *c, FILE *f);
/* Is s[0..len) a host name (letters, digits, '-', '.') or an IP
 * literal? */
bool conf_hostname_ok(const char *s, size_t len);

/* conf_wk.c: the checks and codecs of the workaround tables' fields
 * (tables.def), "workaround product|site add|remove" on c by the table
 * engine (0 or a negative errno with a message in err), their lines. */
conf_tcheck_fn conf_wk_check_pattern, conf_wk_check_site;
conf_tparse_fn conf_wk_parse_product, conf_wk_parse_site;
conf_tview_fn conf_wk_text_methods;
int conf_wk_cmd(struct conf *c, const struct cmd_args *a, char *err,
    size_t cap);
void conf_wk_dump(const struct conf *c, FILE *f);

/* The checks and view of the gateway fields (tables.def). */
conf_tcheck_fn conf_gw_check_name, conf_gw_check_host, conf_gw_check_via,
    conf_gw_check_user, conf_gw_check_password, conf_gw_check_contact;
conf_tview_fn conf_gw_view_user;
/* "gateway add ..." lines, the password CONF_HIDDEN without secrets. */
void conf_gw_dump(const struct conf *c, FILE *f, bool secrets);
/* Does a gateway hold a password? */
bool conf_gw_has_secrets(const struct conf *c);
/* The gateway named name (any case), or NULL.  Inline, as the helpers
 * below: the core reads gateways without linking the configuration. */
static inline const struct conf_gw *
conf_gw_find(const struct conf *c, const char *name)
{
	for (int i = 0; i < c->ngw; i++) {
		if (strcasecmp(c->gw[i].name, name) == 0) {
			return &c->gw[i];
		}
	}
	return NULL;
}

/* The username with "@domain" when it has no "@" ("" when unset). */
static inline void
conf_gw_user(const struct conf_gw *g, char *out, size_t cap)
{
	if (g->username[0] == '\0' || strchr(g->username, '@') != NULL) {
		snprintf(out, cap, "%s", g->username);
	} else {
		snprintf(out, cap, "%s@%s", g->username, g->domain);
	}
}

/* The Digest user: the authname, else the username's user part. */
static inline void
conf_gw_authuser(const struct conf_gw *g, char *out, size_t cap)
{
	const char *at = strchr(g->username, '@');

	if (g->authname[0] != '\0') {
		snprintf(out, cap, "%s", g->authname);
		return;
	}
	snprintf(out, cap, "%.*s",
	    at ? (int)(at - g->username) : (int)strlen(g->username),
	    g->username);
}

/* The URI requests to the gateway are resolved from: Via itself when a
 * SIP URI, else "sip:VIA", else "sip:DOMAIN". */
static inline void
conf_gw_target(const struct conf_gw *g, char *out, size_t cap)
{
	if (strncasecmp(g->via, "sip:", 4) == 0 ||
	    strncasecmp(g->via, "sips:", 5) == 0) {
		snprintf(out, cap, "%s", g->via);
	} else {
		snprintf(out, cap, "sip:%s",
		    g->via[0] != '\0' ? g->via : g->domain);
	}
}
/* "host", "host:port", "[v6]" or "[v6]:port" (an IP address) into r:
 * 0, -EDESTADDRREQ for a name, -EINVAL. */
int conf_route_host(const char *s, struct conf_route *r);
unsigned conf_ctl_mode_bits(const struct conf *c);
int conf_proc_ids(const char *user, uid_t *uid, gid_t *gid);
int conf_proc_gid(const char *group, gid_t *gid);

/*
 * The resolver's settings (conf_dns.c): the check of "dns server" (a list
 * c-ares accepts, as dns_conf_check() says), and c's settings as the
 * resolver's parameters.
 */
int conf_dns_check_servers(const char *v, char *err, size_t cap);
void conf_dns_resolver(const struct conf *c, struct dns_conf *out);

/*
 * The media relay's port range (conf_media.c): conf_media_ports() reads
 * "MIN-MAX" (1024 to 65535, room for an even RTP port and the RTCP port
 * after it) into *min and *max: 0 or -EINVAL.  conf_media_check_ports()
 * is the check of "set media-ports" (settings.def).
 */
int conf_media_ports(const char *v, uint16_t *min, uint16_t *max);
int conf_media_check_ports(const char *v, char *err, size_t cap);

/* "udp 127.0.0.1:5060" into buf (TP_ADDRSTRLEN + 8 bytes). */
const char *conf_listener_str(const struct conf_listener *l, char *buf,
    size_t cap);
/*
 * The Network Address Lists (conf_net.c).  conf_net_parse() reads one
 * line, "[!]address|a-b|addr/n [; comment]", into out: 0, or -EINVAL with
 * a message in err (host bits set, ends out of order, a bad address).
 * conf_net_canon() writes a line's canonical text into buf: 0 or
 * -EINVAL.  conf_net_cmd() runs "lan|client-ip|nated add|remove" by the
 * table engine (add: at the end; remove: the line of the same canonical
 * range).  conf_net_dump() writes the three lists as commands, in order.
 * The codecs of the tables' fields (tables.def): a range is a whole line,
 * its comment after ';' kept with it; a comment is given after ';' and
 * listed without it.
 */
int conf_net_parse(const char *line, struct conf_net *out, char *err,
    size_t cap);
int conf_net_canon(const char *s, char *buf, size_t cap);
int conf_net_cmd(struct conf *c, const struct cmd_args *a, bool add,
    char *err, size_t cap);
conf_tparse_fn conf_net_parse_range, conf_net_parse_comment;
conf_tview_fn conf_net_text_range, conf_net_text_comment,
    conf_net_view_comment;
void conf_net_dump(const struct conf *c, FILE *f);
/* The check of "set lan-address" and "set wan-address": an IPv4 or IPv6
 * address (no brackets, no port), not a wildcard. */
int conf_net_check_addr(const char *v, char *err, size_t cap);
/*
 * An argument's value as the configuration writes it back: an address
 * and port or a range in its canonical form ("[::1]:5060",
 * "10.0.0.0/8"), anything else as it is.  Returns buf.
 */
const char *conf_canon_arg(enum cmd_type type, const char *val, char *buf,
    size_t cap);

/*
 * The configuration file at path rewritten for c: every line that c
 * agrees with is kept byte for byte, comments and blank lines included;
 * a changed setting or entry is rewritten in place, a removed one is
 * dropped, a new one goes after the last line of its kind (or at the
 * end).  With no readable file, the whole of conf_dump() under a header.
 * Returns 0 with the text in *out (malloc'ed, NUL-terminated; free()
 * it) or a negative errno with a message in err.
 */
int conf_render(const struct conf *c, const char *path, char **out,
    char *err, size_t cap);

/*
 * What conf_save() would change in the file at path: "-" and "+" lines
 * after "@@ line N" headers, nothing when they agree.  Returns 0 with
 * malloc'ed text in *out, or a negative errno with a message in err.
 */
int conf_diff(const struct conf *c, const char *path, char **out,
    char *err, size_t cap);

/*
 * The key of one command line: what it sets ("set t1", "listener add udp
 * 127.0.0.1:5060"), whatever command touches it ("listener remove" keys
 * as the entry it removes).  Returns 0, or -EINVAL ("" in key) for a
 * blank, comment or bad line, or -ENOMEM.
 */
int conf_line_key(const char *line, size_t len, char *key, size_t cap);

/*
 * A reload (conf_reload.c).  conf_reload_diff(): the commands that turn
 * cur into next, one a line ("" when they agree): the entries next
 * lacks as the commands that remove them (last first), then next's
 * listing lines that cur's lacks, in order, password digests hidden.
 * Returns 0 with malloc'ed text in *out, or a negative errno.
 * conf_reload_line(): the line of the file at path that gives the command
 * cmd[0..len) (the last one with its key), or 0.  conf_reload_blame():
 * that line for the first of changes whose value msg names (an error met
 * while applying them), or 0.
 */
int conf_reload_diff(const struct conf *cur, const struct conf *next,
    char **out);
unsigned conf_reload_line(const char *path, const char *cmd, size_t len);
unsigned conf_reload_blame(const char *path, const char *changes,
    const char *msg);

/* "host:port" of a route, "host" when the port is 0. */
const char *conf_route_target(const struct conf_route *r, char *buf,
    size_t cap);

#endif
