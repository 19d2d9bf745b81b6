/*
 * svc: what sipd tells the service manager, and where it keeps its state
 * when it runs as a system service.  Under systemd (Type=notify, the unit
 * in sipd/dist) it says READY=1 once its listeners and control socket are
 * up, RELOADING=1 and READY=1 around a reload, STOPPING=1 when it starts
 * to stop, and WATCHDOG=1 while every worker turns (sd_notify(3)).
 * Without NOTIFY_SOCKET, or built without libsystemd, these do nothing.
 */
#ifndef SIPD_SERVICE_H
#define SIPD_SERVICE_H

#include <stddef.h>
#include <stdint.h>

/* Started and serving: READY=1 with a STATUS line. */
void svc_ready(unsigned workers);

/* A reload begins: RELOADING=1. */
void svc_reloading(void);

/* A reload ended (rc 0: applied; else nothing changed): READY=1. */
void svc_reloaded(int rc);

/* sipd stops: STOPPING=1. */
void svc_stopping(void);

/*
 * The watchdog interval the service manager asks for (WATCHDOG_USEC, for
 * this process), in microseconds; 0 when none.
 */
uint64_t svc_watchdog_usec(void);

/* Every worker is alive: WATCHDOG=1. */
void svc_watchdog(void);

/* Whether sipd was built with libsystemd (sipd -V says so). */
int svc_systemd(void);

/*
 * The directory of the registration store when "set reg-store" names
 * none, made when missing: $STATE_DIRECTORY under systemd (StateDirectory=,
 * /var/lib/sipd), else SVC_STATE_DIR as root, else $XDG_RUNTIME_DIR/sipd,
 * so that a run from the source tree needs no root.  Returns 0, or a
 * negative errno (-ENOENT: no directory for this user).
 */
int svc_state_dir(char *buf, size_t cap);

#define SVC_STATE_DIR "/var/lib/sipd"

#endif
