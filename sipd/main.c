/*
 * sipd's entry point: options, the configuration, start-up as a daemon or
 * in the foreground, the pid file, and the main event loop until a stop
 * (SIGTERM, SIGINT, "shutdown") has let the running transactions
 * finish.  It owns the process-wide things: the log output,
 * the pid file and the daemon's start-up report to its parent.
 *
 * As a daemon, the first process waits on a pipe until the daemon (the
 * grandchild, after setsid) has opened its listeners, so a start-up
 * failure still reaches the terminal and the exit status.
 *
 * Started as root with a user to run as ("set user", -u), sipd opens
 * what needs root first (the listeners, the control socket, the pid
 * file, the registration store and the log file), gives the files it
 * keeps writing to that user, then drops root for good (setgroups,
 * setgid, setuid, checked) before a worker thread starts, so that no
 * SIP message is ever parsed as root.
 *
 * Under systemd (sipd/dist/sipd.service, Type=notify) it tells the
 * manager when it is ready, reloading and stopping, and pings the
 * watchdog while every worker's loop turns (sipd/service.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "sipd/cdr/cdr.h"
#include "sipd/conf.h"
#include "sipd/ctl/ctl.h"
#include "sipd/log.h"
#include "sipd/service.h"
#include "sipd/worker.h"

#ifndef SIPD_CONF_PATH
#define SIPD_CONF_PATH "/etc/sipd/sipd.conf"
#endif
#define SIPD_RUN_DIR "/run/sipd"
#define SIPD_PID_NAME "sipd.pid"
#define SIPD_STORE_NAME "registrations.db"

/* A worker whose loop has not turned for this long is stuck: the
 * watchdog pings stop (its tick runs at least once a second). */
#define SIPD_STUCK_MS 3000

#define EXIT_OK 0
#define EXIT_CONF 1
#define EXIT_USAGE 2

/* While stopping, how often the running transactions are counted. */
#define SIPD_STOP_POLL_MS 50

struct start {
	bool foreground;
	int notify;     /* daemon: pipe to the waiting parent, else -1 */
	int pid_fd;     /* locked pid file, or -1 */
	char pid_path[PATH_MAX];
	bool drop;      /* become user uid, group gid once started */
	uid_t uid;
	gid_t gid;
	const char *user;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sipd [-fhtV] [-c file] [-p pidfile] [-s socket] "
	    "[-u user]\n");
}

/*
 * A start-up failure: to stderr in the foreground; as a daemon to syslog
 * and to the parent, which prints it and exits 1.
 */
static void start_fail(struct start *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
start_fail(struct start *st, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st->notify < 0) {
		fprintf(stderr, "sipd: %s\n", msg);
		return;
	}
	log_err(LOG_TRANSPORT, "start failed (%s)", msg);
	if (write(st->notify, "1", 1) == 1) {
		(void)!write(st->notify, msg, strlen(msg));
	}
	close(st->notify);
	st->notify = -1;
}

/*
 * Become a daemon: fork, setsid, fork again.  The first process stays
 * behind reading the start-up report and exits with its status; only the
 * daemon returns, with the pipe's write end in st->notify.
 */
static void
daemon_start(struct start *st)
{
	char buf[1024];
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "sipd: pipe: %s\n", strerror(errno));
		exit(EXIT_CONF);
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sipd: fork: %s\n", strerror(errno));
		exit(EXIT_CONF);
	}
	if (pid > 0) {
		close(p[1]);
		while (got < sizeof(buf) - 1) {
			n = read(p[0], buf + got, sizeof(buf) - 1 - got);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				break;
			}
			got += (size_t)n;
		}
		buf[got] = '\0';
		(void)waitpid(pid, NULL, 0);
		if (got > 0 && buf[0] == '0') {
			exit(EXIT_OK);
		}
		fprintf(stderr, "sipd: %s\n",
		    got > 1 ? buf + 1 : "the daemon died while starting");
		exit(EXIT_CONF);
	}
	close(p[0]);
	if (setsid() < 0) {
		_exit(EXIT_CONF);
	}
	pid = fork();
	if (pid < 0) {
		_exit(EXIT_CONF);
	}
	if (pid > 0) {
		_exit(EXIT_OK);
	}
	umask(022);
	st->notify = p[1];
}

