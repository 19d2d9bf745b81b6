/*
 * The control socket: listening, the peer check, framing and dispatch.
 * This file owns the listening socket and every control connection: the
 * peer's uid is read with SO_PEERCRED and checked against root, sipd's
 * own uid and the allowed list; each frame's length is checked before the
 * frame is read (an oversized one ends the connection); each request is
 * decoded, checked against the command table again (the table is shared,
 * trust is not) and handed to its handler.  A client that stops reading
 * is dropped once its output passes CTL_OUT_MAX, or once a reply has
 * waited CTL_STUCK_S seconds; one that begins a frame has CTL_STUCK_S
 * seconds to finish it.  Other users share all connections but the last
 * CTL_ROOT_CONNS, which are root's.  Bad input costs the connection at
 * most, never sipd.  The socket's mode and group ("control socket-mode",
 * "control socket-group") decide who may connect at all.  It also owns
 * the live configuration step (ctl_conf_apply()) and the "log follow"
 * fan-out; reload.c owns SIGHUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "sipd/ctl/ctl_int.h"
#include "sipd/worker.h"

#define CTL_SOCK_NAME "sipd.sock"
#define CTL_RUN_DIR "/run/sipd"

static void ctl_conn_free(struct ctl_conn *c);

const char *
ctl_socket_path(const struct ctl *ctl)
{
	return ctl->sock_path;
}

/* ------------------------------------------------------------ sending */

int
ctl_conn_send(struct ctl_conn *c, struct proto_out *o)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	const char *frame;
	size_t len;

	if (c->closing) {
		return -EPIPE;
	}
	frame = proto_out_frame(o, &len);
	if (frame == NULL) {
		log_err(LOG_TRANSPORT, "control, reply to %s lost (no memory)",
		    c->name);
		return -ENOMEM;
	}
	if (evbuffer_get_length(out) + len > CTL_OUT_MAX) {
		log_notice(LOG_TRANSPORT, "control, dropped %s (not reading: "
		    "%zu bytes waiting)", c->name, evbuffer_get_length(out));
		/* Freed by the reaper: a caller may still hold c. */
		c->closing = true;
		c->dead = true;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		evtimer_del(c->frame_ev);
		event_active(c->ctl->reap, EV_TIMEOUT, 0);
		return -ENOBUFS;
	}
	bufferevent_write(c->bev, frame, len);
	return 0;
}

/* Send an error reply with a fresh buffer. */
static void
ctl_send_error(struct ctl_conn *c, uint32_t id, enum err_code code,
    const char *msg)
{
	struct proto_out o;

	proto_out_init(&o);
	proto_error(&o, id, code, msg);
	(void)ctl_conn_send(c, &o);
	proto_out_fini(&o);
}

/* ------------------------------------------------------------- follow */

void
ctl_follow_start(struct ctl_conn *c, uint32_t id)
{
	if (c->follow_id == 0) {
		c->ctl->nfollowers++;
	}
	c->follow_id = id;
	c->dropped = 0;
	log_live_enable(true);
}

void
ctl_follow_end(struct ctl_conn *c)
{
	if (c->follow_id == 0) {
		return;
	}
	c->follow_id = 0;
	if (--c->ctl->nfollowers == 0) {
		log_live_enable(false);
	}
}

/* One live log line to every follower. */
static void
ctl_follow_line(void *arg, const char *line, size_t len)
{
	struct ctl *ctl = arg;
	struct proto_out o;

	proto_out_init(&o);
	for (struct ctl_conn *c = ctl->conns; c != NULL; c = c->next) {
		size_t waiting;

		if (c->follow_id == 0 || c->closing) {
			continue;
		}
		waiting = evbuffer_get_length(bufferevent_get_output(c->bev));
		if (waiting > CTL_FOLLOW_MAX) {
			c->dropped++;
			continue;
		}
		if (c->dropped > 0) {
			proto_out_reset(&o);
			proto_begin_event(&o, c->follow_id, "dropped");
			msgpack_pack_map(&o.pk, 1);
			proto_kv_uint(&o.pk, "lines", c->dropped);
			(void)ctl_conn_send(c, &o);
			c->dropped = 0;
		}
		proto_out_reset(&o);
		proto_begin_event(&o, c->follow_id, "log");
		msgpack_pack_map(&o.pk, 1);
		proto_str(&o.pk, "line");
		proto_strn(&o.pk, line, len);
		(void)ctl_conn_send(c, &o);
	}
	proto_out_fini(&o);
}

