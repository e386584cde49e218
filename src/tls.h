/* tls.h - TLS over hichat's non-blocking sockets, with OpenSSL.
 *
 * The socket calls OpenSSL makes go through trace.c (a BIO of our own), so
 * --trace shows the encrypted reads and writes like every other call, and
 * writes use MSG_NOSIGNAL: a peer gone mid-record is EPIPE, never SIGPIPE.
 *
 * Reads and writes return like read(2)/write(2): a count, 0 at the end of
 * the stream (close_notify, or a FIN: a cut line is dropped by the framer
 * anyway), or -1 with errno. EAGAIN comes with *want, the readiness the call
 * waits for, which is not always the obvious one: TLS may need to write
 * while reading (a key update) or read while writing. Other failures set
 * errno (EPROTO for a TLS error) and leave a reason in tls_error(). */
#ifndef HICHAT_TLS_H
#define HICHAT_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* "AB:CD:...": a SHA-256 fingerprint as openssl x509 -fingerprint prints it. */
#define TLS_FPLEN 96

/* The reason the last failing call left, as one line of text. */
const char *tls_error(void);

/* A server context: TLS 1.2 and up, the certificate chain and key from PEM
 * files (key may equal cert, one file holding both). client_ca (or NULL):
 * clients must show a certificate signed by a CA in that file. NULL with
 * tls_error() set on failure. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca);

/* A client context: TLS 1.2 and up; trusts the system's CAs, or only those
 * in ca. cert and key (or NULL): a client certificate to show. The server's
 * certificate is checked after the handshake (tls_verdict), not during it,
 * so that a pinned or remembered self-signed one can be accepted. */
SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key);

/* The default file for --tls-self-signed and the known-hosts file, under
 * $XDG_CONFIG_HOME/hichat (or ~/.config/hichat). -1 if neither is set. */
int tls_config_path(const char *name, char *out, size_t outsz);

/* Whether path and the directory holding it may decide trust (known_hosts,
 * a self-signed key), as ssh's StrictModes: each that exists must be owned
 * by this user or root, and writable by no one else. 0, or -1 with
 * tls_error() naming the path and the fix. */
int tls_path_safe(const char *path);

/* Makes path hold a new EC P-256 key and a self-signed certificate for it
 * (valid ten years, named after this host), unless it already holds one.
 * The file is created with mode 0600, its directory 0700; an existing one,
 * or its directory, must pass tls_path_safe. 0, or -1 with tls_error()
 * set. *made says whether it was made now. */
int tls_self_signed(const char *path, int *made);

/* The SHA-256 fingerprint of the certificate in a PEM file, or of the
 * peer's. 0, or -1. */
int tls_file_fingerprint(const char *path, char out[TLS_FPLEN]);
int tls_peer_fingerprint(SSL *ssl, char out[TLS_FPLEN]);
/* Normalises a fingerprint as typed (any case, colons or none, an optional
 * "SHA256:" prefix) to the canonical form. 0, or -1 if it is not one. */
int tls_fingerprint_parse(const char *in, char out[TLS_FPLEN]);

/* One TLS session on a connected non-blocking socket. host (clients only,
 * or NULL): sent as SNI and checked against the certificate. */
SSL *tls_new(SSL_CTX *ctx, int fd, int server, const char *host);
void tls_free(SSL *ssl);

/* Steps the handshake: 0 when done, -1 with errno (EAGAIN and *want while
 * it waits). */
int tls_handshake(SSL *ssl, int *want);
ssize_t tls_read(SSL *ssl, void *buf, size_t n, int *want);
/* Reads records until n bytes are in or OpenSSL must wait (*want says for
 * what, else 0). With bytes read it returns their count and sets *end: 0,
 * or 1 if the stream ended after them, or -1 if it failed after them
 * (errno set); with none, it returns as tls_read. */
ssize_t tls_read_some(SSL *ssl, void *buf, size_t n, int *want, int *end);
ssize_t tls_write(SSL *ssl, const void *buf, size_t n, int *want);
/* Decrypted bytes held inside OpenSSL, which epoll cannot see. */
size_t tls_pending(SSL *ssl);
/* Sends close_notify, best effort (the socket is about to be shut). */
void tls_close_notify(SSL *ssl);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384": what was agreed. */
void tls_describe(SSL *ssl, char *out, size_t outsz);

/* After a client handshake: whether the server's certificate is trusted.
 *   pin: a canonical fingerprint it must have, or NULL;
 *   known: the known-hosts file (NULL: none), consulted for a certificate
 *          the CAs do not vouch for, and told a pinned one; refused
 *          (-1) then if it fails tls_path_safe;
 *   hostport: the server as the user named it, the known-hosts key;
 *   insecure: accept anything.
 * How it is trusted (TLS_BY_CA, _PIN, _KNOWN, _NOTHING for insecure); or -1
 * with a message for the user in why (several lines for a changed
 * fingerprint). */
enum { TLS_BY_CA, TLS_BY_PIN, TLS_BY_KNOWN, TLS_BY_NOTHING };
int tls_verdict(SSL *ssl, const char *pin, const char *known, const char *hostport, int insecure,
                char *why, size_t whysz);

/* Known hosts: "HOST:PORT FINGERPRINT" lines. Looks hostport up: 1 and the
 * fingerprint in fp, 0 when absent (or no file), -1 on a read error. */
int tls_known_get(const char *file, const char *hostport, char fp[TLS_FPLEN]);
/* Records (or replaces) hostport's fingerprint. 0, or -1 with tls_error(). */
int tls_known_put(const char *file, const char *hostport, const char *fp);

#endif