/* The daemon is up: detach from the terminal and release the parent. */
static void
daemon_ready(struct start *st)
{
	int fd;

	if (chdir("/") < 0) {
		log_warn(LOG_TRANSPORT, "chdir / failed (%s)", strerror(errno));
	}
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO) {
			close(fd);
		}
	}
	if (write(st->notify, "0", 1) != 1) {
		log_warn(LOG_TRANSPORT, "start-up report failed (%s)",
		    strerror(errno));
	}
	close(st->notify);
	st->notify = -1;
}

/*
 * The pid file's path: -p as given (made absolute, since the daemon
 * changes to /), else in the run directory as a daemon, else none.
 */
static int
pid_path_resolve(struct start *st, const char *opt)
{
	const char *dir;
	char cwd[PATH_MAX];
	int n;

	if (opt != NULL && opt[0] == '/') {
		n = snprintf(st->pid_path, sizeof(st->pid_path), "%s", opt);
	} else if (opt != NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			fprintf(stderr, "sipd: getcwd: %s\n", strerror(errno));
			return -1;
		}
		n = snprintf(st->pid_path, sizeof(st->pid_path), "%s/%s", cwd,
		    opt);
	} else if (st->foreground) {
		st->pid_path[0] = '\0';
		return 0;
	} else {
		if (geteuid() == 0) {
			dir = SIPD_RUN_DIR;
			if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
				fprintf(stderr, "sipd: %s: %s\n", dir,
				    strerror(errno));
				return -1;
			}
			n = snprintf(st->pid_path, sizeof(st->pid_path), "%s/%s",
			    dir, SIPD_PID_NAME);
		} else {
			dir = getenv("XDG_RUNTIME_DIR");
			if (dir == NULL || dir[0] != '/') {
				fprintf(stderr, "sipd: no run directory for the "
				    "pid file (XDG_RUNTIME_DIR unset; use -p)\n");
				return -1;
			}
			n = snprintf(st->pid_path, sizeof(st->pid_path),
			    "%s/sipd", dir);
			if (n > 0 && (size_t)n < sizeof(st->pid_path) &&
			    mkdir(st->pid_path, 0700) < 0 && errno != EEXIST) {
				fprintf(stderr, "sipd: %s: %s\n", st->pid_path,
				    strerror(errno));
				return -1;
			}
			n = snprintf(st->pid_path, sizeof(st->pid_path),
			    "%s/sipd/%s", dir, SIPD_PID_NAME);
		}
	}
	if (n < 0 || (size_t)n >= sizeof(st->pid_path)) {
		fprintf(stderr, "sipd: pid file path too long\n");
		return -1;
	}
	return 0;
}

