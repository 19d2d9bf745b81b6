/*
 * TLS (RFC 3261 26.3.1, RFC 5630): the OpenSSL contexts of TLS listeners
 * and of outgoing connections, and the per-connection setup of an outgoing
 * one (SNI, RFC 6066 3, and the name or address its certificate must
 * match, RFC 5922).  TLS 1.2 is the minimum everywhere.  A listener owns
 * its SSL_CTX (replaced by tp_listener_set_tls() on a reload); the tp owns
 * the client one.  Connections themselves run
 * over libevent's OpenSSL bufferevents (conn.c).
 */
#include "sipd/transport/tp_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sipd/log.h"

/* The reason of OpenSSL's oldest queued error, and clear the queue. */
static const char *
ssl_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();
	const char *r;

	if (e == 0) {
		snprintf(buf, cap, "unknown error");
	} else if (ERR_SYSTEM_ERROR(e)) {
		snprintf(buf, cap, "%s", strerror(ERR_GET_REASON(e)));
	} else if ((r = ERR_reason_error_string(e)) != NULL) {
		snprintf(buf, cap, "%s", r);
	} else {
		snprintf(buf, cap, "error %lx", e);
	}
	ERR_clear_error();
	return buf;
}

/* Certificate, key and CA of conf into ctx.  Returns 0 or -1 with the
 * cause in err[0..cap). */
static int
ctx_load(SSL_CTX *ctx, const struct tp_tls_conf *conf, bool server,
    char *err, size_t cap)
{
	char why[160];

	if (conf->cert_file != NULL || conf->key_file != NULL || server) {
		if (conf->cert_file == NULL || conf->key_file == NULL) {
			snprintf(err, cap, "tls, configuration refused (%s)",
			    "a certificate needs its key and a key its "
			    "certificate");
			return -1;
		}
		if (SSL_CTX_use_certificate_chain_file(ctx, conf->cert_file) !=
		    1) {
			snprintf(err, cap,
			    "tls, cannot load certificate %s (%s)",
			    conf->cert_file, ssl_reason(why, sizeof(why)));
			return -1;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, conf->key_file,
			SSL_FILETYPE_PEM) != 1) {
			snprintf(err, cap, "tls, cannot load key %s (%s)",
			    conf->key_file, ssl_reason(why, sizeof(why)));
			return -1;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(err, cap,
			    "tls, key %s does not match certificate %s (%s)",
			    conf->key_file, conf->cert_file,
			    ssl_reason(why, sizeof(why)));
			return -1;
		}
	}
	if (conf->ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, conf->ca_file, NULL) !=
		    1) {
			snprintf(err, cap, "tls, cannot load CA file %s (%s)",
			    conf->ca_file, ssl_reason(why, sizeof(why)));
			return -1;
		}
		if (server) {
			STACK_OF(X509_NAME) *names =
			    SSL_load_client_CA_file(conf->ca_file);
			if (names != NULL) {
				SSL_CTX_set_client_CA_list(ctx, names);
			}
		}
	} else if (conf->verify_peer &&
	    SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, cap, "tls, cannot load the system CAs (%s)",
		    ssl_reason(why, sizeof(why)));
		return -1;
	}
	return 0;
}