static void
ctl_on_log(evutil_socket_t fd, short what, void *arg)
{
	struct ctl *ctl = arg;

	(void)fd;
	(void)what;
	(void)log_live_drain(ctl_follow_line, ctl);
}

/* ----------------------------------------------------------- requests */

int
ctl_fail(struct ctl_req *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* "listener add transport=udp address=..." for the log (no secrets). */
static void
ctl_log_request(struct ctl_conn *c, const struct cmd_args *a)
{
	char line[512];
	size_t o;

	if ((a->cmd->flags & CF_WRITE) == 0) {
		log_info(LOG_TRANSPORT, "control, %s: %s", c->name, a->cmd->name);
		return;
	}
	o = (size_t)snprintf(line, sizeof(line), "%s", a->cmd->name);
	for (int i = 0; i < a->n && o < sizeof(line); i++) {
		char clip[LOG_CLIP_SIZE];

		if (!a->val[i].set) {
			continue;
		}
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %s=%s",
		    a->spec[i].name,
		    (a->cmd->flags & CF_SECRET) != 0
			? "(secret)"
			: log_clip(clip, sizeof(clip), a->val[i].s,
			      strlen(a->val[i].s)));
	}
	log_warn(LOG_TRANSPORT, "control, %s: %s", c->name, line);
}

static void
ctl_request(struct ctl_conn *c, const char *body, size_t len)
{
	struct ctl *ctl = c->ctl;
	struct ctl_decoded d;
	const struct cmd *cmd;
	struct proto_out o;
	struct ctl_req r;
	int rc;

	proto_out_init(&o);
	if (ctl_decode(&d, body, len, c->writer, c->name) < 0) {
		if (d.log[0] != '\0') {
			log_notice(LOG_TRANSPORT, "control, %s", d.log);
		}
		ctl_send_error(c, d.m.id, d.code, d.err);
		goto out;
	}
	cmd = d.cmd;
	ctl_log_request(c, d.args);
	memset(&r, 0, sizeof(r));
	r.conn = c;
	r.ctl = ctl;
	r.id = d.m.id;
	r.args = d.args;
	r.out = &o;
	rc = ctl_handler_of(cmd->id)(&r);
	if (rc < 0) {
		if (r.err[0] == '\0') {
			snprintf(r.err, sizeof(r.err), "%s", sipd_strerror(rc));
		}
		if ((cmd->flags & CF_WRITE) != 0) {
			log_warn(LOG_TRANSPORT, "control, '%s' from %s failed "
			    "(%s)", cmd->name, c->name, r.err);
		}
		proto_out_reset(&o);
		ctl_send_error(c, d.m.id, err_code_of(rc), r.err);
		goto out;
	}
	(void)ctl_conn_send(c, &o);
out:
	ctl_decoded_fini(&d);
	proto_out_fini(&o);
}

/* --------------------------------------------------------- connections */

static void
ctl_conn_free(struct ctl_conn *c)
{
	struct ctl *ctl;

	if (c == NULL) {
		return;
	}
	ctl = c->ctl;
	ctl_follow_end(c);
	ctl_trace_end(c);
	if (c->shutdown && ctl->stop != NULL) {
		event_active(ctl->stop, EV_TIMEOUT, 0);
	}
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		ctl->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	ctl->nconns--;
	log_info(LOG_TRANSPORT, "control, %s disconnected", c->name);
	if (c->frame_ev != NULL) {
		event_free(c->frame_ev);
	}
	bufferevent_free(c->bev);
	free(c);
}

