/*
 * The service manager's side of sipd: readiness, reload, stop and
 * watchdog notices (sd_notify(3) from libsystemd), and the directory of
 * the state that must survive a reboot (the registration store).  main.c
 * decides when each notice is due; this file only says it.  Built without
 * libsystemd, the notices are no-ops and sipd runs as before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef SIPD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "sipd/service.h"

#ifdef SIPD_HAVE_SYSTEMD
static void
svc_notify(const char *state)
{
	/* a manager that went away is no reason to stop carrying calls */
	(void)sd_notify(0, state);
}
#else
static void
svc_notify(const char *state)
{
	(void)state;
}
#endif

void
svc_ready(unsigned workers)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=sipd %s, %u workers",
	    SIPD_VERSION, workers);
	svc_notify(buf);
}

void
svc_reloading(void)
{
	struct timespec ts;
	char buf[96];

	/* MONOTONIC_USEC: systemd 253's Type=notify-reload matches the
	 * READY=1 that ends the reload with it; older ones ignore it */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
		(unsigned long long)ts.tv_nsec / 1000);
	svc_notify(buf);
}

void
svc_reloaded(int rc)
{
	svc_notify(rc == 0 ? "READY=1\nSTATUS=configuration reloaded"
			   : "READY=1\nSTATUS=reload failed, configuration "
			     "unchanged");
}

void
svc_stopping(void)
{
	svc_notify("STOPPING=1");
}

uint64_t
svc_watchdog_usec(void)
{
#ifdef SIPD_HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0) {
		return usec;
	}
#endif
	return 0;
}

void
svc_watchdog(void)
{
	svc_notify("WATCHDOG=1");
}

int
svc_systemd(void)
{
#ifdef SIPD_HAVE_SYSTEMD
	return 1;
#else
	return 0;
#endif
}

int
svc_state_dir(char *buf, size_t cap)
{
	const char *env = getenv("STATE_DIRECTORY");
	const char *colon;
	int n;

	if (env != NULL && env[0] == '/') {
		/* systemd lists one directory per StateDirectory= entry */
		colon = strchr(env, ':');
		n = snprintf(buf, cap, "%.*s", colon != NULL
		    ? (int)(colon - env) : (int)strlen(env), env);
	} else if (geteuid() == 0) {
		n = snprintf(buf, cap, "%s", SVC_STATE_DIR);
	} else {
		env = getenv("XDG_RUNTIME_DIR");
		if (env == NULL || env[0] != '/') {
			return -ENOENT;
		}
		n = snprintf(buf, cap, "%s/sipd", env);
	}
	if (n < 0 || (size_t)n >= cap) {
		return -ENAMETOOLONG;
	}
	/* 0700: the bindings are the user's alone (the store is 0600) */
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}
