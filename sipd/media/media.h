/*
 * media: the RTP/RTCP relay and the SDP it rewrites (RFC 4566, RFC 3264,
 * RFC 3605).
 *
 * The relay engine (struct media) owns a pool of UDP ports and the relays
 * made of them.  A relay has two legs, A and B; each leg is a pair of
 * sockets on one of sipd's addresses (IPv4 or IPv6), RTP on an even port
 * and RTCP on the next.  What endpoint A sends to leg A goes out of leg B
 * to endpoint B, and the other way round.  The engine runs on a thread of
 * its own (never a SIP worker) and moves packets over io_uring where the
 * build and the kernel have it (a multishot read per socket, the sends of
 * a round in one call: uring.c), else with recvmmsg() and sendmmsg().
 *
 * Latching: each leg sends to the source of the first packet it received
 * from its endpoint (before that, to the address the endpoint's SDP gave,
 * if any); a packet from another source is ignored unless it carries
 * another SSRC than the latched stream, which moves the latch (a phone
 * that changed its NAT binding restarts its stream).  A re-INVITE that
 * moves an endpoint calls media_relay_update(), which forgets the latch.
 * Strict latching (media_settings.strict_latch) sends nothing to a leg's
 * endpoint before a packet from its SDP address latched the leg, and
 * latches (or moves the latch to) only sources at that address, whatever
 * their port: an SDP that names somebody else's address gets that
 * address no packet.
 *
 * A relay that carries no packet, in either direction, for the timeout is
 * freed by the engine; freeing closes its ports at once.
 *
 * The SIP side calls media_relay_new(), _update(), _free() and the
 * lookups from any thread: the engine locks inside.  The engine's id of a
 * relay is what "show media" shows and "media close ID" takes.
 *
 * One call through the relay (RFC 3264 offer/answer), leg A toward the
 * caller and leg B toward the callee, one relay per media line relayed:
 *   offer:  sdp_parse(); per UDP media line, sdp_media_peer() gives the
 *           caller's address; media_relay_new() with A = { sipd's address
 *           toward the caller, that peer } and B = { sipd's address
 *           toward the callee, NULL }; sdp_rewrite() with B's address and
 *           ports goes to the callee (sipd/core/media.c: the relays are
 *           bound to the call, media_relay_bind()).  -ENOSPC: the
 *           branch is refused with 488.
 *   answer: sdp_parse(); media_relay_update(id, MEDIA_LEG_B, { peer from
 *           the answer }); sdp_rewrite() with A's address and ports goes
 *           to the caller.
 *   re-INVITE or UPDATE: media_relay_update() of the leg whose endpoint
 *           sent the new SDP; BYE, CANCEL or a final non-2xx:
 *           media_call_free().  The timeout frees what the dialog did
 *           not.
 *
 * sdp_*: the SDP parser and rewriter.  It reads a body (never writes it),
 * records where each c=, m= and a=rtcp value lies, and writes a new body
 * with the relay's address and ports.  It knows no socket.
 */
#ifndef SIPD_MEDIA_H
#define SIPD_MEDIA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* -------------------------------------------------------------- relay */

#define MEDIA_DEFAULT_PORT_MIN 20000
#define MEDIA_DEFAULT_PORT_MAX 29999
#define MEDIA_DEFAULT_TIMEOUT_S 60
/* Relays at most: four ports each fill every port there is. */
#define MEDIA_MAX_RELAYS 16384

struct media;

struct media_settings {
	uint16_t port_min, port_max; /* the pool, both included */
	uint32_t timeout_s;          /* no packet for this long: freed */
	bool relatch_ssrc;           /* another SSRC moves the latch */
	/* strict latching: a leg latches only a source at the address its
	 * endpoint's SDP gave (any port), and sends nothing before */
	bool strict_latch;
	/* the thread's loop is epoll even where io_uring is there (read
	 * when the thread starts) */
	bool epoll_only;
	/* the clock, in milliseconds (tests); NULL: CLOCK_MONOTONIC */
	uint64_t (*clock_ms)(void *arg);
	void *clock_arg;
	/*
	 * Called on the engine's thread, with no lock held, when the engine
	 * frees a relay by itself (timeout); NULL: nobody is told.
	 */
	void (*expired)(void *arg, uint32_t id);
	void *expired_arg;
};

