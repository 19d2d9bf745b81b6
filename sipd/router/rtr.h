/*
 * rtr: the Router table.  Records "[Prefix:]address = target", one a
 * line, rewrite an address before sipd looks for a local account or a
 * destination; then the SIP routing rules classify what is left (an IP
 * literal, an External Gateway "name.sipgw", a host name) and strip a
 * ".udp", ".tcp" or ".tls" suffix into a transport.  Pure functions: no
 * I/O, no allocation, no state between calls; sipd/core applies them to
 * requests, the control plane to "router test".
 */
#ifndef SIPD_ROUTER_RTR_H
#define SIPD_ROUTER_RTR_H

#include <stdbool.h>
#include <stddef.h>

#define RTR_MAX_RECORDS 128
#define RTR_TEXT_MAX 256   /* a record's text */
#define RTR_ADDR_MAX 256   /* an address, "local@domain" */
#define RTR_LOOP_LIMIT 10  /* records applied to one address, at most */

/* Prefix flags of a record. */
#define RTR_F_SIGNAL 0x1  /* "Signal:": SIP only */
#define RTR_F_MAIL 0x2    /* "Mail:": never SIP */
#define RTR_F_ACCESS 0x4  /* "Access:": never SIP */
#define RTR_F_NORELAY 0x8 /* "NoRelay:": only for requests from clients */
#define RTR_F_MEDIA 0x10  /* "MediaRelay:": the call gets a media relay */
#define RTR_F_NOMEDIA 0x20 /* "NoMediaRelay:": the call gets none */

/* What the left side names. */
enum rtr_left {
	RTR_L_MAIN,   /* "<name>": a local part in the main domain */
	RTR_L_ADDR,   /* "name@domain": an address */
	RTR_L_DOMAIN, /* "domain": every address of a domain */
};

struct rtr_record {
	unsigned flags;
	enum rtr_left left_kind;
	char left[RTR_TEXT_MAX];  /* the pattern, without <> */
	char right[RTR_TEXT_MAX];
	char text[RTR_TEXT_MAX];  /* canonical: "NoRelay:Signal:<1*> = *@x" */
};

/*
 * Parse one record (a ';' starts a comment) into *r.  Returns 0, or
 * -EINVAL with a message naming the 1-based column of the fault in err.
 */
int rtr_parse(const char *text, struct rtr_record *r, char *err, size_t cap);

/* Does record r apply to SIP requests (not Mail: or Access: only)? */
bool rtr_applies_sip(const struct rtr_record *r);

/* Where an address goes once no record applies any more. */
enum rtr_kind {
	RTR_HOST,    /* a host name: a local domain, else DNS */
	RTR_IP,      /* an IP literal, in brackets for IPv6 */
	RTR_GATEWAY, /* "name.sipgw": the External Gateway name */
};

enum rtr_proto {
	RTR_PROTO_ANY, /* no suffix: the transport is chosen as usual */
	RTR_PROTO_UDP,
	RTR_PROTO_TCP,
	RTR_PROTO_TLS,
};

/* One rewrite: the record that applied and the address it made. */
struct rtr_step {
	int record; /* index in the table */
	char addr[RTR_ADDR_MAX];
};

struct rtr_result {
	char local[RTR_ADDR_MAX];  /* the local part, "" for none */
	char domain[RTR_ADDR_MAX]; /* the host, suffix stripped */
	char gateway[RTR_ADDR_MAX]; /* RTR_GATEWAY: its name */
	enum rtr_kind kind;
	enum rtr_proto proto;
	bool changed;      /* local part or domain differs from the input */
	bool by_record;    /* a record named the final domain */
	bool dotted;       /* RTR_HOST: the name holds a dot */
	bool norelay_skipped; /* a NoRelay record matched a non-client */
	/* RTR_F_MEDIA and RTR_F_NOMEDIA of the records that applied */
	unsigned media;
	int nsteps;
	struct rtr_step steps[RTR_LOOP_LIMIT];
};

/* What rtr_route() knows of the request. */
struct rtr_in {
	const char *main_domain; /* the first local domain, NULL for none */
	bool client;             /* from a client-ip, or authenticated */
};

/*
 * Route the address local@domain (domain NULL or "": local alone, or
 * "x%y" taken as x@y) through the records tab[0..n) and the SIP routing
 * rules into *out.  The first record that matches applies and the result
 * is routed again from the start, RTR_LOOP_LIMIT times at most.  Returns
 * 0, -ELOOP past the limit, -ENAMETOOLONG when a rewrite overflows.
 */
int rtr_route(const struct rtr_record *tab, int n, const struct rtr_in *in,
    const char *local, const char *domain, struct rtr_result *out);

/* "local@domain", or "domain" for an empty local part, into buf. */
const char *rtr_addr_str(const char *local, const char *domain, char *buf,
    size_t cap);

#endif
