/*
 * TLS transport with certificates made at test time by the openssl
 * command line in a temporary directory: an OpenSSL client (in a thread)
 * sends a message to a TLS listener and reads the reply; a TLS 1.1 client
 * is refused; a listener that verifies clients refuses a certificate of
 * another CA; outgoing connections send SNI, check the server's name or
 * address and refuse a server of an unknown CA, and are reused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "harness.h"

static char dir[64];
static char path_buf[16][128];
static int npath;

/* dir/name, kept until the end of the run */
static const char *
path(const char *name)
{
	char *p = path_buf[npath++ % 16];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
	return p;
}

static int
run(const char *cmd)
{
	char line[1024];

	snprintf(line, sizeof(line), "cd %s && %s >/dev/null 2>&1", dir, cmd);
	return system(line);
}

#define NEWKEY "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "

static int
group_setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sipd-tls-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		return -1;
	}
	f = fopen(path("srv.ext"), "w");
	if (f == NULL) {
		return -1;
	}
	fputs("subjectAltName=DNS:localhost,IP:127.0.0.1\n", f);
	if (fclose(f) != 0 ||
	    run("openssl req -x509 " NEWKEY "-keyout ca.key -out ca.crt "
		"-days 2 -subj /CN=sipd-test-ca") != 0 ||
	    run("openssl req -x509 " NEWKEY "-keyout ca2.key -out ca2.crt "
		"-days 2 -subj /CN=other-ca") != 0 ||
	    run("openssl req " NEWKEY "-keyout srv.key -out srv.csr "
		"-subj /CN=localhost") != 0 ||
	    run("openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key "
		"-CAcreateserial -out srv.crt -days 2 -extfile srv.ext") != 0 ||
	    run("openssl req " NEWKEY "-keyout cli.key -out cli.csr "
		"-subj /CN=client") != 0 ||
	    run("openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key "
		"-CAcreateserial -out cli.crt -days 2") != 0 ||
	    run("openssl req " NEWKEY "-keyout cli2.key -out cli2.csr "
		"-subj /CN=stranger") != 0 ||
	    run("openssl x509 -req -in cli2.csr -CA ca2.crt -CAkey ca2.key "
		"-CAcreateserial -out cli2.crt -days 2") != 0) {
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	struct h *h;

	if (access(path("srv.crt"), R_OK) != 0) {
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return -1;
	}
	h_init(h);
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	struct h *h = *state;

	h_fini(h);
	free(h);
	return 0;
}

static struct tp_listener *
listen_tls(struct h *h, bool verify, const char *ca)
{
	struct tp_tls_conf conf = {
		.cert_file = path("srv.crt"),
		.key_file = path("srv.key"),
		.ca_file = ca != NULL ? path(ca) : NULL,
		.verify_peer = verify,
	};
	struct sockaddr_storage ss;
	struct tp_listener *l = NULL;
	socklen_t len;

	h_addr4(&ss, &len, 0);
	assert_int_equal(tp_tls_listen(h->tp, (struct sockaddr *)&ss, len,
			     &conf, &l),
	    0);
	assert_int_equal(tp_listener_proto(l), TP_TLS);
	return l;
}

/* ------------------------------------------------- an OpenSSL client */

struct tcli {
	uint16_t port;
	int max_version; /* 0: the default */
	const char *cert, *key;
	const char *msg;
	size_t want; /* reply bytes to read */
	bool handshake_ok;
	size_t got;
	char reply[1024];
	atomic_bool done;
};

