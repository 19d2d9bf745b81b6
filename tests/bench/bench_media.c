/*
 * bench_media: the media relay's cost per packet and the delay it adds, at
 * a call load: R relays (default 500), each carrying 50 packets a second
 * per direction of 172 bytes (G.711, 20 ms), over loopback.
 *
 * Endpoint A (127.0.0.2) and endpoint B (127.0.0.3) are one socket each:
 * each sends one packet per relay every 20 ms with sendmmsg(), stamped
 * with the send time; a receiver thread per endpoint reads with
 * recvmmsg() and records the delay.  The relay runs on the engine's own
 * thread (media_start()), as in sipd, and that thread's CPU time (user
 * and system, /proc/self/task/TID/stat) is what "per CPU-second" divides
 * by; its sleeps (voluntary context switches) are counted too.
 * The added delay is the relayed delay less the delay of the same
 * endpoints sending to each other directly, measured in a first phase.
 *
 * Usage: bench_media [-r relays] [-s seconds] [-p pps]
 *        bench_media -x FILE -P PID [-a PORT] [-b PORT] [-s seconds] [-p pps]
 * Prints what it measured; the last line is the figure to compare.
 *
 * With -x the relay is another process (sipd, rtpengine: set up by
 * bench_media.py): FILE has a line per call, "A-IP A-PORT B-IP B-PORT",
 * where endpoint A sends (the port in the answer A received) and where B
 * sends (the port in the offer B received); the endpoints bind ports -a
 * and -b (what their SDP named), and the CPU time of process PID, every
 * thread, user and system (/proc/PID/stat), divides the packets the
 * endpoints received.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sipd/media/media.h"

#define PKT_LEN 172
#define MAX_RELAYS 4000
#define HIST_US 2000000 /* delays up to 2 s, 1 us buckets */

struct side {
	int fd;
	struct sockaddr_in addr;
	pthread_t thread;
	uint64_t *hist; /* delay histogram, microseconds */
	uint64_t received, late;
};

static atomic_bool stop_rx;
static struct media *engine;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Process pid's CPU time (every thread, user and system), seconds. */
static double
proc_cpu_s(int pid)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command's closing parenthesis: fields 3 on */
	char *p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %llu %llu", &ut, &st) != 2) {
		return -1;
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static struct sockaddr_in
v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static void
side_open(struct side *s, const char *ip, uint16_t port)
{
	socklen_t len = sizeof(s->addr);
	int buf = 8 << 20;

	memset(s, 0, sizeof(*s));
	s->addr = v4(ip, port);
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&s->addr,
	    sizeof(s->addr)) < 0 || getsockname(s->fd,
	    (struct sockaddr *)&s->addr, &len) < 0) {
		fprintf(stderr, "bench_media: endpoint %s: %s\n", ip,
		    strerror(errno));
		exit(1);
	}
	s->hist = calloc(HIST_US + 1, sizeof(uint64_t));
}

static void *
rx_main(void *arg)
{
	struct side *s = arg;
	enum { B = 64 };
	static _Thread_local uint8_t buf[B][2048];
	struct mmsghdr mm[B];
	struct iovec iov[B];

	for (int i = 0; i < B; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i],
		    .msg_iovlen = 1 };
	}
	struct timeval tv = { 0, 100000 };
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!atomic_load(&stop_rx)) {
		int n = recvmmsg(s->fd, mm, B, MSG_WAITFORONE, NULL);
		uint64_t t = now_ns();

		for (int i = 0; i < n; i++) {
			uint64_t sent;

			if (mm[i].msg_len < 20) {
				continue;
			}
			memcpy(&sent, buf[i] + 12, sizeof(sent));
			uint64_t us = t > sent ? (t - sent) / 1000 : 0;
			s->hist[us < HIST_US ? us : HIST_US]++;
			s->late += us >= HIST_US;
			s->received++;
		}
	}
	return NULL;
}

/*
 * The engine's thread ("media", media_start()): its id in this process,
 * or 0.
 */
static int
media_tid(void)
{
	char path[300], comm[32];

	for (int tries = 0; tries < 100; tries++) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *e;
		int tid = 0;

		while (d != NULL && (e = readdir(d)) != NULL) {
			FILE *f;

			snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			    e->d_name);
			f = fopen(path, "r");
			if (f == NULL) {
				continue;
			}
			if (fgets(comm, sizeof(comm), f) != NULL &&
			    strcmp(comm, "media\n") == 0) {
				tid = atoi(e->d_name);
			}
			fclose(f);
		}
		if (d != NULL) {
			closedir(d);
		}
		if (tid != 0) {
			return tid;
		}
		usleep(10000);
	}
	return 0;
}