static void
ctl_on_read(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint32_t max = c->ctl->conf->ctl_max_frame;
	unsigned turn = 0;

	while (!c->closing) {
		unsigned char hdr[PROTO_HDR];
		uint32_t len;
		unsigned char *frame;
		int rc;

		if (turn++ == CTL_FRAMES_TURN) {
			/* the rest later, after the other connections' turn
			 * (a deferred callback runs in the loop's next pass) */
			bufferevent_trigger(bev, EV_READ,
			    BEV_TRIG_DEFER_CALLBACKS |
				BEV_TRIG_IGNORE_WATERMARKS);
			break;
		}

		if (evbuffer_copyout(in, hdr, sizeof(hdr)) <
		    (ev_ssize_t)sizeof(hdr)) {
			break;
		}
		rc = proto_hdr_check(hdr, max, &len);
		if (rc == -SIPD_ETOOBIG) {
			char msg[96];

			log_notice(LOG_TRANSPORT, "control, frame of %u bytes "
			    "from %s refused (at most %u)", len, c->name, max);
			snprintf(msg, sizeof(msg), "frame of %u bytes (at most "
			    "%u)", len, max);
			ctl_send_error(c, 0, ERR_TOO_BIG, msg);
			c->closing = true;
			bufferevent_disable(bev, EV_READ);
			break;
		}
		if (rc < 0) {
			log_notice(LOG_TRANSPORT, "control, empty frame from %s",
			    c->name);
			ctl_send_error(c, 0, ERR_INVALID, "empty frame");
			evbuffer_drain(in, sizeof(hdr));
			continue;
		}
		if (evbuffer_get_length(in) < sizeof(hdr) + len) {
			/* room for the frame begun, whatever the mark */
			bufferevent_setwatermark(bev, EV_READ, 0,
			    sizeof(hdr) + len > CTL_IN_HIGH ? sizeof(hdr) + len
							    : CTL_IN_HIGH);
			break;
		}
		frame = evbuffer_pullup(in, (ev_ssize_t)(sizeof(hdr) + len));
		if (frame == NULL) {
			c->closing = true;
			break;
		}
		ctl_request(c, (const char *)frame + sizeof(hdr), len);
		evbuffer_drain(in, sizeof(hdr) + len);
	}
	/* A frame begun has CTL_STUCK_S seconds to arrive whole, however
	 * slowly its bytes come. */
	if (c->closing || evbuffer_get_length(in) == 0) {
		evtimer_del(c->frame_ev);
	} else if (!evtimer_pending(c->frame_ev, NULL)) {
		struct timeval tv = { CTL_STUCK_S, 0 };

		evtimer_add(c->frame_ev, &tv);
	}
	if (c->closing) {
		bufferevent_disable(bev, EV_READ);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 ||
		    !(bufferevent_get_enabled(bev) & EV_WRITE)) {
			ctl_conn_free(c);
		}
	}
}

static void
ctl_on_write(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;

	(void)bev;
	if (c->shutdown) {
		c->shutdown = false;
		event_active(c->ctl->stop, EV_TIMEOUT, 0);
	}
	if (c->closing) {
		ctl_conn_free(c);
	}
}

static void
ctl_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn *c = arg;

	if (what & BEV_EVENT_TIMEOUT) {
		log_notice(LOG_TRANSPORT, "control, dropped %s (not reading: "
		    "%zu bytes waiting for %d s)", c->name,
		    evbuffer_get_length(bufferevent_get_output(bev)),
		    CTL_STUCK_S);
		ctl_conn_free(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		ctl_conn_free(c);
	}
}

static void
ctl_on_frame_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_conn *c = arg;

	(void)fd;
	(void)what;
	log_notice(LOG_TRANSPORT, "control, dropped %s (a frame unfinished "
	    "for %d s)", c->name, CTL_STUCK_S);
	ctl_conn_free(c);
}

void
ctl_shutdown_after(struct ctl_conn *c)
{
	c->shutdown = true;
}