static void *
tcli_run(void *arg)
{
	struct tcli *t = arg;
	struct timeval tv = { 5, 0 };
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int fd;

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		goto out;
	}
	if (t->max_version != 0) {
		/* let the old version out of the client at least */
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(ctx, 0);
		SSL_CTX_set_max_proto_version(ctx, t->max_version);
	}
	SSL_CTX_load_verify_locations(ctx, path("ca.crt"), NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (t->cert != NULL) {
		SSL_CTX_use_certificate_file(ctx, path(t->cert),
		    SSL_FILETYPE_PEM);
		SSL_CTX_use_PrivateKey_file(ctx, path(t->key),
		    SSL_FILETYPE_PEM);
	}
	fd = cli_connect(t->port);
	if (fd < 0) {
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "localhost");
	SSL_set1_host(ssl, "localhost");
	if (SSL_connect(ssl) != 1) {
		close(fd);
		goto out;
	}
	t->handshake_ok = true;
	if (SSL_write(ssl, t->msg, (int)strlen(t->msg)) <= 0) {
		close(fd);
		goto out;
	}
	while (t->got < t->want) {
		int n = SSL_read(ssl, t->reply + t->got,
		    (int)(sizeof(t->reply) - t->got));
		if (n <= 0) {
			break;
		}
		t->got += (size_t)n;
	}
	close(fd);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	atomic_store(&t->done, true);
	return NULL;
}

/* Run t against h's loop until it is done (at most 10 s). */
static void
tcli_drive(struct h *h, struct tcli *t)
{
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, tcli_run, t), 0);
	for (int i = 0; i < 2000 && !atomic_load(&t->done); i++) {
		h_pump(h, 5);
	}
	pthread_join(th, NULL);
}

static void
test_message_and_reply(void **state)
{
	struct h *h = *state;
	static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct tp_listener *l = listen_tls(h, false, NULL);
	char m[1024];
	struct tcli t = { .port = h_port(l), .msg = m,
		.want = sizeof(reply) - 1 };

	mk_msg(m, sizeof(m), 1, "over tls");
	h->echo = reply;
	tcli_drive(h, &t);
	assert_true(t.handshake_ok);
	assert_int_equal(h->nrx, 1);
	assert_string_equal(h->rx_data[0], m);
	assert_int_equal(h->rx_src[0].proto, TP_TLS);
	assert_true(h->rx_src[0].conn_id != 0);
	assert_int_equal(h->echo_rc, 0);
	assert_int_equal(t.got, sizeof(reply) - 1);
	assert_memory_equal(t.reply, reply, sizeof(reply) - 1);
}

static void
test_tls11_refused(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tls(h, false, NULL);
	char m[1024];
	struct tcli old = { .port = h_port(l), .msg = m,
		.max_version = TLS1_1_VERSION };
	struct tcli tls12 = { .port = h_port(l), .msg = m,
		.max_version = TLS1_2_VERSION };
	struct tp_stats st;

	mk_msg(m, sizeof(m), 1, "");
	tcli_drive(h, &old);
	assert_false(old.handshake_ok);
	h_pump(h, 20);
	assert_int_equal(h->nrx, 0);
	tp_stats(h->tp, &st);
	assert_int_equal(st.conns_in, 0);
	/* the same client allowed TLS 1.2 gets in */
	tcli_drive(h, &tls12);
	assert_true(tls12.handshake_ok);
	assert_true(h_wait_rx(h, 1, 3000));
}

static void
test_client_verify(void **state)
{
	struct h *h = *state;
	struct tp_listener *l = listen_tls(h, true, "ca.crt");
	char m[1024];
	struct tcli good = { .port = h_port(l), .msg = m, .cert = "cli.crt",
		.key = "cli.key" };
	struct tcli stranger = { .port = h_port(l), .msg = m,
		.cert = "cli2.crt", .key = "cli2.key", .want = 1 };
	struct tcli none = { .port = h_port(l), .msg = m, .want = 1 };

	mk_msg(m, sizeof(m), 1, "");
	/* a certificate of the listener's CA */
	tcli_drive(h, &good);
	assert_true(good.handshake_ok);
	assert_true(h_wait_rx(h, 1, 3000));
	/* one of another CA, and none: refused (with TLS 1.3 the client
	 * learns it on its first read) */
	tcli_drive(h, &stranger);
	tcli_drive(h, &none);
	h_pump(h, 100);
	assert_int_equal(h->nrx, 1);
	assert_int_equal(stranger.got, 0);
	assert_int_equal(none.got, 0);
}

/* ------------------------------------------------- outgoing connections */

struct crx {
	unsigned n;
	struct tp_src src;
	unsigned nerr;
	int err;
};