static SSL_CTX *
ctx_new(const struct tp_tls_conf *conf, bool server, char *err, size_t cap)
{
	static const unsigned char sid[] = "sipd";
	SSL_CTX *ctx;
	char why[160];

	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		snprintf(err, cap, "tls, cannot create a context (%s)",
		    ssl_reason(why, sizeof(why)));
		return NULL;
	}
	snprintf(err, cap, "tls, cannot set up a context");
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		goto fail;
	}
	/* a peer closing without close_notify is an ordinary close: SIP
	 * frames by Content-Length, so a cut is seen without TLS's help */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (ctx_load(ctx, conf, server, err, cap) < 0) {
		goto fail;
	}
	if (conf->verify_peer) {
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER |
			(server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		    NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	/* resumed sessions of a verifying server need an id context */
	if (server && SSL_CTX_set_session_id_context(ctx, sid,
			  sizeof(sid) - 1) != 1) {
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ctx_new(), the cause logged. */
static SSL_CTX *
ctx_new_logged(const struct tp_tls_conf *conf, bool server)
{
	char err[512];
	SSL_CTX *ctx = ctx_new(conf, server, err, sizeof(err));

	if (ctx == NULL) {
		log_err(LOG_TRANSPORT, "%s", err);
	}
	return ctx;
}

SSL_CTX *
tp_tls_ctx_server(const struct tp_tls_conf *conf)
{
	return ctx_new_logged(conf, true);
}

SSL_CTX *
tp_tls_ctx_client(const struct tp_tls_conf *conf)
{
	return ctx_new_logged(conf, false);
}

/*
 * A server context is an SSL_CTX under another name: OpenSSL counts its
 * references, and each SSL made from it holds one, so a listener given a
 * new context leaves every connection it accepted on the old one.
 */
struct tp_tls_ctx *
tp_tls_ctx_load(const struct tp_tls_conf *tls, char *err, size_t cap)
{
	return (struct tp_tls_ctx *)ctx_new(tls, true, err, cap);
}

void
tp_tls_ctx_free(struct tp_tls_ctx *ctx)
{
	SSL_CTX_free((SSL_CTX *)ctx);
}

int
tp_listener_set_tls(struct tp_listener *l, struct tp_tls_ctx *ctx)
{
	SSL_CTX *ssl = (SSL_CTX *)ctx;

	if (l == NULL || l->proto != TP_TLS || ssl == NULL ||
	    SSL_CTX_up_ref(ssl) != 1) {
		return -EINVAL;
	}
	SSL_CTX_free(l->ssl_ctx);
	l->ssl_ctx = ssl;
	return 0;
}

int
tp_tls_listen(struct tp *tp, const struct sockaddr *addr, socklen_t len,
    const struct tp_tls_conf *tls, struct tp_listener **out)
{
	SSL_CTX *ctx;

	if (tls == NULL) {
		return -EINVAL;
	}
	ctx = tp_tls_ctx_server(tls);
	if (ctx == NULL) {
		return -EINVAL;
	}
	/* takes ctx, also on failure */
	return tp_stream_listen(tp, TP_TLS, addr, len, ctx, out);
}

SSL *
tp_tls_client_ssl(struct tp *tp, const char *host,
    const struct sockaddr *peer)
{
	X509_VERIFY_PARAM *param;
	unsigned char ip[16];
	char why[160];
	SSL *ssl;
	int ok = 1;

	if (tp->client_ctx == NULL) {
		/* the default: verify the server with the system CAs */
		struct tp_tls_conf def = { .verify_peer = true };

		tp->client_ctx = tp_tls_ctx_client(&def);
		if (tp->client_ctx == NULL) {
			return NULL;
		}
	}
	ssl = SSL_new(tp->client_ctx);
	if (ssl == NULL) {
		log_err(LOG_TRANSPORT, "tls, cannot create a session (%s)",
		    ssl_reason(why, sizeof(why)));
		return NULL;
	}
	param = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (host != NULL && host[0] != '\0' &&
	    inet_pton(AF_INET, host, ip) != 1 &&
	    inet_pton(AF_INET6, host, ip) != 1) {
		/* RFC 6066 3: SNI carries names, never address literals.
		 * OpenSSL's macro takes a char *: give it a copy */
		char name[256];
		size_t n = strlen(host);

		ok = n < sizeof(name);
		if (ok) {
			memcpy(name, host, n + 1);
			ok = SSL_set_tlsext_host_name(ssl, name) == 1 &&
			    SSL_set1_host(ssl, host) == 1;
		}
	} else if (host != NULL && host[0] != '\0') {
		ok = X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1;
	} else if (peer->sa_family == AF_INET) {
		ok = X509_VERIFY_PARAM_set1_ip(param,
		    (const unsigned char *)&((const struct sockaddr_in *)(
			const void *)peer)->sin_addr, 4) == 1;
	} else if (peer->sa_family == AF_INET6) {
		ok = X509_VERIFY_PARAM_set1_ip(param,
		    ((const struct sockaddr_in6 *)(const void *)peer)
			->sin6_addr.s6_addr, 16) == 1;
	}
	if (!ok) {
		log_err(LOG_TRANSPORT, "tls, cannot set the peer name %s (%s)",
		    host != NULL ? host : "(address)",
		    ssl_reason(why, sizeof(why)));
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

const char *
tp_tls_error(struct bufferevent *bev, int sock_err, char *buf, size_t cap)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e, first = 0;
	long vr;

	while ((e = bufferevent_get_openssl_error(bev)) != 0) {
		if (first == 0) {
			first = e;
		}
	}
	if (ssl != NULL && (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(buf, cap, "%s", X509_verify_cert_error_string(vr));
	} else if (first != 0 && ERR_reason_error_string(first) != NULL) {
		snprintf(buf, cap, "%s", ERR_reason_error_string(first));
	} else if (first != 0) {
		snprintf(buf, cap, "error %lx", first);
	} else if (sock_err != 0) {
		snprintf(buf, cap, "%s", strerror(sock_err));
	} else {
		snprintf(buf, cap, "connection closed");
	}
	return buf;
}
