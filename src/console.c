/* console.c - the server's own terminal as a member: lines typed there go
 * to the chat as --nick, and what it receives is printed (through the line
 * editor on a terminal, else to stdout, never waiting on it). */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "srv.h"

static void console_deliver(member *m, chunk *ch)
{
    server *s = CONTAINER_OF(m, server, console);
    if (s->term) {
        term_print(s->term, ch->data, ch->len ? ch->len - 1 : 0);
        return;
    }
    if (s->console_dropped) { /* say so where the gap is */
        char note[96];
        int n = snprintf(note, sizeof note, "* (%lu lines not shown: stdout was too slow)\n",
                         s->console_dropped);
        if (out_write(s->stdout_o, note, (size_t)n) < 0) {
            s->console_dropped++; /* no line may pass its gap's notice */
            return;
        }
        s->console_dropped = 0;
    }
    /* The room never waits for stdout: what does not fit is counted. */
    if (out_write(s->stdout_o, ch->data, ch->len) < 0)
        s->console_dropped++;
}

static void console_quit(member *m, const char *why, size_t len)
{
    server *s = CONTAINER_OF(m, server, console);
    (void)why, (void)len;
    server_shutdown(s);
}

const member_ops console_ops = {
    .deliver = console_deliver,
    .quit = console_quit,
};

/* ---- console, signals, shutdown ---- */

void console_line(void *data, const char *line, size_t len)
{
    server *s = data;
    member_line(s, &s->console, line, len);
}

void console_eof(void *data)
{
    server *s = data;
    /* The room goes on without a console; Ctrl-C stops the server. */
    term_free(s->term);
    s->term = NULL;
}
