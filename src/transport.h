/* transport.h - a connection's byte stream, plaintext or TLS, behind one
 * interface, so the server reads, writes and ends a stream without asking
 * which it is.
 *
 * Reads and writes behave like read(2) and writev(2): a count, or -1 with
 * errno, EAGAIN meaning "wait"; a TLS operation may wait for the other
 * direction (a read that must write first), which rwant and wwant say. The
 * transport owns its TLS session and its staging buffer, not the socket. */
#ifndef HICHAT_TRANSPORT_H
#define HICHAT_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "outq.h"

typedef struct {
    int fd;
    SSL *ssl; /* NULL: plaintext; set once the TLS session exists */
    /* The readiness (LOOP_READ/LOOP_WRITE) a read or a write waits for when
     * it is not its own, or 0. */
    int rwant, wwant;
    /* After data, the stream ended (1) or failed (-1, with errno err); the
     * data comes first, this after it has been taken. */
    int end, err;
    /* TLS output: one record staged whole (owned; NULL when none). */
    char *stage;
    size_t stage_len, stage_off;
} transport;

/* A plaintext transport on fd. */
void transport_init(transport *t, int fd);
/* Frees the TLS session and the staging buffer (not the socket). */
void transport_free(transport *t);

/* Reads at most n bytes: read(2), or TLS records until n bytes or until
 * OpenSSL must wait. An end or a failure after some data sets t->end and
 * returns the data. */
ssize_t transport_recv(transport *t, void *p, size_t n);
/* Writes from q: one writev, or at most a few TLS records (so one busy
 * member cannot hold the loop). Returns the bytes written, or -1 with
 * errno. */
ssize_t transport_send(transport *t, outq *q);
/* Whether output waits inside the transport (a TLS record half written). */
int transport_unsent(const transport *t);
/* Decrypted input waiting inside OpenSSL, which epoll cannot report. */
size_t transport_pending(const transport *t);
/* All said: TLS close_notify, then FIN. */
void transport_shutdown(transport *t);

#endif