/* The defaults above. */
void media_settings_default(struct media_settings *s);

/*
 * An engine with settings s, no thread yet.  Returns NULL with a message
 * in err[0..cap).
 */
struct media *media_new(const struct media_settings *s, char *err,
    size_t cap);

/* Start the engine's thread.  Returns 0 or a negative errno. */
int media_start(struct media *m);

/* How the started thread moves packets: "io_uring" or "epoll". */
const char *media_io(const struct media *m);

/* Stop and join the thread (relays stay).  Accepts a stopped engine. */
void media_stop(struct media *m);

/* Stop the thread, free every relay (closing its ports).  Accepts NULL. */
void media_free(struct media *m);

/*
 * Apply new settings: the range serves the relays made from now on, the
 * timeout every relay.  Returns 0, or -EINVAL with a message in
 * err[0..cap) (a range with no room for one RTP/RTCP pair) and nothing
 * changed.
 */
int media_configure(struct media *m, const struct media_settings *s,
    char *err, size_t cap);

/*
 * One round of the engine: wait at most timeout_ms for packets, relay
 * them, and free the relays whose time is up.  The thread loops on it;
 * tests without a thread call it themselves.  One caller at a time.
 * Returns the packets relayed, or a negative errno.
 */
int media_poll(struct media *m, int timeout_ms);

enum media_leg_id {
	MEDIA_LEG_A,
	MEDIA_LEG_B,
};

/* What the SIP side knows of one leg when it creates or moves it. */
struct media_leg_conf {
	/* sipd's address the leg's ports are bound on (port ignored) */
	const struct sockaddr *local;
	/* where the endpoint said it receives RTP (SDP c= and m=); NULL or
	 * port 0: nowhere until the endpoint's first packet latches it */
	const struct sockaddr *peer;
	/* where it receives RTCP (a=rtcp, RFC 3605); NULL: peer's port + 1 */
	const struct sockaddr *peer_rtcp;
};

/* The ports a new relay took, to write into each side's SDP. */
struct media_alloc {
	uint32_t id;
	/* each leg's RTP address and port; RTCP is on port + 1 */
	struct sockaddr_storage local[2];
};

/*
 * A relay between legs a and b.  Fills *out.  Returns 0; -ENOSPC when
 * the port pool has no free pair for a leg ("media ports exhausted");
 * -EBUSY at MEDIA_MAX_RELAYS; -EAFNOSUPPORT for a local address that is
 * not IPv4 or IPv6, or a peer of another family than its leg's local
 * address; another negative errno when a socket fails.  Nothing is left
 * open on failure.
 */
int media_relay_new(struct media *m, const struct media_leg_conf *a,
    const struct media_leg_conf *b, struct media_alloc *out);

/*
 * Move leg's endpoint (a re-INVITE or UPDATE with new SDP): the latch is
 * forgotten and packets go to peer until the endpoint's next packet
 * latches again.  Only peer and peer_rtcp of conf are read (the leg
 * keeps its local address and ports).  Returns 0, -ENOENT, or
 * -EAFNOSUPPORT for a peer of another family than the leg.
 */
int media_relay_update(struct media *m, uint32_t id, enum media_leg_id leg,
    const struct media_leg_conf *conf);

/* Free relay id and close its ports.  Returns 0 or -ENOENT. */
int media_relay_free(struct media *m, uint32_t id);

struct media_leg_info {
	struct sockaddr_storage local;   /* RTP; RTCP on port + 1 */
	struct sockaddr_storage peer;    /* where RTP goes: the latch, or
	                                    the SDP address; family 0 none */
	bool latched;
	uint32_t ssrc;                   /* the latched stream, if RTP */
	/* from this leg's endpoint: relayed, and ignored (other sources,
	 * no destination, send failures) */
	uint64_t packets, bytes, ignored;
};

/* The part of a Call-ID "show media" gives. */
#define MEDIA_INFO_CALLID 64

