/* server.h - hichat serve: one room, one epoll loop, every client. */
#ifndef HICHAT_SERVER_H
#define HICHAT_SERVER_H

#include <stddef.h>

#define DEFAULT_PORT        "6666"
#define DEFAULT_BIND        "127.0.0.1"
#define DEFAULT_SERVER_NICK "server"
#define DEFAULT_MAX_LINE    4096
#define DEFAULT_MAX_QUEUE   (1024 * 1024)
/* Descriptors kept back from RLIMIT_NOFILE for the listener, the console,
 * epoll, signalfd and logging when --max-clients is derived from it. */
#define FD_RESERVE 32

typedef struct {
    const char *bind; /* address to listen on */
    const char *port; /* decimal, "0" for any */
    const char *nick; /* the console member's nick */
    long max_clients; /* 0: derive from RLIMIT_NOFILE */
    size_t max_line;  /* longest line accepted, bytes */
    size_t max_queue; /* output queued per client before it is dropped */
} server_opts;

/* Runs the server until SIGINT/SIGTERM. Returns the process exit status
 * (0 after a clean shutdown); start-up errors are printed to stderr. */
int server_run(const server_opts *opt);

#endif
