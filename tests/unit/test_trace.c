/* trace: a "/pass " line's password never shows in --trace output, however
 * the stream is cut into calls (picohttpparser's habit: every split point),
 * whichever way it goes, and through writev's buffers; other lines still
 * show as strace shows them. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"
#include "trace.h"

/* Upper-case letters no trace line contains otherwise ("read", "write",
 * "writev", "iov_base" and the numbers are lower case or digits). */
static const char stream[] = "hello\n/pass QJKZ QJKZ\nbye\n";
static const char shown[] = "hello\\n/pass ***\\nbye\\n"; /* as a trace quotes it */

/* The trace written so far, NUL-terminated, into out. */
static void drain(int rfd, char *out, size_t outsz)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < outsz && (r = read(rfd, out + n, outsz - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
}

static int shows_password(const char *t)
{
    return strpbrk(t, "QJKZ") != NULL;
}

/* The data of every `call`(...) line of trace t, joined, a run of *** cut
 * in two by a call boundary taken once: what a reader of the trace sees of
 * the stream. */
static void joined(const char *t, const char *call, char *out, size_t outsz)
{
    size_t n = 0, cl = strlen(call);
    out[0] = '\0';
    for (const char *l = t; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (strncmp(l, call, cl) != 0)
            continue;
        const char *q = strchr(l, '"'), *e = q ? strstr(q + 1, "\", ") : NULL;
        if (!e)
            continue;
        for (q++; q < e && n + 1 < outsz; q++) {
            if (*q == '*' && n >= 3 && strncmp(out + n - 3, "***", 3) == 0 &&
                strncmp(q, "***", 3) == 0) {
                q += 2;
                continue;
            }
            out[n++] = *q;
            out[n] = '\0';
        }
    }
}

void test_trace(void)
{
    int tp[2], sp[2];
    char got[8192], sink[256];
    CHECK(pipe2(tp, O_NONBLOCK | O_CLOEXEC) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
    trace_to(tp[1]);
    size_t n = sizeof stream - 1;
    for (size_t cut = 0; cut <= n; cut++) {
        /* Written in two calls, read back in two calls cut at the same place. */
        CHECK(trace_write(sp[0], stream, cut) == (ssize_t)cut);
        CHECK(trace_write(sp[0], stream + cut, n - cut) == (ssize_t)(n - cut));
        if (cut > 0)
            CHECK(trace_read(sp[1], sink, cut) == (ssize_t)cut);
        if (cut < n)
            CHECK(trace_read(sp[1], sink, sizeof sink) == (ssize_t)(n - cut));
        drain(tp[0], got, sizeof got);
        CHECKF(!shows_password(got), "cut at %zu: %s", cut, got);
        /* What was not the password is all there, in both directions. */
        char seen[512];
        joined(got, "write(", seen, sizeof seen);
        CHECKF(strcmp(seen, shown) == 0, "cut at %zu: %s", cut, got);
        joined(got, "read(", seen, sizeof seen);
        CHECKF(strcmp(seen, shown) == 0, "cut at %zu: %s", cut, got);
        /* The same cut as two buffers of one writev. */
        struct iovec iov[2] = {{(void *)stream, cut}, {(void *)(stream + cut), n - cut}};
        CHECK(trace_writev(sp[0], iov, 2) == (ssize_t)n);
        CHECK(trace_read(sp[1], sink, sizeof sink) == (ssize_t)n);
        drain(tp[0], got, sizeof got);
        CHECKF(!shows_password(got), "writev cut at %zu: %s", cut, got);
    }
    /* Whole, the line shows as before: the command, then the stars. */
    CHECK(trace_write(sp[0], stream, n) == (ssize_t)n);
    drain(tp[0], got, sizeof got);
    CHECKF(strstr(got, "\"hello\\n/pass ***\\nbye\\n\"") != NULL, "%s", got);
    CHECK(trace_read(sp[1], sink, sizeof sink) == (ssize_t)n);
    /* A line that only mentions /pass is not hidden; any case counts. */
    CHECK(trace_write(sp[0], "say /pass x\n/PaSs QJKZ\n", 23) == 23);
    drain(tp[0], got, sizeof got);
    CHECKF(strstr(got, "\"say /pass x\\n/PaSs ***\\n\"") != NULL, "%s", got);
    CHECK(trace_read(sp[1], sink, sizeof sink) == 23);
    /* A descriptor closed mid-password: its number's next stream starts a
     * line (fds are reused). */
    CHECK(trace_write(sp[0], "/pass QJ", 8) == 8);
    trace_close(sp[0]);
    trace_close(sp[1]);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
    CHECK(trace_write(sp[0], "plain\n", 6) == 6);
    drain(tp[0], got, sizeof got);
    CHECKF(strstr(got, "\"plain\\n\"") != NULL, "%s", got);
    trace_to(-1);
    close(sp[0]);
    close(sp[1]);
    close(tp[0]);
    close(tp[1]);
}