struct media_relay_info {
	uint32_t id;
	/* the call it serves (media_relay_bind()), clipped; "" for none,
	 * and its media line */
	char callid[MEDIA_INFO_CALLID];
	uint8_t line;
	uint64_t age_ms, idle_ms;        /* since created, since a packet */
	struct media_leg_info leg[2];
};

/* Relay id's state into *info.  Returns 0 or -ENOENT. */
int media_relay_get(struct media *m, uint32_t id,
    struct media_relay_info *info);

/*
 * Every relay's state, oldest id first, at most max rows, into a new
 * array *out (the caller frees it).  Returns the row count or -ENOMEM.
 */
int media_relay_list(struct media *m, size_t max,
    struct media_relay_info **out);

/*
 * The call a relay serves, so that the SIP side finds a call's relays
 * whichever worker a request of it lands on (RFC 3261 12: a dialog is
 * its Call-ID and two tags).  Leg A's endpoint is the one whose tag is
 * tag_a (the caller's From tag), leg B's tag_b (the callee's To tag,
 * empty while the answer has not come).  A group is the relays made for
 * one offer on one branch, one per media line; its id is its first
 * relay's.  Values are copied; each at most MEDIA_KEY_MAX bytes.
 */
#define MEDIA_KEY_MAX 256
struct media_call {
	const char *callid;
	size_t callid_len;
	const char *tag_a;
	size_t tag_a_len;
	const char *tag_b;
	size_t tag_b_len;
};

/* What a lookup found of one relay. */
struct media_ref {
	uint32_t id, group;
	uint8_t line;          /* the media line it serves */
	bool swapped;          /* the call's tag_a is the relay's leg B tag */
	bool looped;           /* its offer came back to sipd (a loop) */
	bool answered;         /* leg B has its endpoint's SDP address */
	enum media_leg_id leg; /* media_relay_by_local(): the leg found */
	/* media_relay_by_local(): the other leg's SDP address */
	struct sockaddr_storage peer, peer_rtcp;
};

/*
 * Bind relay id to call c, media line line, in group (0: a new group,
 * the relay's own id).  Returns 0, -ENOENT, -EINVAL (a value too long)
 * or -ENOMEM.
 */
int media_relay_bind(struct media *m, uint32_t id, const struct media_call *c,
    uint32_t group, unsigned line);

/*
 * The relays of c: with group nonzero that group's (c not read, may be
 * NULL), else those of the dialog of c's two tags, in either order.  At most max
 * into out.  Returns the count.
 */
int media_call_find(struct media *m, const struct media_call *c,
    uint32_t group, struct media_ref *out, size_t max);

/* The answer came: group's relays take c's tags.  Returns the count. */
int media_call_confirm(struct media *m, const struct media_call *c,
    uint32_t group);

/*
 * Free what media_call_find() would find, closing the ports, with a log
 * line at major each.  Returns the count.
 */
int media_call_free(struct media *m, const struct media_call *c,
    uint32_t group);

/*
 * How many relays are open, read without the lock: 0 says a lookup by
 * call (media_call_find(), media_call_free()) would find none, as it
 * would at that moment under the lock.
 */
unsigned media_open_count(struct media *m);

/*
 * The relay with a leg on sa (sipd's address and RTP port, as an SDP
 * names it): 0 with *out, or -ENOENT.  mark: note that an offer naming
 * it came back to sipd (media_ref.looped from then on).
 */
int media_relay_by_local(struct media *m, const struct sockaddr *sa,
    bool mark, struct media_ref *out);

/* Engine-wide figures. */
struct media_stats {
	uint32_t relays;                  /* open now */
	uint32_t ports_free;              /* pairs left in the range */
	uint64_t created, freed, expired, exhausted;
	uint64_t packets, bytes;
};

void media_stats(struct media *m, struct media_stats *st);

/* ---------------------------------------------------------------- SDP */

/* Bodies and media lines at most: more is refused, not cut. */
#define SDP_MAX_SIZE 16384
#define SDP_MAX_MEDIA 16

struct sdp_span {
	uint32_t off, len; /* into the body */
};