static void
ctl_on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct ctl *ctl = arg;

	(void)fd;
	(void)what;
	if (ctl->on_stop != NULL) {
		ctl->on_stop(ctl->on_stop_arg, "shutdown command",
		    ctl->stop_now);
		return;
	}
	log_warn(LOG_TRANSPORT, "stopping (shutdown command)");
	event_base_loopbreak(ctl->base);
}

void
ctl_set_stop_hook(struct ctl *ctl, ctl_stop_fn *fn, void *arg)
{
	ctl->on_stop = fn;
	ctl->on_stop_arg = arg;
}

static bool
ctl_allowed(const struct ctl *ctl, uid_t uid)
{
	if (uid == 0 || uid == geteuid()) {
		return true;
	}
	for (int i = 0; i < ctl->conf->nctl_allow; i++) {
		if (ctl->conf->ctl_allow[i] == uid) {
			return true;
		}
	}
	return false;
}

/* Refuse a peer with one error frame, written as is, then close. */
static void
ctl_refuse(evutil_socket_t fd, enum err_code code, const char *msg)
{
	struct proto_out o;
	const char *frame;
	size_t len;

	proto_out_init(&o);
	proto_error(&o, 0, code, msg);
	frame = proto_out_frame(&o, &len);
	if (frame != NULL) {
		(void)!send(fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	proto_out_fini(&o);
	evutil_closesocket(fd);
}

static void
ctl_on_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctl *ctl = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_conn *c;
	struct proto_out o;
	struct timeval stuck = { CTL_STUCK_S, 0 };
	unsigned same = 0, others = 0;

	(void)lis;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_err(LOG_TRANSPORT, "control, SO_PEERCRED failed (%s)",
		    strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	if (!ctl_allowed(ctl, cred.uid)) {
		log_notice(LOG_TRANSPORT, "control, refused uid %lu pid %ld "
		    "(not allowed)", (unsigned long)cred.uid, (long)cred.pid);
		ctl_refuse(fd, ERR_DENIED, "this user may not use sipd's "
		    "control socket");
		return;
	}
	for (c = ctl->conns; c != NULL; c = c->next) {
		same += c->uid == cred.uid ? 1 : 0;
		others += c->uid != 0 ? 1 : 0;
	}
	/* Root is capped by the total alone; the others share what is left
	 * of it once root's own slots are set aside. */
	if (ctl->nconns >= CTL_MAX_CONNS ||
	    (cred.uid != 0 && (same >= CTL_MAX_CONNS_UID ||
				  others >= CTL_MAX_CONNS - CTL_ROOT_CONNS))) {
		log_notice(LOG_TRANSPORT, "control, refused uid %lu pid %ld "
		    "(too many connections)", (unsigned long)cred.uid,
		    (long)cred.pid);
		ctl_refuse(fd, ERR_BUSY, "too many control connections");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ctl_refuse(fd, ERR_INTERNAL, "out of memory");
		return;
	}
	c->bev = bufferevent_socket_new(ctl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->frame_ev = evtimer_new(ctl->base, ctl_on_frame_timeout, c);
	if (c->frame_ev == NULL) {
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	c->ctl = ctl;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->writer = cred.uid == 0 || cred.uid == geteuid();
	snprintf(c->name, sizeof(c->name), "uid %lu pid %ld",
	    (unsigned long)cred.uid, (long)cred.pid);
	c->next = ctl->conns;
	if (c->next != NULL) {
		c->next->prev = c;
	}
	ctl->conns = c;
	ctl->nconns++;
	bufferevent_setcb(c->bev, ctl_on_read, ctl_on_write, ctl_on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_IN_HIGH);
	/* a reply unread for CTL_STUCK_S (the write timeout runs only while
	 * output waits) */
	bufferevent_set_timeouts(c->bev, NULL, &stuck);
	/* Read no more than one whole frame ahead. */
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    (size_t)ctl->conf->ctl_max_frame + 2 * PROTO_HDR);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_info(LOG_TRANSPORT, "control, %s connected", c->name);

	proto_out_init(&o);
	proto_begin_event(&o, 0, "hello");
	msgpack_pack_map(&o.pk, 3);
	proto_kv_uint(&o.pk, "proto", PROTO_VERSION);
	proto_kv_str(&o.pk, "version", SIPD_VERSION);
	proto_kv_uint(&o.pk, "pid", (uint64_t)getpid());
	(void)ctl_conn_send(c, &o);
	proto_out_fini(&o);
}

static void
ctl_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct ctl *ctl = arg;
	struct ctl_conn *c = ctl->conns, *next;

	(void)fd;
	(void)what;
	for (; c != NULL; c = next) {
		next = c->next;
		if (c->dead) {
			ctl_conn_free(c);
		}
	}
}

static void
ctl_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct ctl *ctl = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(ctl->lis);
}

static void
ctl_on_accept_error(struct evconnlistener *lis, void *arg)
{
	struct ctl *ctl = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval one = { 1, 0 };

	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		/* Out of descriptors: pause instead of spinning. */
		log_warn(LOG_TRANSPORT, "control, accept paused for 1 s (%s)",
		    strerror(e));
		evconnlistener_disable(lis);
		evtimer_add(ctl->retry, &one);
		return;
	}
	log_notice(LOG_TRANSPORT, "control, accept failed (%s)", strerror(e));
}

