/*
 * tls — the daemon's HTTPS: the OpenSSL context civetweb serves with, and
 * a certificate that SIGHUP can replace without a restart.
 *
 * civetweb creates the SSL_CTX and hands it to tls_setup (its init_ssl
 * callback): TLS 1.2 or later, TLS 1.2's forward-secret AEAD suites only,
 * no renegotiation, the certificate chain and key from two PEM files.
 * The context keeps the certificate loaded at start; every handshake then
 * takes the current one (a certificate callback), so tls_reload only swaps
 * a pointer pair under a mutex — connections already open keep theirs.
 *
 * Thread-safe: tls_reload on the main thread, handshakes on any.
 */
#ifndef SRC_TLS_H
#define SRC_TLS_H

/* The suites tls_setup allows for TLS 1.2 (TLS 1.3's are all fine). */
#define TLS12_CIPHERS "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tls;

/* Loads the certificate chain (PEM, the server's first) and its private
 * key and checks that they match. NULL after logging why. */
struct tls *tls_new(const char *cert_file, const char *key_file);
/* Configures civetweb's SSL_CTX: 1 (set up), or -1 after logging why. */
int tls_setup(struct tls *t, void *ssl_ctx);
/* Loads the pair again (the same or other files): 0 once new handshakes
 * use it, -1 (logged) if it does not load or match — the old one stays. */
int tls_reload(struct tls *t, const char *cert_file, const char *key_file);
void tls_free(struct tls *t);

#endif