enum sdp_dir {
	SDP_DIR_NONE,      /* no attribute: sendrecv (RFC 4566 6) */
	SDP_DIR_SENDRECV,
	SDP_DIR_SENDONLY,
	SDP_DIR_RECVONLY,
	SDP_DIR_INACTIVE,
};

/* A c= line: "IN IP4 192.0.2.1" (RFC 4566 5.7). */
struct sdp_conn {
	struct sdp_span line;   /* the whole line, its end of line included */
	struct sdp_span addr;   /* the address as written */
	int family;             /* AF_INET, AF_INET6; 0: no c= line */
	bool multicast;         /* a /ttl or /count, or a multicast range */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} ip;                   /* 0.0.0.0 is "on hold" (RFC 3264 8.4) */
};

struct sdp_media {
	struct sdp_span line;   /* the m= line, its end of line included */
	struct sdp_span type;   /* "audio" */
	struct sdp_span port;   /* "49170", or "49170/2" */
	struct sdp_span proto;  /* "RTP/AVP" */
	uint16_t rtp_port;      /* 0: the stream is refused or disabled */
	uint16_t nports;        /* 1 unless "/2" */
	bool udp;               /* over UDP: RTP/..., udptl, UDP/TLS/... */
	struct sdp_conn c;      /* its own c= line, family 0 when none */
	uint32_t insert;        /* where a c= line of its own would go */
	struct sdp_span rtcp;   /* an a=rtcp line (RFC 3605) */
	uint16_t rtcp_port;
	bool rtcp_mux;          /* a=rtcp-mux (RFC 5761) */
	enum sdp_dir dir;
	unsigned ice;           /* ICE attribute lines (RFC 8839) */
};

struct sdp {
	const char *buf;        /* the body, not owned, never written */
	uint32_t len;
	struct sdp_conn c;      /* session-level c=, family 0 when none */
	enum sdp_dir dir;       /* session-level direction */
	unsigned nmedia;
	struct sdp_media m[SDP_MAX_MEDIA];
};

/*
 * Parse SDP body buf[0..len) into *s, which refers to buf.  Returns 0;
 * -SIPD_ETOOBIG for a body over SDP_MAX_SIZE or more than SDP_MAX_MEDIA
 * media lines; -SIPD_EPARSE for what is not SDP or what a relay cannot
 * follow (no v=0 first, a line that is not "x=...", a c= or m= line that
 * does not parse, a media line with no connection address).  On error
 * *reason names the fault and *off its offset; both may be NULL.
 */
int sdp_parse(struct sdp *s, const char *buf, size_t len,
    const char **reason, uint32_t *off);

/* How sdp_rewrite() changes a body. */
struct sdp_rewrite {
	/* the relay leg's address (port ignored) for every c= line */
	const struct sockaddr *addr;
	/* per media line, the RTP port it gets (RTCP: + 1); 0 keeps the
	 * line and its address as they are */
	uint16_t port[SDP_MAX_MEDIA];
	bool drop_ice;          /* drop ICE attributes of relayed lines */
};

/*
 * Write s's body changed by rw into out[0..cap): each relayed media line
 * gets rw's port, its c= (or the session's) rw's address, its a=rtcp
 * line (if any) port + 1 and rw's address; "/n" port counts are dropped,
 * since a relay leg is one RTP/RTCP pair.  A line left alone that relied on the
 * session c= gets a c= line of its own with the old address.  The length
 * goes to *outlen.  Returns 0, -SIPD_ETOOBIG when out is too small, or
 * -EAFNOSUPPORT for an address that is not IPv4 or IPv6.
 */
int sdp_rewrite(const struct sdp *s, const struct sdp_rewrite *rw,
    char *out, size_t cap, size_t *outlen);

/* The media line's connection: its own c=, else the session's. */
const struct sdp_conn *sdp_media_conn(const struct sdp *s, unsigned i);

/*
 * Media line i's RTP destination (its c= address, its port) into *ss.
 * Returns 0, or -ENOENT for a disabled line (port 0), a multicast or
 * unspecified (hold) address.
 */
int sdp_media_peer(const struct sdp *s, unsigned i,
    struct sockaddr_storage *ss);

#endif
