/* transport: the plaintext stream reads, writes a queue and ends with a
 * FIN the peer sees, with nothing left inside it; TLS is exercised end to
 * end (tests/e2e/test_security.py), where the certificates are made. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "transport.h"

void test_transport(void)
{
    int sv[2];
    char buf[64];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    transport t;
    transport_init(&t, sv[0]);
    CHECK(transport_recv(&t, buf, sizeof buf) == -1); /* nothing yet: EAGAIN */
    CHECK(write(sv[1], "hi\n", 3) == 3);
    CHECK(transport_recv(&t, buf, sizeof buf) == 3 && memcmp(buf, "hi\n", 3) == 0);
    outq q;
    outq_init(&q);
    chunk *a = chunk_new("one\n", 4), *b = chunk_new("two\n", 4);
    outq_push(&q, a);
    outq_push(&q, b);
    CHECK(transport_send(&t, &q) == 8 && q.count == 0);
    CHECK(!transport_unsent(&t) && transport_pending(&t) == 0);
    CHECK(read(sv[1], buf, sizeof buf) == 8 && memcmp(buf, "one\ntwo\n", 8) == 0);
    transport_shutdown(&t);
    CHECK(read(sv[1], buf, sizeof buf) == 0); /* the FIN */
    CHECK(t.end == 0 && t.ssl == NULL);
    transport_free(&t);
    chunk_unref(a);
    chunk_unref(b);
    outq_clear(&q);
    close(sv[0]);
    close(sv[1]);
}