/* ------------------------------------------------------- permissions */

/*
 * Give the socket at path the mode and group of c ("control socket-mode",
 * "control socket-group"; the default group is sipd's own): first the
 * mode both the old and the new setting allow, then the group, then the
 * new mode, so that no moment lets in more than one of them does.
 */
static int
ctl_socket_perms(const char *path, const struct conf *c, char *err,
    size_t cap)
{
	struct stat st;
	gid_t gid = getegid();
	int rc;

	if (c->ctl_group[0] != '\0' && conf_proc_gid(c->ctl_group, &gid) < 0) {
		snprintf(err, cap, "unknown group '%.64s'", c->ctl_group);
		return -EINVAL;
	}
	if (stat(path, &st) < 0 ||
	    chmod(path, st.st_mode & conf_ctl_mode_bits(c) & 0777) < 0 ||
	    (st.st_gid != gid && chown(path, (uid_t)-1, gid) < 0) ||
	    chmod(path, conf_ctl_mode_bits(c)) < 0) {
		rc = -errno;
		snprintf(err, cap, "control socket %s: %s", path,
		    strerror(errno));
		return rc;
	}
	return 0;
}

/* Allowed users who cannot connect: say so. */
static void
ctl_check_allow(const struct conf *c)
{
	if (c->nctl_allow > 0 && c->ctl_mode == CONF_CTL_MODE_0600) {
		log_warn(LOG_TRANSPORT, "control, the allowed users cannot "
		    "connect: the socket's mode is 0600 (control "
		    "socket-mode)");
	}
}

