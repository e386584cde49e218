/* server.h - hichat serve: one room, one epoll loop, every client. */
#ifndef HICHAT_SERVER_H
#define HICHAT_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "access.h"
#include "loop.h"

#define DEFAULT_PORT          "6666"
#define DEFAULT_BIND          "127.0.0.1"
#define DEFAULT_SERVER_NICK   "server"
#define DEFAULT_MAX_LINE      4096
#define DEFAULT_MAX_QUEUE     (1024 * 1024)
#define DEFAULT_MAX_PER_IP    64
#define DEFAULT_MSG_RATE      10
#define DEFAULT_MSG_BURST     20
#define DEFAULT_LINE_TIMEOUT  30
#define DEFAULT_FLOOD_TIMEOUT 10
#define DEFAULT_KEEPALIVE     60
#define DEFAULT_USER_TIMEOUT  30
#define DEFAULT_UDP_TIMEOUT   120
#define DEFAULT_ANNOUNCE_MAX  1000
/* Descriptors kept back from RLIMIT_NOFILE for the listener, the console,
 * epoll, signalfd, logging and the spare descriptor when --max-clients is
 * derived from it. */
#define FD_RESERVE 32

typedef struct {
    const char *bind;      /* address to listen on */
    const char *port;      /* decimal, "0" for any */
    const char *nick;      /* the console member's nick */
    int tcp;               /* listen on TCP bind:port (default on) */
    const char *unix_path; /* also listen on this Unix socket, or NULL */
    int udp;               /* also a UDP room on bind:port */
    long udp_timeout;      /* s of silence after which a UDP peer is forgotten */
    long announce_max;     /* joins and leaves are told while a room has at
                              most this many members; 0: always */
    const char *default_room; /* everyone is in it on connecting */
    long max_rooms;        /* rooms on the server */
    long max_joined;       /* rooms one member may be in */
    long max_clients;      /* 0: derive from RLIMIT_NOFILE */
    long max_per_ip;       /* connections from one address; 0: no limit */
    size_t max_line;       /* longest line accepted, bytes */
    size_t max_queue;      /* output queued per client before it is dropped */
    long msg_rate;         /* lines per second per client; 0: no limit */
    long msg_burst;        /* lines a client may send at once */
    long flood_timeout;    /* s held back without a break before a kick */
    long line_timeout;     /* s to finish a line once begun; 0: none */
    long keepalive;        /* s idle before TCP keepalive probes; 0: off */
    long user_timeout;     /* s data may stay unacknowledged; 0: kernel default */
    /* Security (docs/security.md). TLS is for the TCP listener; the Unix
     * socket, local and gated by its file mode, stays plaintext. */
    const char *tls_cert;        /* PEM certificate chain, or NULL: plaintext */
    const char *tls_key;         /* PEM private key (NULL: in tls_cert) */
    const char *tls_self_signed; /* make/keep a key and certificate here, or NULL */
    const char *tls_client_ca;   /* require client certificates from these CAs */
    const char *password_file;   /* members must send its first line first */
    acl acl;                     /* --allow / --deny, checked before any allocation */
} server_opts;

/* Fills o with the defaults. */
void server_defaults(server_opts *o);

/* Runs the server until SIGINT/SIGTERM. Returns the process exit status
 * (0 after a clean shutdown); start-up errors are printed to stderr. */
int server_run(const server_opts *opt);

/* The pieces server_run is made of, for the fuzzer and tests that drive a
 * server without a listener: a server on loop l whose room view goes to
 * out_fd and whose log lines go to log_fd (both stay the caller's). */
typedef struct server server;
server *server_new(loop *l, const server_opts *opt, int out_fd, int log_fd);
/* Makes a connected, non-blocking socket a new member. */
void server_adopt(server *s, int fd, const struct sockaddr *peer, socklen_t len);
/* Members told, output flushed as server_run does on SIGTERM; the loop stops
 * once every connection is gone. */
void server_shutdown(server *s);
/* Drops every connection and frees s. */
void server_free(server *s);

#endif