static void
crx_recv(void *arg, const struct tp_src *src, const char *data, size_t len)
{
	struct crx *c = arg;

	(void)data;
	(void)len;
	c->n++;
	c->src = *src;
}

static void
crx_error(void *arg, const struct tp_src *dst, int err)
{
	struct crx *c = arg;

	(void)dst;
	c->nerr++;
	c->err = err;
}

static struct tp *
client_tp(struct h *h, struct crx *c, const char *ca, bool verify)
{
	struct tp_tls_conf conf = { .ca_file = path(ca),
		.verify_peer = verify };
	struct tp *tp = tp_new(h->base, 65535, crx_recv, c);

	assert_non_null(tp);
	tp_set_error_fn(tp, crx_error, c);
	assert_int_equal(tp_set_tls_client(tp, &conf), 0);
	return tp;
}

static void
test_outgoing(void **state)
{
	struct h *h = *state;
	static const char reply[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct tp_listener *l = listen_tls(h, false, NULL);
	struct crx c = { 0 };
	struct tp *ctp = client_tp(h, &c, "ca.crt", true);
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "out");
	struct tp_src dst;
	struct tp_stats st;

	memset(&dst, 0, sizeof(dst));
	h_addr4(&dst.addr, &dst.addrlen, h_port(l));
	dst.proto = TP_TLS;
	dst.host = "localhost";
	h->echo = reply;
	assert_int_equal(tp_send(ctp, &dst, m, n), 0);
	assert_true(h_wait_rx(h, 1, 3000));
	assert_int_equal(h->rx_src[0].proto, TP_TLS);
	for (int i = 0; i < 600 && c.n == 0; i++) {
		h_pump(h, 5);
	}
	assert_int_equal(c.n, 1);
	assert_int_equal(c.src.proto, TP_TLS);
	assert_true(c.src.conn_id != 0);
	/* reused, by address and by id */
	assert_int_equal(tp_send(ctp, &dst, m, n), 0);
	assert_int_equal(tp_send(ctp, &c.src, m, n), 0);
	assert_true(h_wait_rx(h, 3, 3000));
	assert_true(h->rx_src[1].conn_id == h->rx_src[0].conn_id);
	assert_true(h->rx_src[2].conn_id == h->rx_src[0].conn_id);
	tp_stats(ctp, &st);
	assert_int_equal(st.conns_out, 1);
	assert_int_equal(st.connected, 1);
	assert_int_equal(c.nerr, 0);
	tp_free(ctp);
}

/* A send that must fail the server check; returns the error reported. */
static int
outgoing_refused(struct h *h, const char *ca, const char *host)
{
	struct tp_listener *l = listen_tls(h, false, NULL);
	struct crx c = { 0 };
	struct tp *ctp = client_tp(h, &c, ca, true);
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	unsigned before = h->nrx;
	struct tp_src dst;
	struct tp_stats st;

	memset(&dst, 0, sizeof(dst));
	h_addr4(&dst.addr, &dst.addrlen, h_port(l));
	dst.proto = TP_TLS;
	dst.host = host;
	assert_int_equal(tp_send(ctp, &dst, m, n), 0);
	for (int i = 0; i < 600 && c.nerr == 0; i++) {
		h_pump(h, 5);
	}
	assert_int_equal(c.nerr, 1);
	h_pump(h, 20);
	assert_int_equal(h->nrx, before);
	tp_stats(ctp, &st);
	assert_int_equal(st.connect_failed, 1);
	assert_int_equal(st.conns_out, 0);
	tp_free(ctp);
	tp_listener_close(l);
	return c.err;
}

static void
test_outgoing_refused(void **state)
{
	struct h *h = *state;

	/* a server of a CA we do not trust */
	assert_true(outgoing_refused(h, "ca2.crt", "localhost") < 0);
	/* a name the certificate does not carry */
	assert_true(outgoing_refused(h, "ca.crt", "sip.example.com") < 0);
	/* an address it does not carry (it has 127.0.0.1 only) */
	assert_true(outgoing_refused(h, "ca.crt", "127.0.0.2") < 0);
}