/* Thread tid's CPU time (user and system, s) and its sleeps. */
static void
task_usage(int tid, double *cpu, long *sleeps)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	FILE *f;

	*cpu = 0;
	*sleeps = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (f != NULL) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u "
		    "%*u %*u %*u %*u %llu %llu", &ut, &st) == 2) {
			*cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	while (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
		sscanf(buf, "voluntary_ctxt_switches: %ld", sleeps);
	}
	if (f != NULL) {
		fclose(f);
	}
}

/* One packet per destination every 1/pps s for seconds; from fd. */
static uint64_t
pump(int fd, struct sockaddr_in *dst, int n, int pps, int seconds,
    uint32_t ssrc_base)
{
	struct mmsghdr *mm = calloc((size_t)n, sizeof(*mm));
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	uint8_t (*pkt)[PKT_LEN] = calloc((size_t)n, PKT_LEN);
	uint64_t period = 1000000000u / (uint64_t)pps, next = now_ns(),
	    end = next + (uint64_t)seconds * 1000000000u, sent = 0;
	uint16_t seq = 0;

	for (int i = 0; i < n; i++) {
		uint32_t ssrc = ssrc_base + (uint32_t)i;

		pkt[i][0] = 0x80;
		pkt[i][8] = (uint8_t)(ssrc >> 24);
		pkt[i][9] = (uint8_t)(ssrc >> 16);
		pkt[i][10] = (uint8_t)(ssrc >> 8);
		pkt[i][11] = (uint8_t)ssrc;
		iov[i] = (struct iovec){ pkt[i], PKT_LEN };
		mm[i].msg_hdr = (struct msghdr){ .msg_name = &dst[i],
		    .msg_namelen = sizeof(dst[i]), .msg_iov = &iov[i],
		    .msg_iovlen = 1 };
	}
	while (next < end) {
		uint64_t t = now_ns();

		if (t < next) {
			struct timespec ts = { 0, (long)(next - t) };
			nanosleep(&ts, NULL);
		}
		seq++;
		for (int i = 0; i < n; i++) {
			uint64_t stamp = now_ns();

			pkt[i][2] = (uint8_t)(seq >> 8);
			pkt[i][3] = (uint8_t)seq;
			memcpy(pkt[i] + 12, &stamp, sizeof(stamp));
		}
		for (int off = 0; off < n;) {
			int rc = sendmmsg(fd, mm + off, (unsigned)(n - off), 0);
			if (rc <= 0) {
				break;
			}
			off += rc;
			sent += (uint64_t)rc;
		}
		next += period;
	}
	free(pkt);
	free(iov);
	free(mm);
	return sent;
}

struct pump_arg {
	int fd, n, pps, seconds;
	struct sockaddr_in *dst;
	uint32_t ssrc;
	uint64_t sent;
};

static void *
pump_main(void *arg)
{
	struct pump_arg *p = arg;

	p->sent = pump(p->fd, p->dst, p->n, p->pps, p->seconds, p->ssrc);
	return NULL;
}

static double
percentile(const struct side *x, const struct side *y, double q)
{
	uint64_t total = x->received + y->received, want, acc = 0;

	if (total == 0) {
		return 0;
	}
	want = (uint64_t)(q * (double)total);
	for (uint32_t us = 0; us <= HIST_US; us++) {
		acc += x->hist[us] + y->hist[us];
		if (acc > want) {
			return us;
		}
	}
	return HIST_US;
}

static void
reset(struct side *s)
{
	memset(s->hist, 0, (HIST_US + 1) * sizeof(uint64_t));
	s->received = s->late = 0;
}

/* Both sides send to dsts for seconds; returns packets sent. */
static uint64_t
run_phase(struct side *a, struct side *b, struct sockaddr_in *to_a,
    struct sockaddr_in *to_b, int n, int pps, int seconds)
{
	struct pump_arg pa = { a->fd, n, pps, seconds, to_b, 0xa0000, 0 };
	struct pump_arg pb = { b->fd, n, pps, seconds, to_a, 0xb0000, 0 };
	pthread_t ta, tb;