/* Create and lock the pid file; a lock held elsewhere means running. */
static int
pid_file_write(struct start *st)
{
	char buf[32];
	int fd, n;

	fd = open(st->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		start_fail(st, "%s: %s", st->pid_path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		start_fail(st, "%s: %s", st->pid_path,
		    errno == EWOULDBLOCK ? "sipd is already running"
					 : strerror(errno));
		goto fail;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		start_fail(st, "%s: %s", st->pid_path, strerror(errno));
		goto fail;
	}
	st->pid_fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

static void
pid_file_remove(struct start *st)
{
	if (st->pid_fd < 0) {
		return;
	}
	(void)unlink(st->pid_path);
	close(st->pid_fd);
	st->pid_fd = -1;
}

/*
 * The user to run as: -u, else "set user"; its group: "set group", else
 * the user's own.  Nothing to do when none is named, when it is root, or
 * when sipd is not root (it cannot change, and need not).  Returns 0 or
 * -1 after a message.
 */
static int
user_resolve(struct start *st, const struct conf *c, const char *opt)
{
	const char *user = opt != NULL ? opt : c->run_user;

	if (user[0] == '\0') {
		return 0;
	}
	if (conf_proc_ids(user, &st->uid, &st->gid) < 0) {
		fprintf(stderr, "sipd: unknown user '%s'\n", user);
		return -1;
	}
	if (c->run_group[0] != '\0' &&
	    conf_proc_gid(c->run_group, &st->gid) < 0) {
		fprintf(stderr, "sipd: unknown group '%s'\n", c->run_group);
		return -1;
	}
	st->user = user;
	st->drop = st->uid != 0 && geteuid() == 0;
	return 0;
}

/* Give path (when it exists) to the user sipd becomes. */
static int
give(struct start *st, const char *path)
{
	if (chown(path, st->uid, st->gid) < 0 && errno != ENOENT) {
		start_fail(st, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Hand what sipd keeps writing to st's user: the registration store and
 * its journals (and the run directory when the store is there, for the
 * journals it creates), the log file, the call records file and its
 * calls in progress, the control socket.  The pid file
 * stays root's; its directory decides whether it can be removed.
 */
static int
user_files(struct start *st, const struct conf *c, struct ctl *ctl)
{
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	char store[PATH_MAX + 32], dir[PATH_MAX], err[512];

	dir[0] = '\0';
	if (c->reg.store[0] == '\0') {
		if (svc_state_dir(dir, sizeof(dir)) < 0 || give(st, dir) < 0) {
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (c->reg.store[0] != '\0') {
			snprintf(store, sizeof(store), "%s%s", c->reg.store,
			    sfx[i]);
		} else {
			snprintf(store, sizeof(store), "%s/%s%s", dir,
			    SIPD_STORE_NAME, sfx[i]);
		}
		if (give(st, store) < 0) {
			return -1;
		}
	}
	if (c->log_out == CONF_LOG_FILE && give(st, c->log_file) < 0) {
		return -1;
	}
	/* the call records and the calls in progress beside them */
	if (c->cdr.on) {
		if (c->cdr.file[0] != '\0') {
			snprintf(store, sizeof(store), "%s", c->cdr.file);
		} else if (svc_state_dir(dir, sizeof(dir)) < 0 ||
		    give(st, dir) < 0) {
			return -1;
		} else {
			snprintf(store, sizeof(store), "%s/%s", dir,
			    CONF_CDR_FILE_NAME);
		}
		if (give(st, store) < 0) {
			return -1;
		}
		strncat(store, ".open", sizeof(store) - strlen(store) - 1);
		if (give(st, store) < 0) {
			return -1;
		}
	}
	if (ctl_socket_owner(ctl, st->uid, st->gid, err, sizeof(err)) < 0) {
		start_fail(st, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * Drop root for good: the supplementary groups, then the group, then the
 * user, all three ids of each; then check that none of root is left and
 * that it cannot come back.
 */
static int
user_drop(struct start *st)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];

	if (setgroups(1, &st->gid) < 0 ||
	    setresgid(st->gid, st->gid, st->gid) < 0 ||
	    setresuid(st->uid, st->uid, st->uid) < 0) {
		start_fail(st, "cannot become user %s (%s)", st->user,
		    strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != st->uid || eu != st->uid || su != st->uid ||
	    rg != st->gid || eg != st->gid || sg != st->gid ||
	    getgroups(2, groups) != 1 || groups[0] != st->gid ||
	    setuid(0) == 0 || seteuid(0) == 0) {
		start_fail(st, "user %s: root is not dropped", st->user);
		return -1;
	}
	log_warn(LOG_TRANSPORT, "running as user %s (uid %lu, gid %lu)",
	    st->user, (unsigned long)st->uid, (unsigned long)st->gid);
	return 0;
}

/* Changes through sipctl are saved to the file: say when they cannot be. */
static void
user_check_conf(const char *path)
{
	char real[PATH_MAX], dir[PATH_MAX], *slash;

	if (realpath(path, real) == NULL) {
		return;
	}
	memcpy(dir, real, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
	}
	if (access(real, R_OK | W_OK) < 0 ||
	    access(dir[0] != '\0' ? dir : "/", W_OK | X_OK) < 0) {
		log_warn(LOG_TRANSPORT, "control, %s: this user cannot save "
		    "changes to it or read it on SIGHUP (%s); give the file "
		    "and its directory to the user", real, strerror(errno));
	}
}

struct watchdog {
	struct workers *ws;
	int stuck; /* the worker last found stuck, -(i + 1); else 0 */
};

/*
 * Ping the service manager's watchdog while every worker's loop turns
 * (and this one, which runs the timer): a stuck worker stops the pings,
 * and systemd restarts sipd after WatchdogSec.
 */
static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct watchdog *wd = arg;
	int rc;

	(void)fd;
	(void)what;
	rc = workers_alive(wd->ws, SIPD_STUCK_MS);
	if (rc < 0 && wd->stuck == 0) {
		log_err(LOG_TRANSPORT, "watchdog, worker %d is stuck (no "
		    "turn of its loop for %u ms): no more pings", -rc - 1,
		    SIPD_STUCK_MS);
	} else if (rc == 0 && wd->stuck != 0) {
		log_warn(LOG_TRANSPORT, "watchdog, every worker turns again");
	}
	wd->stuck = rc;
	if (rc == 0) {
		svc_watchdog();
	}
}

/* SIGHUP: the service manager told, and a new call records file. */
static void
on_reload(void *arg, bool begin, int rc)
{
	struct workers *ws = arg;
	char err[512];

	if (begin) {
		svc_reloading();
		return;
	}
	/* -ENOENT: records are off, nothing to rotate */
	int r = cdr_rotate(workers_cdr(ws), err, sizeof(err));
	if (r < 0 && r != -ENOENT) {
		log_err(LOG_TRANSPORT, "cdr, %s", err);
	}
	svc_reloaded(rc);
}

/*
 * A graceful stop: the workers refuse what would begin a dialog or a
 * transaction (503 with Retry-After, so that a client or a load balancer
 * turns to another server) while the transactions running finish, for
 * at most "set stop-grace"; then the loop ends.  The listeners stay
 * open meanwhile: the answers and in-dialog requests of what runs come
 * in on them.  A second request to stop, or "shutdown now", ends the
 * loop at once.
 */
struct stopper {
	struct event_base *base;
	struct workers *ws;
	const struct conf *conf; /* the running one: its stop-grace */
	struct event *poll;
	uint64_t until;          /* ms, CLOCK_MONOTONIC */
	bool draining;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
on_stop_poll(evutil_socket_t fd, short what, void *arg)
{
	struct stopper *s = arg;
	size_t live;

	(void)fd;
	(void)what;
	live = workers_drain(s->ws);
	if (live == 0) {
		log_warn(LOG_TRANSPORT, "stopping, no transaction left "
		    "running");
	} else if (mono_ms() >= s->until) {
		log_warn(LOG_TRANSPORT, "stopping, %zu transaction%s still "
		    "running after %u s (set stop-grace): ended", live,
		    live == 1 ? "" : "s", s->conf->stop_grace_s);
	} else {
		return;
	}
	event_del(s->poll);
	event_base_loopbreak(s->base);
}

static void
stop_begin(struct stopper *s, const char *why, bool now)
{
	struct timeval tv = { 0, SIPD_STOP_POLL_MS * 1000 };

	if (s->draining || now) {
		log_warn(LOG_TRANSPORT, "stopping at once (%s)", why);
		if (!s->draining) {
			svc_stopping();
		}
		event_base_loopbreak(s->base);
		return;
	}
	s->draining = true;
	svc_stopping();
	log_warn(LOG_TRANSPORT, "stopping (%s): new requests get 503, the "
	    "transactions running have %u s to finish", why,
	    s->conf->stop_grace_s);
	s->until = mono_ms() + (uint64_t)s->conf->stop_grace_s * 1000;
	if (event_add(s->poll, &tv) < 0) {
		event_base_loopbreak(s->base);
		return;
	}
	on_stop_poll(-1, 0, s);
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	stop_begin(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT", false);
}

static void
on_stop_command(void *arg, const char *why, bool now)
{
	stop_begin(arg, why, now);
}

int
main(int argc, char **argv)
{
	const char *conf_path = SIPD_CONF_PATH, *pid_opt = NULL;
	const char *sock_opt = NULL, *user_opt = NULL;
	struct ctl *ctl = NULL;
	struct start st = { .notify = -1, .pid_fd = -1 };
	struct workers *ws = NULL;
	struct event_base *base = NULL;
	struct event *sig_term = NULL, *sig_int = NULL, *dog = NULL;
	struct watchdog wd = { 0 };
	struct stopper stopper = { 0 };
	struct conf conf;
	char err[1024];
	bool check = false;
	int ch, rc = EXIT_CONF;

	/* glibc gives each worker thread an arena that grows a page at a
	 * time, an mprotect() per page; while finished transactions pile up
	 * for their 64*T1 that was a tenth of sipd's CPU.  One heap, grown
	 * and trimmed in large steps (tcache keeps the threads off its
	 * lock for the small objects). */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_TOP_PAD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);

	while ((ch = getopt(argc, argv, "c:fhp:s:tu:V")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'f':
			st.foreground = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'p':
			pid_opt = optarg;
			break;
		case 's':
			sock_opt = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'u':
			user_opt = optarg;
			break;
		case 'V':
			printf("sipd %s\n", SIPD_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (conf_load(&conf, conf_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "sipd: %s\n", err);
		return EXIT_CONF;
	}
	if (user_resolve(&st, &conf, user_opt) < 0) {
		conf_fini(&conf);
		return EXIT_CONF;
	}
	if (check) {
		conf_fini(&conf);
		return EXIT_OK;
	}
	for (int i = 0; i < LOG__COMP_COUNT; i++) {
		log_set_level((enum log_comp)i, conf.levels[i]);
	}
	if (pid_path_resolve(&st, pid_opt) < 0) {
		return EXIT_CONF;
	}
	if (!st.foreground) {
		daemon_start(&st);
	}
	/* under systemd, stderr is the journal's stream: entries with
	 * fields go there directly */
	log_open(!st.foreground ? LOG_OUT_SYSLOG
	    : log_journal_stream() ? LOG_OUT_JOURNAL
	    : LOG_OUT_STDERR, "sipd");
	/* Writes to a closed stream must fail with EPIPE, not kill sipd. */
	signal(SIGPIPE, SIG_IGN);
	/* workers hand messages to each other and the main thread calls
	 * into them: libevent must lock */
	if (evthread_use_pthreads() < 0) {
		start_fail(&st, "cannot set up threads");
		goto out;
	}
	base = event_base_new();
	if (base == NULL) {
		start_fail(&st, "cannot create the event loop");
		goto out;
	}
	stopper.base = base;
	stopper.conf = &conf;
	stopper.poll = event_new(base, -1, EV_PERSIST, on_stop_poll, &stopper);
	sig_term = evsignal_new(base, SIGTERM, on_stop_signal, &stopper);
	sig_int = evsignal_new(base, SIGINT, on_stop_signal, &stopper);
	if (stopper.poll == NULL || sig_term == NULL || sig_int == NULL ||
	    evsignal_add(sig_term, NULL) < 0 ||
	    evsignal_add(sig_int, NULL) < 0) {
		start_fail(&st, "cannot catch signals");
		goto out;
	}
	ws = workers_new(&conf, err, sizeof(err));
	if (ws == NULL) {
		start_fail(&st, "%s", err);
		goto out;
	}
	stopper.ws = ws;
	if (st.pid_path[0] != '\0' && pid_file_write(&st) < 0) {
		goto out;
	}
	ctl = ctl_new(base, ws, &conf, conf_path, sock_opt, err, sizeof(err));
	if (ctl == NULL) {
		start_fail(&st, "%s", err);
		goto out;
	}
	if (st.drop && (user_files(&st, &conf, ctl) < 0 ||
			   user_drop(&st) < 0)) {
		goto out;
	}
	if (st.drop) {
		user_check_conf(conf_path);
	} else if (geteuid() == 0) {
		log_warn(LOG_TRANSPORT, "running as root: every SIP message is "
		    "parsed as root (set user)");
	} else if (st.user != NULL && geteuid() != st.uid) {
		log_notice(LOG_TRANSPORT, "set user %s: not root, sipd stays "
		    "uid %lu", st.user, (unsigned long)geteuid());
	}
	if (workers_start(ws) < 0) {
		start_fail(&st, "cannot start the worker threads");
		goto out;
	}
	ctl_set_reload_hook(ctl, on_reload, ws);
	ctl_set_stop_hook(ctl, on_stop_command, &stopper);
	if (svc_watchdog_usec() > 0) {
		/* half the interval, as sd_watchdog_enabled(3) advises */
		uint64_t half = svc_watchdog_usec() / 2;
		struct timeval tv = { (time_t)(half / 1000000),
			(suseconds_t)(half % 1000000) };
		wd.ws = ws;
		dog = event_new(base, -1, EV_PERSIST, on_watchdog, &wd);
		if (dog == NULL || event_add(dog, &tv) < 0) {
			start_fail(&st, "cannot set up the watchdog");
			goto out;
		}
		svc_watchdog();
	}
	if (!st.foreground) {
		daemon_ready(&st);
	}
	log_warn(LOG_TRANSPORT, "sipd %s started (pid %ld, %u workers)",
	    SIPD_VERSION, (long)getpid(), workers_count(ws));
	/* the listeners and the control socket are open: ready */
	svc_ready(workers_count(ws));
	rc = event_base_dispatch(base) < 0 ? EXIT_CONF : EXIT_OK;
	if (rc != EXIT_OK) {
		log_err(LOG_TRANSPORT, "event loop failed");
	}
	if (!stopper.draining) {
		svc_stopping();
	}
	/* drained already (stop_begin()), or stopping at once */
	workers_stop(ws, 0);
out:
	ctl_free(ctl);
	workers_free(ws);
	if (dog != NULL) {
		event_free(dog);
	}
	if (stopper.poll != NULL) {
		event_free(stopper.poll);
	}
	if (sig_term != NULL) {
		event_free(sig_term);
	}
	if (sig_int != NULL) {
		event_free(sig_int);
	}
	if (base != NULL) {
		event_base_free(base);
	}
	pid_file_remove(&st);
	conf_fini(&conf);
	log_close();
	return rc;
}
