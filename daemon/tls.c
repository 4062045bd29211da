#include "daemon/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

/* One certificate with its chain and key. */
struct pair {
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
};

struct tls {
	pthread_mutex_t lock;   /* guards cur */
	struct pair cur;
};

static void pair_free(struct pair *p)
{
	X509_free(p->cert);
	sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->key);
	memset(p, 0, sizeof(*p));
}

/* what, and OpenSSL's reason, into why. */
static void reason(const char *what, const char *file, char *why, size_t n)
{
	char ossl[256] = "";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, ossl, sizeof(ossl));
	ERR_clear_error();
	snprintf(why, n, "%s %s%s%s", what, file, *ossl ? ": " : "", ossl);
}

static int pair_load(struct pair *p, const char *cert_file, const char *key_file)
{
	char why[600];
	BIO *b = BIO_new_file(cert_file, "r");
	memset(p, 0, sizeof(*p));
	if (!b || !(p->cert = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL))) {
		reason("cannot read", cert_file, why, sizeof(why));
		BIO_free(b);
		goto fail;
	}
	/* The rest of the file: the chain, in order. */
	p->chain = sk_X509_new_null();
	X509 *x;
	while (p->chain && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(p->chain, x))
			X509_free(x);
	ERR_clear_error(); /* the end of the file reads as an error */
	BIO_free(b);
	if (!(b = BIO_new_file(key_file, "r")) ||
	    !(p->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))) {
		reason("cannot read", key_file, why, sizeof(why));
		BIO_free(b);
		goto fail;
	}
	BIO_free(b);
	if (!p->chain || X509_check_private_key(p->cert, p->key) != 1) {
		reason("the key does not match the certificate in", cert_file, why, sizeof(why));
		goto fail;
	}
	return 0;
fail:
	LOG(LOG_ERROR, "tls: cannot use certificate %s with key %s: %s", cert_file, key_file, why);
	pair_free(p);
	return -1;
}

static void log_pair(const char *what, const struct pair *p)
{
	char subject[256] = "", until[64] = "";
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME_oneline(X509_get_subject_name(p->cert), subject, sizeof(subject));
	if (b && ASN1_TIME_print(b, X509_get0_notAfter(p->cert)) > 0) {
		int n = BIO_read(b, until, (int)sizeof(until) - 1);
		until[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
	LOG(LOG_INFO, "tls: %s certificate %s, valid until %s", what, subject, until);
}

struct tls *tls_new(const char *cert_file, const char *key_file)
{
	struct tls *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (pair_load(&t->cur, cert_file, key_file)) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	log_pair("serving", &t->cur);
	return t;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	pair_free(&t->cur);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Each handshake: the current pair (SSL_use_cert_and_key takes its own
 * references, so a reload may free ours meanwhile). */
static int use_current(SSL *ssl, void *arg)
{
	struct tls *t = arg;
	pthread_mutex_lock(&t->lock);
	int ok = SSL_use_cert_and_key(ssl, t->cur.cert, t->cur.key, t->cur.chain, 1);
	pthread_mutex_unlock(&t->lock);
	return ok == 1;
}

int tls_setup(struct tls *t, void *ssl_ctx)
{
	SSL_CTX *ctx = ssl_ctx;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    SSL_CTX_use_cert_and_key(ctx, t->cur.cert, t->cur.key, t->cur.chain, 1) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char why[600];
		reason("cannot set up", "HTTPS", why, sizeof(why));
		LOG(LOG_ERROR, "tls: %s", why);
		return -1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_cert_cb(ctx, use_current, t);
	return 1;
}

int tls_reload(struct tls *t, const char *cert_file, const char *key_file)
{
	struct pair fresh;
	if (pair_load(&fresh, cert_file, key_file)) {
		LOG(LOG_ERROR, "tls: kept the certificate loaded before");
		return -1;
	}
	pthread_mutex_lock(&t->lock);
	struct pair old = t->cur;
	t->cur = fresh;
	pthread_mutex_unlock(&t->lock);
	pair_free(&old);
	log_pair("now serving", &t->cur);
	return 0;
}