	atomic_store(&stop_rx, false);
	pthread_create(&a->thread, NULL, rx_main, a);
	pthread_create(&b->thread, NULL, rx_main, b);
	pthread_create(&ta, NULL, pump_main, &pa);
	pthread_create(&tb, NULL, pump_main, &pb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	struct timespec ts = { 0, 300 * 1000000L };
	nanosleep(&ts, NULL);
	atomic_store(&stop_rx, true);
	pthread_join(a->thread, NULL);
	pthread_join(b->thread, NULL);
	return pa.sent + pb.sent;
}

/* -x: the relay is process pid; the calls' addresses are in file. */
static int
external(const char *file, int pid, uint16_t pa, uint16_t pb, int pps,
    int seconds)
{
	struct sockaddr_in *to_a = calloc(MAX_RELAYS, sizeof(*to_a));
	struct sockaddr_in *to_b = calloc(MAX_RELAYS, sizeof(*to_b));
	char ipa[64], ipb[64];
	unsigned porta, portb;
	struct side a, b;
	int n = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL || to_a == NULL || to_b == NULL) {
		fprintf(stderr, "bench_media: %s: %s\n", file, strerror(errno));
		return 1;
	}
	while (n < MAX_RELAYS && fscanf(f, "%63s %u %63s %u", ipa, &porta,
	    ipb, &portb) == 4) {
		/* run_phase() sends a's packets to its to_b list */
		to_b[n] = v4(ipa, (uint16_t)porta);
		to_a[n] = v4(ipb, (uint16_t)portb);
		n++;
	}
	fclose(f);
	side_open(&a, "127.0.0.2", pa);
	side_open(&b, "127.0.0.3", pb);
	/* the floor: the same load from endpoint to endpoint */
	struct sockaddr_in *da = calloc((size_t)n, sizeof(*da));
	struct sockaddr_in *db = calloc((size_t)n, sizeof(*db));
	for (int i = 0; i < n; i++) {
		da[i] = a.addr;
		db[i] = b.addr;
	}
	run_phase(&a, &b, da, db, n, pps, 3);
	double d50 = percentile(&a, &b, 0.5), d99 = percentile(&a, &b, 0.99);
	free(da);
	free(db);
	reset(&a);
	reset(&b);
	double c0 = proc_cpu_s(pid);
	uint64_t t0 = now_ns();
	uint64_t sent = run_phase(&a, &b, to_a, to_b, n, pps, seconds);
	double wall = (double)(now_ns() - t0) / 1e9;
	double cpu = proc_cpu_s(pid) - c0;
	double r50 = percentile(&a, &b, 0.5), r99 = percentile(&a, &b, 0.99);
	uint64_t got = a.received + b.received;

	printf("calls %d, sent %llu, received %llu, lost %.2f%%\n", n,
	    (unsigned long long)sent, (unsigned long long)got,
	    sent ? 100.0 * (double)(sent - (got < sent ? got : sent)) /
	    (double)sent : 0.0);
	printf("relay process: %.3f CPU-s over %.1f s wall (%.1f%% of a "
	    "core); delay p50 %.0f us p99 %.0f us, added p50 %.0f us p99 "
	    "%.0f us\n", cpu, wall, 100.0 * cpu / wall, r50, r99, r50 - d50,
	    r99 - d99);
	printf("packets per CPU-second: %.0f\n",
	    cpu > 0 ? (double)got / cpu : 0.0);
	return 0;
}