/* ----------------------------------------- SNI seen by an OpenSSL server */

struct tsrv {
	int lfd;
	char sni[256];
	size_t got;
	atomic_bool done;
};

static int
tsrv_sni(SSL *ssl, int *alert, void *arg)
{
	struct tsrv *s = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)alert;
	snprintf(s->sni, sizeof(s->sni), "%s", name != NULL ? name : "");
	return SSL_TLSEXT_ERR_OK;
}

static void *
tsrv_run(void *arg)
{
	struct tsrv *s = arg;
	struct timeval tv = { 5, 0 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl = NULL;
	char buf[2048];
	int fd = -1;

	SSL_CTX_use_certificate_chain_file(ctx, path("srv.crt"));
	SSL_CTX_use_PrivateKey_file(ctx, path("srv.key"), SSL_FILETYPE_PEM);
	SSL_CTX_set_tlsext_servername_callback(ctx, tsrv_sni);
	SSL_CTX_set_tlsext_servername_arg(ctx, s);
	setsockopt(s->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0) {
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		int n = SSL_read(ssl, buf, sizeof(buf));
		s->got = n > 0 ? (size_t)n : 0;
	}
	close(fd);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	atomic_store(&s->done, true);
	return NULL;
}

static void
sni_case(struct h *h, const char *host, const char *want_sni)
{
	struct tsrv s = { .lfd = -1 };
	struct crx c = { 0 };
	struct tp *ctp = client_tp(h, &c, "ca.crt", true);
	struct sockaddr_storage ss;
	socklen_t len;
	struct tp_src dst;
	char m[1024];
	size_t n = mk_msg(m, sizeof(m), 1, "");
	pthread_t th;

	s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s.lfd >= 0);
	h_addr4(&ss, &len, 0);
	assert_int_equal(bind(s.lfd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(s.lfd, 4), 0);
	len = sizeof(ss);
	assert_int_equal(getsockname(s.lfd, (struct sockaddr *)&ss, &len), 0);
	assert_int_equal(pthread_create(&th, NULL, tsrv_run, &s), 0);
	memset(&dst, 0, sizeof(dst));
	memcpy(&dst.addr, &ss, sizeof(ss));
	dst.addrlen = len;
	dst.proto = TP_TLS;
	dst.host = host;
	assert_int_equal(tp_send(ctp, &dst, m, n), 0);
	for (int i = 0; i < 2000 && !atomic_load(&s.done); i++) {
		h_pump(h, 5);
	}
	pthread_join(th, NULL);
	assert_string_equal(s.sni, want_sni);
	assert_int_equal(s.got, n);
	assert_int_equal(c.nerr, 0);
	close(s.lfd);
	tp_free(ctp);
}

static void
test_sni(void **state)
{
	struct h *h = *state;

	sni_case(h, "localhost", "localhost");
	/* no name: no SNI, the address is checked (RFC 6066 3) */
	sni_case(h, NULL, "");
	sni_case(h, "127.0.0.1", "");
}

static void
test_bad_files(void **state)
{
	struct h *h = *state;
	struct tp_tls_conf conf = { .cert_file = path("nonexistent.crt"),
		.key_file = path("srv.key") };
	struct tp_tls_conf mismatch = { .cert_file = path("srv.crt"),
		.key_file = path("cli.key") };
	struct sockaddr_storage ss;
	socklen_t len;

	h_addr4(&ss, &len, 0);
	assert_int_equal(tp_tls_listen(h->tp, (struct sockaddr *)&ss, len,
			     &conf, NULL),
	    -EINVAL);
	assert_int_equal(tp_tls_listen(h->tp, (struct sockaddr *)&ss, len,
			     &mismatch, NULL),
	    -EINVAL);
	conf.cert_file = NULL;
	assert_int_equal(tp_tls_listen(h->tp, (struct sockaddr *)&ss, len,
			     &conf, NULL),
	    -EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_message_and_reply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tls11_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_verify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outgoing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outgoing_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sni, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1) {
		cmocka_set_test_filter(argv[1]);
	}
	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "openssl command not found: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
