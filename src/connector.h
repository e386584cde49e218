/* connector.h - an outgoing TCP connection made inside the loop, never
 * blocking it: a non-blocking connect per address, watched for
 * writability, each attempt bounded by a deadline, the next address tried
 * when one fails. For what the server will dial itself (the cluster's
 * Redis). Names are resolved with getaddrinfo before the first attempt:
 * instant for addresses and /etc/hosts names; a DNS name may wait on the
 * resolver (see the note in connector.c). */
#ifndef HICHAT_CONNECTOR_H
#define HICHAT_CONNECTOR_H

#include <stddef.h>

#include "loop.h"

typedef struct connector connector;

/* Called once: fd is a connected non-blocking socket (now the callee's),
 * or -1 and err says why (an errno; what into why). The connector is freed
 * after the call returns. */
typedef void connector_done(void *data, int fd, int err, const char *why);

/* Starts connecting to host:port, each address for at most timeout_ms.
 * Returns NULL with why set (why[0..whysz)) if the name does not resolve;
 * else done is called later, from the loop, never from inside this call. */
connector *connector_start(loop *l, const char *host, const char *port, int timeout_ms,
                           connector_done *done, void *data, char *why, size_t whysz);
/* Gives up; done is not called. */
void connector_cancel(connector *c);

#endif