int
main(int argc, char **argv)
{
	int relays = 500, seconds = 10, pps = 50, opt, pid = 0;
	unsigned pa = 0, pb = 0;
	const char *xfile = NULL;
	struct side a, b;
	struct media_settings ms;
	char err[256];
	int tid;

	while ((opt = getopt(argc, argv, "r:s:p:x:P:a:b:")) != -1) {
		switch (opt) {
		case 'x':
			xfile = optarg;
			break;
		case 'P':
			pid = atoi(optarg);
			break;
		case 'a':
			pa = (unsigned)atoi(optarg);
			break;
		case 'b':
			pb = (unsigned)atoi(optarg);
			break;
		case 'r':
			relays = atoi(optarg);
			break;
		case 's':
			seconds = atoi(optarg);
			break;
		case 'p':
			pps = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_media [-r relays] "
			    "[-s seconds] [-p pps]\n"
			    "       bench_media -x FILE -P PID [-a PORT] "
			    "[-b PORT] [-s seconds] [-p pps]\n");
			return 2;
		}
	}
	if (relays < 1 || relays > MAX_RELAYS || seconds < 1 || pps < 1 ||
	    pps > 1000) {
		fprintf(stderr, "bench_media: bad arguments\n");
		return 2;
	}
	if (xfile != NULL) {
		return external(xfile, pid, (uint16_t)pa, (uint16_t)pb, pps,
		    seconds);
	}
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)relays * 4 + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	side_open(&a, "127.0.0.2", 0);
	side_open(&b, "127.0.0.3", 0);

	/* phase 1: the endpoints straight to each other, the floor */
	struct sockaddr_in *to_a = calloc((size_t)relays, sizeof(*to_a));
	struct sockaddr_in *to_b = calloc((size_t)relays, sizeof(*to_b));
	for (int i = 0; i < relays; i++) {
		to_a[i] = a.addr;
		to_b[i] = b.addr;
	}
	uint64_t sent0 = run_phase(&a, &b, to_a, to_b, relays, pps, 3);
	double d50 = percentile(&a, &b, 0.5), d99 = percentile(&a, &b, 0.99);
	printf("direct:  %llu packets sent, %llu received, delay p50 %.0f us "
	    "p99 %.0f us\n", (unsigned long long)sent0,
	    (unsigned long long)(a.received + b.received), d50, d99);
	reset(&a);
	reset(&b);

	/* phase 2: through relays, each leg given its endpoint's address
	 * as its SDP would */
	media_settings_default(&ms);
	ms.port_min = 20000;
	ms.port_max = 29999;
	engine = media_new(&ms, err, sizeof(err));
	if (engine == NULL) {
		fprintf(stderr, "bench_media: %s\n", err);
		return 1;
	}
	/* the engine's own thread, as in sipd (media_start()), started
	 * before the relays as there (it picks its loop when it starts) */
	if (media_start(engine) < 0 || (tid = media_tid()) == 0) {
		fprintf(stderr, "bench_media: no engine thread\n");
		return 1;
	}
	struct sockaddr_in la = v4("127.0.0.1", 0);
	for (int i = 0; i < relays; i++) {
		struct media_leg_conf ca = { (struct sockaddr *)&la,
		    (struct sockaddr *)&a.addr, NULL };
		struct media_leg_conf cb = { (struct sockaddr *)&la,
		    (struct sockaddr *)&b.addr, NULL };
		struct media_alloc al;
		int rc = media_relay_new(engine, &ca, &cb, &al);

		if (rc < 0) {
			fprintf(stderr, "bench_media: relay %d: %s\n", i,
			    strerror(-rc));
			return 1;
		}
		memcpy(&to_a[i], &al.local[0], sizeof(to_a[i]));
		memcpy(&to_b[i], &al.local[1], sizeof(to_b[i]));
	}
	struct media_stats st0, st1;
	double cpu0, cpu1;
	long sleeps0, sleeps1;
	media_stats(engine, &st0);
	task_usage(tid, &cpu0, &sleeps0);
	uint64_t t0 = now_ns();
	uint64_t sent = run_phase(&a, &b, to_a, to_b, relays, pps, seconds);
	double wall = (double)(now_ns() - t0) / 1e9;
	task_usage(tid, &cpu1, &sleeps1);
	media_stats(engine, &st1);
	double relay_cpu_s = cpu1 - cpu0;
	long relay_wakeups = sleeps1 - sleeps0;
	uint64_t relayed = st1.packets - st0.packets;
	double r50 = percentile(&a, &b, 0.5), r99 = percentile(&a, &b, 0.99);
	uint64_t got = a.received + b.received;

	printf("relayed: %d relays x %d pps x 2 directions, %d s: %llu sent, "
	    "%llu relayed, %llu received (%.2f%% lost)\n", relays, pps,
	    seconds, (unsigned long long)sent, (unsigned long long)relayed,
	    (unsigned long long)got,
	    sent ? 100.0 * (double)(sent - (got < sent ? got : sent)) /
	    (double)sent : 0.0);
	printf("relay thread: %.3f CPU-s over %.1f s wall (%.1f%% of a "
	    "core), %ld sleeps (%.3f a packet)\n", relay_cpu_s, wall,
	    100.0 * relay_cpu_s / wall, relay_wakeups,
	    relayed ? (double)relay_wakeups / (double)relayed : 0.0);
	printf("delay through the relay: p50 %.0f us p99 %.0f us; added: "
	    "p50 %.0f us p99 %.0f us\n", r50, r99, r50 - d50, r99 - d99);
	printf("media packets per CPU-second: %.0f\n",
	    relay_cpu_s > 0 ? (double)relayed / relay_cpu_s : 0.0);
	media_free(engine);
	close(a.fd);
	close(b.fd);
	free(a.hist);
	free(b.hist);
	free(to_a);
	free(to_b);
	return 0;
}