int
ctl_socket_owner(struct ctl *ctl, uid_t uid, gid_t gid, char *err,
    size_t cap)
{
	if (chown(ctl->sock_path, uid,
		ctl->conf->ctl_group[0] != '\0' ? (gid_t)-1 : gid) < 0) {
		int rc = -errno;

		snprintf(err, cap, "control socket %s: %s", ctl->sock_path,
		    strerror(errno));
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------ configuration */

/* Switch the log output to what c says. */
static int
ctl_log_output(struct ctl *ctl, const struct conf *c, char *err, size_t cap)
{
	int rc;

	switch (c->log_out) {
	case CONF_LOG_FILE:
		rc = log_open_file(c->log_file);
		if (rc < 0) {
			/* a path longer than the message is cut */
			snprintf(err, cap, "cannot open %.200s (%s)",
			    c->log_file, strerror(-rc));
			return rc;
		}
		return 0;
	case CONF_LOG_STDERR:
		log_open(LOG_OUT_STDERR, "sipd");
		return 0;
	case CONF_LOG_SYSLOG:
		log_open(LOG_OUT_SYSLOG, "sipd");
		return 0;
	case CONF_LOG_JOURNAL:
		if (!log_journal_built()) {
			snprintf(err, cap, "no journal: sipd was built without "
			    "libsystemd");
			return -ENOTSUP;
		}
		log_open(LOG_OUT_JOURNAL, "sipd");
		return 0;
	default:
		log_open(ctl->log_auto, "sipd");
		return 0;
	}
}

static void
ctl_warn_open_relay(void)
{
	log_warn(LOG_TRANSPORT, "relay, sipd is an open relay (relay "
	    "to-non-clients anybody): anybody may send requests through it "
	    "to any domain");
}

/* Say so when the file holds password digests others may read. */
static void
ctl_check_mode(const struct ctl *ctl)
{
	struct stat st;

	if (conf_has_secrets(ctl->conf) && stat(ctl->conf_path, &st) == 0 &&
	    (st.st_mode & 077) != 0) {
		log_warn(LOG_TRANSPORT, "control, %s holds password digests "
		    "but others may read it (mode %04o; chmod 600 it)",
		    ctl->conf_path, (unsigned)(st.st_mode & 07777));
	}
}

/*
 * A listener refused once sipd no longer runs as root: ports below 1024
 * need CAP_NET_BIND_SERVICE, which sipd does not keep (sipd(8)).  Say so
 * after the error.
 */
static void
ctl_listen_hint(const struct conf *c, char *err, size_t cap)
{
	size_t len = strlen(err);
	bool low = false;

	for (int i = 0; i < c->nlisteners; i++) {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)(const void *)&c->listeners[i]
			.addr;

		/* sin_port and sin6_port share their place */
		low |= ntohs(sin->sin_port) < 1024;
	}
	if (geteuid() == 0 || !low || len + 1 >= cap ||
	    strstr(err, strerror(EACCES)) == NULL) {
		return;
	}
	snprintf(err + len, cap - len, "; sipd runs as uid %lu, and ports "
	    "below 1024 need root or CAP_NET_BIND_SERVICE: add them to the "
	    "configuration file and restart", (unsigned long)geteuid());
}

int
ctl_conf_apply(struct ctl *ctl, const struct conf *next, char *err,
    size_t cap)
{
	const struct conf *cur = ctl->conf;
	bool out_changed = cur->log_out != next->log_out ||
	    strcmp(cur->log_file, next->log_file) != 0;
	bool perms_changed = cur->ctl_mode != next->ctl_mode ||
	    strcmp(cur->ctl_group, next->ctl_group) != 0;
	char ignore[256];
	int rc;

	if (perms_changed) {
		rc = ctl_socket_perms(ctl->sock_path, next, err, cap);
		if (rc < 0) {
			(void)ctl_socket_perms(ctl->sock_path, cur, ignore,
			    sizeof(ignore));
			return rc;
		}
	}
	rc = ctl_metrics_listen(ctl, next->metrics_listen, err, cap);
	if (rc < 0) {
		goto fail;
	}
	rc = ctl_hep_set(ctl, next->hep_server, next->hep_id, err, cap);
	if (rc < 0) {
		goto fail;
	}
	if (out_changed) {
		rc = ctl_log_output(ctl, next, err, cap);
		if (rc < 0) {
			goto fail;
		}
	}
	rc = workers_configure(ctl->ws, next, err, cap);
	if (rc < 0) {
		ctl_listen_hint(next, err, cap);
		if (out_changed) {
			(void)ctl_log_output(ctl, cur, ignore, sizeof(ignore));
		}
		goto fail;
	}
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		log_set_level((enum log_comp)i, next->levels[i]);
	}
	if (strcmp(cur->ctl_socket, next->ctl_socket) != 0) {
		log_warn(LOG_TRANSPORT, "control, the socket path changes at "
		    "the next start");
	}
	if (strcmp(cur->reg.store, next->reg.store) != 0) {
		log_warn(LOG_TRANSPORT, "control, the registration store "
		    "changes at the next start");
	}
	if (cur->reg.durable != next->reg.durable) {
		log_warn(LOG_TRANSPORT, "control, the registrar %s at the "
		    "next start", next->reg.durable ? "keeps its bindings in "
		    "the store" : "keeps its bindings in memory only");
	}
	if (next->relay_non_clients == CONF_RELAY_ANYBODY &&
	    cur->relay_non_clients != CONF_RELAY_ANYBODY) {
		ctl_warn_open_relay();
	}
	if (strcmp(cur->run_user, next->run_user) != 0 ||
	    strcmp(cur->run_group, next->run_group) != 0) {
		log_warn(LOG_TRANSPORT, "control, the user and group sipd "
		    "runs as change at the next start");
	}
	if (perms_changed || cur->nctl_allow != next->nctl_allow) {
		ctl_check_allow(next);
	}
	/* Every worker has the new snapshot now (workers_configure() ran
	 * on each one's thread), so the old one may go. */
	{
		struct acct *old = ctl->conf->acct;

		*ctl->conf = *next;
		acct_ref(ctl->conf->acct);
		acct_unref(old);
	}
	return 0;
fail:
	(void)ctl_metrics_listen(ctl, cur->metrics_listen, ignore,
	    sizeof(ignore));
	(void)ctl_hep_set(ctl, cur->hep_server, cur->hep_id, ignore,
	    sizeof(ignore));
	if (perms_changed) {
		(void)ctl_socket_perms(ctl->sock_path, cur, ignore,
		    sizeof(ignore));
	}
	return rc;
}

