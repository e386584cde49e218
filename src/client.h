/* client.h - hichat connect. */
#ifndef HICHAT_CLIENT_H
#define HICHAT_CLIENT_H

typedef struct {
    const char *target;    /* HOST[:PORT] or [V6]:PORT */
    const char *nick;      /* sent as /nick right after connecting, or NULL */
    const char *unix_path; /* connect here instead of target, or NULL */
    int udp;               /* datagrams to target instead of a stream */
    int no_tui;            /* the line mode even on a terminal */
    int reconnect;         /* dial again, with back-off, when the connection is lost */
    int tls;               /* TLS over TCP */
    const char *tls_ca;    /* trust these CAs instead of the system's */
    int tls_insecure;      /* accept any certificate (warned) */
    const char *tls_fingerprint; /* canonical "AB:CD:..": accept exactly this one */
    const char *tls_cert, *tls_key; /* a client certificate, or NULL */
    const char *password_file;      /* the room's password, or NULL: ask */
} client_opts;

/* Runs the client until the server closes, the user quits, or an error.
 * Returns the exit status: 0 normal end, 1 network error, 2 bad address. */
int client_run(const client_opts *opt);

#endif
