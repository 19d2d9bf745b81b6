/*
 * ctl: sipd's control plane, the whole public face of sipd/ctl.  The
 * control socket (a UNIX stream socket, mode 0600 unless configured
 * otherwise, each peer's uid checked with SO_PEERCRED), its frames
 * (proto/proto.h, sipd-control(7)), the handlers of every command of
 * proto/commands.def, the live configuration (changes applied to the
 * workers, then saved to the file), SIGHUP (the file read again and the
 * difference applied) and "log follow".
 *
 * Everything here runs on the main thread's event_base.  Worker state is
 * read on the workers' own threads through workers_call().
 */
#ifndef SIPD_CTL_H
#define SIPD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sipd/conf.h"

struct ctl;
struct event_base;
struct workers;

/*
 * The control plane on base for the pool ws, running configuration conf
 * (borrowed: ctl changes it in place on every successful change) read
 * from conf_path.  The socket is sock_path when not NULL (sipd -s), else
 * conf->ctl_socket, else sipd.sock in the run directory (/run/sipd as
 * root, else $XDG_RUNTIME_DIR).  Also catches SIGHUP on base and applies
 * conf's log output.  Returns NULL with a message in err[0..cap) ("control
 * socket /run/sipd/sipd.sock in use (is sipd running?)").
 */
struct ctl *ctl_new(struct event_base *base, struct workers *ws,
    struct conf *conf, const char *conf_path, const char *sock_path,
    char *err, size_t cap);

/*
 * Close every connection, remove the socket, and release what the
 * configuration owns (conf_fini(): call it once the workers have
 * stopped).  Accepts NULL.
 */
void ctl_free(struct ctl *ctl);

/*
 * Read the configuration file again and apply the difference (what SIGHUP
 * does).  Returns 0, or a negative errno with "FILE:LINE: message" in
 * err[0..cap) and nothing changed.
 */
int ctl_reload(struct ctl *ctl, char *err, size_t cap);

/*
 * Told of a reload by SIGHUP: before it with begin true, after it with
 * begin false and its result rc (0, or a negative errno and nothing
 * changed).  main.c tells the service manager (RELOADING=1, READY=1).
 */
typedef void ctl_reload_fn(void *arg, bool begin, int rc);

/* Call fn(arg, ...) around every reload by SIGHUP; fn NULL: none. */
void ctl_set_reload_hook(struct ctl *ctl, ctl_reload_fn *fn, void *arg);

/*
 * Asked to stop by the shutdown command: why names it, now is true for
 * "shutdown now" (no time for the transactions running).  main.c drains
 * the workers (as on SIGTERM).
 */
typedef void ctl_stop_fn(void *arg, const char *why, bool now);

/* Call fn(arg, ...) on "shutdown"; fn NULL: the loop just ends. */
void ctl_set_stop_hook(struct ctl *ctl, ctl_stop_fn *fn, void *arg);

/* The socket's path. */
const char *ctl_socket_path(const struct ctl *ctl);

/*
 * Give the socket to uid, and to gid unless "control socket-group" names
 * one: done before sipd drops root, so that its user may change the
 * socket's mode later.  Returns 0 or a negative errno with a message.
 */
int ctl_socket_owner(struct ctl *ctl, uid_t uid, gid_t gid, char *err,
    size_t cap);

#endif