/* ------------------------------------------------------------- socket */

static int
ctl_default_path(char *buf, size_t cap, char *err, size_t ecap)
{
	const char *dir;
	int n;

	if (geteuid() == 0) {
		if (mkdir(CTL_RUN_DIR, 0755) < 0 && errno != EEXIST) {
			snprintf(err, ecap, "%s: %s", CTL_RUN_DIR,
			    strerror(errno));
			return -1;
		}
		n = snprintf(buf, cap, "%s/%s", CTL_RUN_DIR, CTL_SOCK_NAME);
	} else {
		dir = getenv("XDG_RUNTIME_DIR");
		if (dir == NULL || dir[0] != '/') {
			snprintf(err, ecap, "no run directory for the control "
			    "socket (XDG_RUNTIME_DIR unset; use -s)");
			return -1;
		}
		n = snprintf(buf, cap, "%s/%s", dir, CTL_SOCK_NAME);
	}
	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, ecap, "control socket path too long");
		return -1;
	}
	return 0;
}

/* Bind path, 0600, then c's mode and group; a stale socket (nobody
 * answers) is replaced. */
static evutil_socket_t
ctl_bind(const char *path, const struct conf *c, char *err, size_t cap)
{
	struct sockaddr_un sun;
	evutil_socket_t fd;
	mode_t old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, cap, "control socket path %s too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, cap, "control socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
	    errno == EAGAIN) {
		snprintf(err, cap, "control socket %s in use (is sipd "
		    "running?)", path);
		close(fd);
		return -1;
	}
	close(fd);
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, cap, "control socket: %s", strerror(errno));
		return -1;
	}
	/* Created 0600 from the start: no moment open to others. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old);
		snprintf(err, cap, "cannot bind control socket %s (%s)", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (ctl_socket_perms(path, c, err, cap) < 0) {
		close(fd);
		(void)unlink(path);
		return -1;
	}
	if (listen(fd, 16) < 0) {
		snprintf(err, cap, "control socket %s: %s", path,
		    strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	return fd;
}

struct ctl *
ctl_new(struct event_base *base, struct workers *ws, struct conf *conf,
    const char *conf_path, const char *sock_path, char *err, size_t cap)
{
	struct ctl *ctl;
	evutil_socket_t fd;
	int lfd;

	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	ctl->base = base;
	ctl->ws = ws;
	ctl->hep_fd = -1;
	ctl->conf = conf;
	ctl->started = time(NULL);
	ctl->log_auto = log_get_out();
	if (realpath(conf_path, ctl->conf_path) == NULL) {
		snprintf(ctl->conf_path, sizeof(ctl->conf_path), "%s",
		    conf_path);
	}
	if (sock_path != NULL) {
		snprintf(ctl->sock_path, sizeof(ctl->sock_path), "%s",
		    sock_path);
	} else if (conf->ctl_socket[0] != '\0') {
		snprintf(ctl->sock_path, sizeof(ctl->sock_path), "%s",
		    conf->ctl_socket);
	} else if (ctl_default_path(ctl->sock_path, sizeof(ctl->sock_path),
		       err, cap) < 0) {
		goto fail;
	}
	if (conf->log_out != CONF_LOG_AUTO &&
	    ctl_log_output(ctl, conf, err, cap) < 0) {
		goto fail;
	}
	fd = ctl_bind(ctl->sock_path, conf, err, cap);
	if (fd < 0) {
		ctl->sock_path[0] = '\0';
		goto fail;
	}
	ctl->lis = evconnlistener_new(base, ctl_on_accept, ctl,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (ctl->lis == NULL) {
		close(fd);
		snprintf(err, cap, "cannot listen on the control socket");
		goto fail;
	}
	evconnlistener_set_error_cb(ctl->lis, ctl_on_accept_error);
	ctl->retry = evtimer_new(base, ctl_on_retry, ctl);
	ctl->stop = event_new(base, -1, 0, ctl_on_stop, ctl);
	ctl->reap = event_new(base, -1, 0, ctl_on_reap, ctl);
	ctl->sighup = evsignal_new(base, SIGHUP, ctl_on_sighup, ctl);
	lfd = log_live_init();
	if (lfd >= 0) {
		ctl->log_ev = event_new(base, lfd, EV_READ | EV_PERSIST,
		    ctl_on_log, ctl);
	}
	if (ctl->retry == NULL || ctl->stop == NULL || ctl->reap == NULL ||
	    ctl->sighup == NULL ||
	    ctl->log_ev == NULL || evsignal_add(ctl->sighup, NULL) < 0 ||
	    event_add(ctl->log_ev, NULL) < 0) {
		snprintf(err, cap, "cannot set up the control socket's events");
		goto fail;
	}
	if (ctl_trace_init(ctl) < 0) {
		snprintf(err, cap, "cannot set up the message trace");
		goto fail;
	}
	log_warn(LOG_TRANSPORT, "control, listening on %s", ctl->sock_path);
	if (ctl_metrics_listen(ctl, conf->metrics_listen, err, cap) < 0 ||
	    ctl_hep_set(ctl, conf->hep_server, conf->hep_id, err, cap) < 0) {
		goto fail;
	}
	if (conf->relay_non_clients == CONF_RELAY_ANYBODY) {
		ctl_warn_open_relay();
	}
	ctl_check_mode(ctl);
	ctl_check_allow(conf);
	return ctl;
fail:
	ctl_free(ctl);
	return NULL;
}

void
ctl_free(struct ctl *ctl)
{
	if (ctl == NULL) {
		return;
	}
	ctl_metrics_close(ctl);
	ctl_hep_close(ctl);
	while (ctl->conns != NULL) {
		ctl_conn_free(ctl->conns);
	}
	if (ctl->lis != NULL) {
		evconnlistener_free(ctl->lis);
		(void)unlink(ctl->sock_path);
	}
	if (ctl->retry != NULL) {
		event_free(ctl->retry);
	}
	if (ctl->stop != NULL) {
		event_free(ctl->stop);
	}
	if (ctl->reap != NULL) {
		event_free(ctl->reap);
	}
	if (ctl->sighup != NULL) {
		event_free(ctl->sighup);
	}
	if (ctl->log_ev != NULL) {
		event_free(ctl->log_ev);
	}
	log_live_fini();
	ctl_trace_fini(ctl);
	/* the workers are stopped: nobody reads the accounts any more */
	conf_fini(ctl->conf);
	free(ctl);
}
