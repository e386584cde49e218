/* connector: an outgoing connect made from the loop - connected, refused
 * (with the errno and the target in why), a name that does not resolve
 * (said at once), cancelled before its answer (never called back); and the
 * callback never runs inside connector_start. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "connector.h"
#include "loop.h"
#include "net.h"
#include "trace.h"

static int calls, got_fd, got_err;
static char got_why[256];

static void on_done(void *data, int fd, int err, const char *why)
{
    (void)data;
    calls++;
    got_fd = fd;
    got_err = err;
    snprintf(got_why, sizeof got_why, "%s", why);
}

/* Runs l until the callback came (or 3 s of passes). */
static void run_until_done(loop *l)
{
    for (int i = 0; i < 300 && !calls; i++)
        loop_run_once(l, 10);
}

static void local_port(int fd, char *port, size_t sz)
{
    char where[NET_ADDRSTRLEN];
    net_local_str(fd, where, sizeof where);
    snprintf(port, sz, "%s", strrchr(where, ':') + 1);
}

void test_connector(void)
{
    char err[NET_ERRLEN], port[16];
    loop *l = loop_new();
    int lfd = net_listen_tcp("127.0.0.1", "0", 8, err, sizeof err);
    CHECK(lfd >= 0);
    local_port(lfd, port, sizeof port);

    calls = 0;
    connector *c = connector_start(l, "127.0.0.1", port, 2000, on_done, NULL, err, sizeof err);
    CHECK(c != NULL && calls == 0);
    run_until_done(l);
    CHECK(calls == 1 && got_fd >= 0 && got_err == 0);
    if (got_fd >= 0)
        trace_close(got_fd);

    /* A port nobody listens on: refused, said with the errno. */
    close(lfd);
    calls = 0;
    c = connector_start(l, "127.0.0.1", port, 2000, on_done, NULL, err, sizeof err);
    run_until_done(l);
    CHECK(calls == 1 && got_fd < 0 && got_err == ECONNREFUSED);
    CHECKF(strstr(got_why, "ECONNREFUSED") != NULL, "%s", got_why);

    /* A name that does not resolve: at once, no callback. */
    calls = 0;
    c = connector_start(l, "no-such-host.invalid", "1", 2000, on_done, NULL, err, sizeof err);
    CHECK(c == NULL && strstr(err, "cannot resolve") != NULL && calls == 0);

    /* Cancelled: never called back. */
    lfd = net_listen_tcp("127.0.0.1", "0", 8, err, sizeof err);
    local_port(lfd, port, sizeof port);
    calls = 0;
    c = connector_start(l, "127.0.0.1", port, 2000, on_done, NULL, err, sizeof err);
    connector_cancel(c);
    for (int i = 0; i < 5; i++)
        loop_run_once(l, 10);
    CHECK(calls == 0);
    close(lfd);
    loop_free(l);
}
