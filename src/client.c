/* client.c - hichat connect: the terminal (or a pipe) and one socket on one
 * loop, full duplex.
 *
 * On a terminal it is full screen (tui.c): messages scroll above a status
 * line and the line being typed. With --no-tui, or when the screen cannot be
 * set up, the user edits a line (term.c) while arriving lines are printed
 * above it. Otherwise it behaves like nc: stdin bytes go to the server,
 * received lines go to stdout, EOF on stdin half-closes, and the program
 * ends when the server closes.
 *
 * --reconnect: a connection lost (not one the user ended) is dialled again
 * after 1, 2, 4 ... 30 s (each a quarter more or less, so that a room which
 * lost its server does not come back all in the same millisecond), asking
 * for the nick the server last gave us. The full screen also stays up after
 * a loss without --reconnect, saying so, until the user leaves or types
 * /reconnect.
 *
 * --tls: the handshake runs in the loop like everything else, then the
 * server's certificate is judged (tls_verdict): a CA's word for the host
 * name, a pinned fingerprint, or the one remembered in known_hosts. A room
 * with a password asks for it as its first line; the client answers from
 * --password-file or asks the person at the terminal, without echo. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "loop.h"
#include "net.h"
#include "out.h"
#include "roster.h"
#include "server.h"
#include "term.h"
#include "access.h"
#include "text.h"
#include "tls.h"
#include "trace.h"
#include "tui.h"
#include "util.h"
#include "wording.h"

#define CONNECT_TIMEOUT_MS 10000
/* Dialling again holds the screen still at most this long per address. */
#define RECONNECT_TIMEOUT_MS 3000
#define RETRY_FIRST_MS       1000
#define RETRY_MAX_MS         30000
#define READ_SIZE            65536
/* A received line longer than this is shown in pieces of this size. */
#define RECV_LINE_MAX 65536
/* Input waiting for the socket; stdin is not read while it is this full. */
#define SEND_QUEUE (1024 * 1024)
/* Output waiting for stdout; the socket is not read while it is this full,
 * so a slow reader of our stdout slows the server's sending, not our memory. */
#define STDOUT_HIGH (256 * 1024)
/* Room for what one read can turn into past STDOUT_HIGH: a carried line
 * and a read's worth, tripled by cleaning in the worst case. */
#define STDOUT_QUEUE (STDOUT_HIGH + 4 * (READ_SIZE + RECV_LINE_MAX))
/* UDP: a join datagram is padded to this size, because the server sends an
 * unverified address no more than it received; it is retried this often,
 * this many times; an idle client sends an empty line this often so the
 * server does not forget it. */
#define UDP_JOIN_PAD     512
#define UDP_RETRY_MS     700
#define UDP_TRIES        5
#define UDP_KEEPALIVE_MS 30000
#define UDP_LEAVE_MS     1000
/* A refusal ("! server full ...") is kept for the exit message up to this. */
#define LAST_ERROR_RAW 200
/* Text without a newline from the server is shown after this pause. */
#define QUIET_PAUSE_MS 300
/* A TLS handshake must be done within this. */
#define HANDSHAKE_MS 10000
/* TLS writes at most a record's worth at a time, so that a write retried
 * after EAGAIN is never shorter than the one that waited. */
#define TLS_WRITE_MAX 16384
/* Piped input waits for the server's first line (the greeting, or a
 * password prompt, whose answer must go before any chat), at most this
 * long for a server that says nothing first. */
#define HOLD_MS 2000
/* Password prompts at the terminal before giving up. */
#define PASSWORD_TRIES 3

typedef struct {
    loop *l;
    const client_opts *opt;
    char host[256], port[16];
    int fd; /* -1 while not connected */
    int sfd;
    term *term;
    tui *tui;
    out *o;
    buf send;       /* bytes for the server */
    char *recv;     /* RECV_LINE_MAX + 1 + READ_SIZE: partial line + new bytes */
    size_t recvlen; /* partial line carried over */
    int stdin_done; /* EOF (or Ctrl-D) seen; half-close once send drains */
    int in_partial; /* the last byte from stdin was not a LF */
    unsigned long long bytes_in, bytes_out, lines_in, lines_out; /* for /stats */
    int stdin_file; /* stdin cannot be polled: read it when there is room */
    int sock_eof;   /* the server closed; end once stdout has drained */
    int welcomed;   /* saw hichat's greeting */
    char last_error[TEXT_CLEAN_MAX(LAST_ERROR_RAW) + 1]; /* the last "! ..." line, cleaned */
    unsigned long long lines_conn;                       /* lines received on this connection */
    int clean_out;   /* stdout is a terminal: clean lines before showing */
    char *clean_buf; /* TEXT_CLEAN_MAX(RECV_LINE_MAX) */
    int wr_shut;
    int status;
    char target[NET_ADDRSTRLEN + 16]; /* what we connected to, for messages */
    loop_timer pause;
    int done;                /* finish() was called */
    int udp;                 /* datagrams: each line one */
    int udp_joined;          /* the server let us in (its welcome arrived) */
    int udp_tries;           /* join datagrams sent so far */
    int udp_leaving;         /* sent /quit: ending */
    loop_timer udp_timer;    /* join retries, then keepalives, then the end */
    char nick[NICK_MAX + 1]; /* what the server last said we are */
    int bye;                 /* the server said "*** bye": we asked to leave */
    int shutdown;            /* the server said "*** server shutting down" */
    int last_was_error;      /* the last line received was a "! ..." line */
    /* Why the server disconnected us, if it did and no connection came after. */
    char dropped[TEXT_CLEAN_MAX(LAST_ERROR_RAW) + 64];
    int leaving;             /* the user asked to leave */
    unsigned retries;        /* dial attempts since the last welcome */
    loop_timer retry;
    SSL_CTX *tls;            /* --tls, or NULL */
    SSL *ssl;                /* this connection's session, or NULL */
    int handshaking;         /* the TLS handshake is under way */
    int rwant, wwant;        /* TLS: a read waits to write, a write to read */
    loop_timer again;        /* TLS: decrypted bytes wait inside OpenSSL */
    loop_timer handshake;    /* the handshake's deadline */
    char *password;          /* owned: from --password-file or asked once */
    int prompts;             /* times asked on this connection */
    char fatal[1400];        /* why it ended with status 1, said after the screen is gone */
    int held;                /* piped input waits for the greeting (HOLD_MS) */
    loop_timer hold;
} client;

static void update_masks(client *c);
static void sock_readable(client *c);
static void release(client *c);
static void stdin_file_refill(client *c);
static void lost(client *c, const char *why);
static void udp_queue_join(client *c);

static void finish(client *c, int status)
{
    if (c->done)
        return; /* the first reason to stop is the one that counts */
    c->done = 1;
    c->status = status;
    loop_stop(c->l);
}

/* Before a message on stderr: on a terminal, clear the half-typed line. */
static const char *eol_clear(const client *c)
{
    return c->term ? "\r\x1b[K" : "";
}

/* Whether losing the connection is survivable: the screen stays up, or we
 * dial again. */
static int outlives_connection(const client *c)
{
    return c->tui || c->opt->reconnect;
}

static void tls_failed(client *c, const char *what);

/* A network call failed for good: say what, naming errno with a hint, and
 * end with status 1, or (full screen, --reconnect) carry on disconnected.
 * A TLS failure (EPROTO) ends it whatever the mode: retrying cannot mend it. */
static void net_failed(client *c, const char *what)
{
    char d[200], why[400];
    if (errno == EPROTO) {
        tls_failed(c, what);
        return;
    }
    errno_describe(d, sizeof d, errno, c->target);
    snprintf(why, sizeof why, "%s %s: %s", what, c->target, d);
    if (outlives_connection(c)) {
        lost(c, why);
        return;
    }
    fprintf(stderr, "%shichat: %s\n", eol_clear(c), why);
    finish(c, 1);
}

static int reading_paused(const client *c)
{
    return out_pending(c->o) >= STDOUT_HIGH;
}

static void send_bytes(client *c, const char *p, size_t n);

/* Whether line[0..len) is the server's notice W_NOTICE + text, exactly. */
static int notice_is(const char *line, size_t len, const char *text)
{
    size_t pl = sizeof W_NOTICE - 1, tl = strlen(text);
    return len == pl + tl && memcmp(line, W_NOTICE, pl) == 0 && memcmp(line + pl, text, tl) == 0;
}

/* Whether line[0..len) starts with W_NOTICE + text. */
static int notice_starts(const char *line, size_t len, const char *text)
{
    size_t pl = sizeof W_NOTICE - 1, tl = strlen(text);
    return len >= pl + tl && memcmp(line, W_NOTICE, pl) == 0 && memcmp(line + pl, text, tl) == 0;
}

/* UDP: the server's plumbing lines are answered here, not shown. Returns 1
 * if line was taken. */
static int udp_control(client *c, const char *line, size_t len)
{
    static const char prompt[] = W_NOTICE W_UDP_JOIN;
    size_t pl = sizeof prompt - 1;
    if (len > pl && memcmp(line, prompt, pl) == 0) {
        if (!c->udp_joined && len - pl < 64) {
            char reply[80];
            int n = snprintf(reply, sizeof reply, "/join %.*s\n", (int)(len - pl), line + pl);
            send_bytes(c, reply, (size_t)n);
        }
        return 1;
    }
    if (notice_is(line, len, W_BYE) || notice_is(line, len, W_SHUTDOWN))
        c->sock_eof = 1; /* no stream to close: these lines end it */
    return 0;
}

static void set_nick(client *c, const char *nick, size_t len)
{
    memcpy(c->nick, nick, len); /* a valid nick: at most NICK_MAX */
    c->nick[len] = '\0';
}

/* Keeps what the server says we are, to ask for it again on reconnecting
 * (the greeting, "you are", renames of us), and whether it is about to close
 * for a reason of its own saying. Only notices are read: no member can make
 * a line that starts like one (wording.h). */
static void track_notice(client *c, const char *line, size_t len)
{
    line_info li;
    if (notice_is(line, len, W_BYE)) {
        c->bye = 1;
        return;
    }
    if (notice_is(line, len, W_SHUTDOWN)) {
        c->shutdown = 1;
        return;
    }
    line_parse(line, len, &li);
    if (li.kind == LINE_WELCOME || li.kind == LINE_YOU_ARE)
        set_nick(c, li.a, li.alen);
    else if (li.kind == LINE_RENAME && nick_eq(c->nick, strlen(c->nick), li.a, li.alen))
        set_nick(c, li.b, li.blen);
}

/* Ends with status 1 for a reason that retrying cannot mend (a certificate
 * not trusted, a wrong password); said on stderr once the screen is gone. */
static void fatal(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fatal(client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->fatal, sizeof c->fatal, fmt, ap);
    va_end(ap);
    finish(c, 1);
}

/* A line from the person at the terminal, not echoed: the controlling
 * terminal is put in line mode without echo for it, then restored. NULL if
 * there is no terminal or they give up (Ctrl-C, Ctrl-D). Blocks: nothing
 * else can happen while a person types a password. */
static char *read_secret(const char *prompt)
{
    char line[PASSWORD_MAX + 2];
    struct termios old, quiet;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    if (tcgetattr(fd, &old) < 0) {
        close(fd);
        return NULL;
    }
    quiet = old;
    /* Ctrl-C is read, not a signal (SIGINT is blocked for the signalfd),
     * and ends the line like Enter, as a refusal. */
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ISIG);
    quiet.c_lflag |= ICANON;
    quiet.c_cc[VEOL] = old.c_cc[VINTR];
    quiet.c_iflag |= ICRNL;
    tcsetattr(fd, TCSAFLUSH, &quiet);
    if (write(fd, prompt, strlen(prompt)) < 0) {
    }
    size_t n = 0;
    ssize_t r;
    while (n < sizeof line - 1 && (r = read(fd, line + n, sizeof line - 1 - n)) > 0) {
        n += (size_t)r;
        if (memchr(line, '\n', n) || memchr(line, old.c_cc[VINTR], n))
            break;
    }
    tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\r\n", 2) < 0) {
    }
    close(fd);
    char *nl = memchr(line, '\n', n), *pw = NULL;
    if (nl && !memchr(line, old.c_cc[VINTR], (size_t)(nl - line)) && nl > line)
        pw = xstrndup(line, (size_t)(nl - line));
    OPENSSL_cleanse(line, sizeof line);
    return pw;
}

static void forget_password(client *c)
{
    if (c->password) {
        OPENSSL_cleanse(c->password, strlen(c->password));
        free(c->password);
        c->password = NULL;
    }
}

/* The server asked for the room's password ("*** password required", the
 * first line of a connection): send it. */
static void send_password(client *c)
{
    if (!c->password) {
        if (!c->tui && !c->term) {
            fatal(c, "%s needs a password: give it with --password-file FILE", c->target);
            return;
        }
        char prompt[sizeof c->target + 32];
        snprintf(prompt, sizeof prompt, "\r\x1b[Kpassword for %s: ", c->target);
        if (c->tui)
            tui_suspend(c->tui);
        c->password = read_secret(prompt);
        if (c->tui)
            tui_resume(c->tui);
        if (c->term)
            term_set_prompt(c->term, "> "); /* draws the input line again */
        c->prompts++;
        if (!c->password) {
            fatal(c, "no password given for %s", c->target);
            return;
        }
    }
    buf_append(&c->send, "/pass ", 6);
    buf_append(&c->send, c->password, strlen(c->password));
    buf_append(&c->send, "\n", 1);
    c->lines_out++;
    c->lines_conn = 0; /* the greeting that follows is the first line again */
}

/* "! wrong password" before the greeting: ask again at the terminal, or end. */
static void wrong_password(client *c)
{
    forget_password(c);
    if (!c->opt->password_file && c->prompts < PASSWORD_TRIES) { /* asked: ask again */
        send_password(c);
        return;
    }
    fatal(c, "%s refused the password%s%s", c->target, c->opt->password_file ? " in " : "",
          c->opt->password_file ? c->opt->password_file : "");
}

/* Shows one received line. */
static void show(client *c, const char *line, size_t len)
{
    static const char wrong[] = W_ERROR W_WRONG_PASSWORD;
    if (c->udp && udp_control(c, line, len))
        return;
    c->lines_in++;
    c->lines_conn++;
    c->last_was_error = len >= sizeof W_ERROR - 1 && memcmp(line, W_ERROR, sizeof W_ERROR - 1) == 0;
    if (!c->welcomed && c->lines_conn == 1 && notice_starts(line, len, W_PASSWORD)) {
        loop_timer_cancel(c->l, &c->hold); /* a hichat room: its greeting will come */
        send_password(c);
        return;
    }
    if (!c->welcomed && len == sizeof wrong - 1 && memcmp(line, wrong, len) == 0) {
        wrong_password(c);
        return;
    }
    release(c);
    track_notice(c, line, len);
    if (!c->welcomed && notice_starts(line, len, W_WELCOME)) {
        c->welcomed = 1;
        c->retries = 0;
        c->dropped[0] = '\0'; /* back in: that loss is over */
        if (c->udp && !c->udp_joined) {
            c->udp_joined = 1;
            loop_timer_arm(c->l, &c->udp_timer, UDP_KEEPALIVE_MS);
        }
    } else if (c->last_was_error) {
        /* Cleaned: a refusal is printed on stderr, maybe a terminal. */
        size_t n = len < LAST_ERROR_RAW ? len : LAST_ERROR_RAW;
        c->last_error[text_clean(line, n, c->last_error)] = '\0';
    }
    if (c->tui) {
        tui_line(c->tui, line, len);
        return;
    }
    if (c->term) {
        term_print(c->term, line, len);
        return;
    }
    /* In pipe mode bytes pass through as they came, like nc, unless stdout
     * is a terminal (input piped in): then a peer's escape sequences are
     * shown, never run. The queue has room for what one read can bring past
     * STDOUT_HIGH, and the socket is not read beyond it; a failure here means
     * stdout is gone, which update_masks acts on. */
    if (c->clean_out) {
        len = text_clean(line, len, c->clean_buf);
        line = c->clean_buf;
    }
    out_line(c->o, line, len);
}

static void take_lines(client *c, size_t len)
{
    size_t pos = 0, ll;
    while (pos < len) {
        long r = frame_line(c->recv + pos, len - pos, RECV_LINE_MAX, &ll);
        if (r == 0)
            break;
        if (r < 0) { /* an over-long line: show it in pieces */
            show(c, c->recv + pos, RECV_LINE_MAX);
            pos += RECV_LINE_MAX;
            continue;
        }
        show(c, c->recv + pos, ll);
        pos += (size_t)r;
    }
    memmove(c->recv, c->recv + pos, len - pos);
    c->recvlen = len - pos;
    if (c->recvlen)
        loop_timer_arm(c->l, &c->pause, QUIET_PAUSE_MS);
    else
        loop_timer_cancel(c->l, &c->pause);
}

static void pause_over(loop *l, loop_timer *t)
{
    client *c = CONTAINER_OF(t, client, pause);
    (void)l;
    /* Not quiet if we stopped reading: more of the line may be waiting in
     * the socket. update_masks re-arms the pause when reading resumes. */
    if (c->recvlen == 0 || reading_paused(c))
        return;
    show(c, c->recv, frame_partial(c->recv, c->recvlen));
    c->recvlen = 0;
    update_masks(c);
}

/* A line of the client's own about the connection: on the screen, or above
 * the input line; pipe mode stays as quiet as nc. */
static void note(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(client *c, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (c->tui)
        tui_note(c->tui, TUI_NOTICE, "%s", line);
    else if (c->term)
        term_print(c->term, line, strlen(line));
}

/* TLS refused or broke (errno EPROTO): say what OpenSSL said, with what it
 * usually means. Retrying would only fail the same way. */
static void tls_failed(client *c, const char *what)
{
    const char *e = tls_error(), *hint = "";
    if (strstr(e, "certificate required"))
        hint = "\n  the server requires a client certificate: --tls-cert FILE --tls-key FILE";
    else if (strstr(e, "alert unknown ca") || strstr(e, "alert bad certificate") ||
             strstr(e, "alert certificate"))
        hint = "\n  the server did not accept the client certificate";
    else if (strstr(e, "wrong version number") || strstr(e, "packet length too long") ||
             strstr(e, "record layer failure"))
        hint = "\n  the server does not speak TLS there; connect without --tls?";
    fatal(c, "%s %s: %s%s", what, c->target, e, hint);
}

static void half_close(client *c)
{
    if (c->ssl)
        tls_close_notify(c->ssl);
    trace_shutdown(c->fd, SHUT_WR);
    c->wr_shut = 1;
}

static void sock_writable(client *c);

/* The TLS handshake's next step; once done, the server's certificate is
 * judged before a byte of chat goes out. */
static void step_handshake(client *c)
{
    static const char *const basis[] = {
        [TLS_BY_CA] = "certificate verified",
        [TLS_BY_PIN] = "certificate pinned",
        [TLS_BY_KNOWN] = "certificate as remembered in known_hosts",
        [TLS_BY_NOTHING] = "certificate NOT checked (--tls-insecure)",
    };
    char why[1200], known[4096], how[128];
    int want = 0;
    if (tls_handshake(c->ssl, &want) < 0) {
        if (errno == EAGAIN) {
            c->rwant = want;
            return;
        }
        net_failed(c, "TLS handshake with");
        return;
    }
    c->handshaking = c->rwant = 0;
    loop_timer_cancel(c->l, &c->handshake);
    int k = tls_config_path("known_hosts", known, sizeof known) == 0;
    int by = tls_verdict(c->ssl, c->opt->tls_fingerprint, k ? known : NULL, c->target,
                         c->opt->tls_insecure, why, sizeof why);
    if (by < 0) {
        fatal(c, "%s: %s", c->target, why);
        return;
    }
    tls_describe(c->ssl, how, sizeof how);
    note(c, W_NOTICE "tls: %s, %s", how, basis[by]);
    if (c->held && !c->opt->password_file)
        loop_timer_arm(c->l, &c->hold, HOLD_MS);
    sock_writable(c);
}

static void handshake_late(loop *l, loop_timer *t)
{
    client *c = CONTAINER_OF(t, client, handshake);
    (void)l;
    if (!c->handshaking)
        return;
    errno = ETIMEDOUT;
    net_failed(c, "TLS handshake with");
}

/* TLS bytes decrypted and waiting inside OpenSSL: read them now. */
static void tls_again(loop *l, loop_timer *t)
{
    client *c = CONTAINER_OF(t, client, again);
    (void)l;
    if (c->fd < 0 || c->done)
        return;
    sock_readable(c);
    if (c->fd >= 0 && !c->done)
        update_masks(c);
}

/* UDP: one datagram, every line of it shown (its end ends a line). */
static void udp_readable(client *c)
{
    ssize_t n = trace_read(c->fd, c->recv, READ_SIZE);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        net_failed(c, "receiving from");
        return;
    }
    c->bytes_in += (unsigned long long)n;
    take_lines(c, (size_t)n);
    if (c->recvlen) {
        loop_timer_cancel(c->l, &c->pause);
        show(c, c->recv, frame_partial(c->recv, c->recvlen));
        c->recvlen = 0;
    }
}

static void sock_readable(client *c)
{
    if (reading_paused(c) || c->sock_eof)
        return;
    if (c->udp) {
        udp_readable(c);
        return;
    }
    int end = 0;
    ssize_t n;
    if (c->ssl) {
        int want;
        n = tls_read_some(c->ssl, c->recv + c->recvlen, READ_SIZE, &want, &end);
        c->rwant = want == LOOP_WRITE ? LOOP_WRITE : 0;
    } else {
        n = trace_read(c->fd, c->recv + c->recvlen, READ_SIZE);
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        net_failed(c, "connection lost to");
        return;
    }
    if (n == 0 || end) {
        if (n > 0) { /* what came before the end is shown first */
            c->bytes_in += (unsigned long long)n;
            take_lines(c, c->recvlen + (size_t)n);
            if (c->done || c->fd < 0)
                return;
            if (end < 0) {
                net_failed(c, "connection lost to");
                return;
            }
        }
        /* The server closed: show what it sent last, even without a LF,
         * and end once stdout has taken everything. */
        loop_timer_cancel(c->l, &c->pause);
        if (c->recvlen)
            show(c, c->recv, frame_partial(c->recv, c->recvlen));
        c->recvlen = 0;
        c->sock_eof = 1;
        return;
    }
    c->bytes_in += (unsigned long long)n;
    take_lines(c, c->recvlen + (size_t)n);
    if (c->ssl && c->fd >= 0 && tls_pending(c->ssl))
        loop_timer_arm(c->l, &c->again, 0); /* epoll cannot see these */
}

/* UDP: each complete line queued goes as one datagram. */
static void udp_writable(client *c)
{
    const char *lf;
    while ((lf = memchr(buf_data(&c->send), '\n', buf_len(&c->send))) != NULL) {
        size_t n = (size_t)(lf - buf_data(&c->send)) + 1;
        if (trace_write(c->fd, buf_data(&c->send), n) < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            net_failed(c, "sending to");
            return;
        }
        buf_consume(&c->send, n);
        c->bytes_out += n;
        stdin_file_refill(c);
    }
}

static void sock_writable(client *c)
{
    if (c->udp) {
        udp_writable(c);
        return;
    }
    while (buf_len(&c->send) > 0 && !c->handshaking) {
        ssize_t n;
        if (c->ssl) {
            int want = 0;
            size_t len = buf_len(&c->send) < TLS_WRITE_MAX ? buf_len(&c->send) : TLS_WRITE_MAX;
            n = tls_write(c->ssl, buf_data(&c->send), len, &want);
            c->wwant = n < 0 && errno == EAGAIN && want == LOOP_READ ? LOOP_READ : 0;
        } else {
            n = trace_write(c->fd, buf_data(&c->send), buf_len(&c->send));
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            net_failed(c, "sending to");
            return;
        }
        buf_consume(&c->send, (size_t)n);
        c->bytes_out += (unsigned long long)n;
        stdin_file_refill(c);
    }
    if (buf_len(&c->send) == 0 && c->stdin_done && !c->wr_shut && !c->handshaking)
        half_close(c);
}

static void sock_io(loop *l, int fd, void *data, int mask)
{
    client *c = data;
    (void)l, (void)fd;
    if (c->done || c->fd < 0)
        return;
    if (c->handshaking) {
        step_handshake(c);
    } else if ((mask & LOOP_WRITE) && c->rwant) {
        c->rwant = 0; /* a TLS read that had to write first */
        sock_readable(c);
    } else if ((mask & LOOP_READ) && c->wwant) {
        c->wwant = 0; /* a TLS write that had to read first */
        sock_writable(c);
    } else if (mask & LOOP_READ) {
        sock_readable(c);
    } else {
        sock_writable(c);
    }
    if (c->fd >= 0 && !c->done)
        update_masks(c);
}

/* Queues bytes for the server; they go when the socket is writable. */
static void send_bytes(client *c, const char *p, size_t n)
{
    if (c->wr_shut || c->fd < 0)
        return;
    if (buf_append(&c->send, p, n) < 0) {
        /* Only a terminal gets here (stdin pauses first): say so, keep going. */
        if (c->term) {
            const char msg[] = "(not sent: the server is not reading; try again later)";
            term_print(c->term, msg, sizeof msg - 1);
        }
    }
}

static void stdin_eof(client *c)
{
    c->stdin_done = 1;
    if (c->fd < 0) {
        finish(c, 0); /* nothing to say goodbye to */
        return;
    }
    if (c->udp) {
        /* No stream to half-close: say goodbye, wait a moment for "*** bye". */
        send_bytes(c, "/quit\n", 6);
        c->udp_leaving = 1;
        loop_timer_arm(c->l, &c->udp_timer, UDP_LEAVE_MS);
        return;
    }
    if (buf_len(&c->send) == 0 && !c->wr_shut && !c->handshaking) /* else once it drains */
        half_close(c);
}

/* "/stats", answered here: this connection as ss -tie and lsof -i see it. */
static void local_stats(client *c)
{
    char info[512], line[700];
    if (c->fd >= 0)
        net_sock_info(c->fd, info, sizeof info);
    else
        snprintf(info, sizeof info, "not connected");
    int n = snprintf(line, sizeof line, W_NOTICE "stats %s in=%lluB/%llu out=%lluB/%llu", info,
                     c->bytes_in, c->lines_in, c->bytes_out, c->lines_out);
    int was_error = c->last_was_error;
    show(c, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    c->lines_in--; /* not something the server sent */
    c->last_was_error = was_error;
}

static int is_stats(const char *p, size_t n)
{
    return (n == 7 && memcmp(p, "/stats\n", 7) == 0) || (n == 8 && memcmp(p, "/stats\r\n", 8) == 0);
}

/* Takes one read's worth of stdin (n == 0: EOF): bytes go to the server as
 * they came, but for a "/stats" line of its own, answered here. */
static void stdin_take(client *c, const char *in, ssize_t n)
{
    if (n <= 0) {
        /* "Lines are sent": finish a last line that has no newline. */
        if (c->in_partial)
            send_bytes(c, "\n", 1);
        stdin_eof(c);
        return;
    }
    const char *p = in, *end = in + n;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t seg = lf ? (size_t)(lf - p) + 1 : (size_t)(end - p);
        if (!c->in_partial && lf && is_stats(p, seg)) {
            local_stats(c);
        } else {
            send_bytes(c, p, seg);
            c->lines_out += lf != NULL;
        }
        c->in_partial = lf == NULL;
        p += seg;
    }
}

static int send_room(const client *c)
{
    return !c->held && buf_len(&c->send) + READ_SIZE + 1 <= SEND_QUEUE;
}

/* Piped input may go now. */
static void release(client *c)
{
    if (!c->held)
        return;
    c->held = 0;
    loop_timer_cancel(c->l, &c->hold);
    stdin_file_refill(c);
}

static void hold_over(loop *l, loop_timer *t)
{
    client *c = CONTAINER_OF(t, client, hold);
    (void)l;
    release(c);
    update_masks(c);
}

static void stdin_readable(loop *l, int fd, void *data, int mask)
{
    client *c = data;
    char in[READ_SIZE];
    (void)mask;

    if (!send_room(c) || c->stdin_done || c->fd < 0)
        return; /* unwatched by update_masks below; nothing is read to drop */
    ssize_t n = read(fd, in, sizeof in);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0)
        loop_unwatch(l, fd);
    stdin_take(c, in, n);
    if (c->fd >= 0)
        update_masks(c);
}

/* stdin is a regular file (or /dev/null): epoll cannot watch it, and reading
 * it never blocks, so it is read whenever the send queue has room. */
static void stdin_file_refill(client *c)
{
    char in[READ_SIZE];
    while (c->stdin_file && !c->stdin_done && c->fd >= 0 && send_room(c)) {
        ssize_t n = read(STDIN_FILENO, in, sizeof in);
        if (n < 0 && errno == EINTR)
            continue;
        stdin_take(c, in, n);
    }
}

static void term_line(void *data, const char *line, size_t len)
{
    client *c = data;
    if (len == 6 && memcmp(line, "/stats", 6) == 0) {
        local_stats(c);
        return;
    }
    if (c->fd < 0) {
        const char msg[] = "(not sent: not connected)";
        term_print(c->term, msg, sizeof msg - 1);
        return;
    }
    send_bytes(c, line, len);
    send_bytes(c, "\n", 1);
    c->lines_out++;
    update_masks(c);
}

static void term_eof(void *data)
{
    client *c = data;
    stdin_eof(c);
    if (c->fd >= 0)
        update_masks(c);
}

/* ---- the full screen's hooks ---- */

static int connected(const client *c)
{
    return c->fd >= 0 && !c->sock_eof && !c->wr_shut;
}

static int tui_send(void *data, const char *line, size_t len)
{
    client *c = data;
    if (!connected(c) || buf_len(&c->send) + len + 1 > SEND_QUEUE)
        return -1;
    send_bytes(c, line, len);
    send_bytes(c, "\n", 1);
    c->lines_out++;
    update_masks(c);
    return 0;
}

static void tui_quit(void *data, const char *line, size_t len)
{
    client *c = data;
    c->leaving = 1;
    loop_timer_cancel(c->l, &c->retry);
    if (line && connected(c)) {
        tui_send(c, line, len); /* the server says "*** bye" and closes */
        tui_state(c->tui, 1, "leaving");
        return;
    }
    finish(c, 0);
}

static void dial(loop *l, loop_timer *t);

static void tui_reconnect(void *data)
{
    client *c = data;
    if (c->fd >= 0) {
        tui_note(c->tui, TUI_NOTICE, W_NOTICE "already connected to %s", c->target);
        return;
    }
    c->retries = 0;
    loop_timer_arm(c->l, &c->retry, 0);
}

static void tui_stats(void *data)
{
    local_stats(data);
}

/* ---- the connection ---- */

/* Watches fd for mask, or not at all when mask is 0: an fd that is not
 * watched cannot report a hang-up over and over while we wait. */
static void interest(client *c, int fd, int mask, loop_io_fn *fn)
{
    if (mask == 0)
        loop_unwatch(c->l, fd);
    else if (loop_mask(c->l, fd) < 0)
        loop_watch(c->l, fd, mask, fn, c);
    else
        loop_set_mask(c->l, fd, mask);
}

/* Closes the connection and forgets what belonged to it. */
static void hang_up(client *c)
{
    tls_free(c->ssl);
    c->ssl = NULL;
    c->handshaking = c->rwant = c->wwant = c->prompts = 0;
    loop_timer_cancel(c->l, &c->again);
    loop_timer_cancel(c->l, &c->handshake);
    loop_timer_cancel(c->l, &c->hold);
    c->held = 0;
    if (c->fd >= 0) {
        loop_unwatch(c->l, c->fd);
        trace_close(c->fd);
        c->fd = -1;
    }
    /* Pipe mode: stdin waits, unwatched (it would be ready over and over),
     * until update_masks watches it again on the next connection. */
    if (!c->term && !c->tui && !c->stdin_file && !c->stdin_done)
        loop_unwatch(c->l, STDIN_FILENO);
    loop_timer_cancel(c->l, &c->pause);
    loop_timer_cancel(c->l, &c->udp_timer);
    buf_clear(&c->send);
    buf_init(&c->send, SEND_QUEUE);
    c->recvlen = 0;
    c->sock_eof = c->wr_shut = c->welcomed = c->shutdown = c->last_was_error = 0;
    c->lines_conn = 0;
    c->udp_joined = c->udp_tries = c->udp_leaving = 0;
    c->last_error[0] = '\0';
}

/* 1, 2, 4 ... 30 s, each a quarter more or less. */
static unsigned retry_delay(unsigned tries)
{
    unsigned base = RETRY_FIRST_MS;
    for (unsigned i = 1; i < tries && base < RETRY_MAX_MS; i++)
        base *= 2;
    if (base > RETRY_MAX_MS)
        base = RETRY_MAX_MS;
    return base - base / 4 + (unsigned)(random() % (base / 2 + 1));
}

/* Schedules the next dial, or says why there is none. */
static void dial_later(client *c, const char *why)
{
    if (!c->opt->reconnect) { /* only the full screen outlives a loss without it */
        tui_state(c->tui, 0, "disconnected");
        tui_note(c->tui, TUI_ERROR, W_ERROR "%s", why);
        tui_note(c->tui, TUI_NOTICE, W_NOTICE "/reconnect to try again, /quit or Ctrl-D to leave");
        return;
    }
    unsigned ms = retry_delay(++c->retries);
    if (c->tui) {
        tui_state(c->tui, 0, "reconnecting in %u s (try %u)", (ms + 500) / 1000, c->retries);
        tui_note(c->tui, TUI_ERROR, W_ERROR "%s; trying again in %.1f s", why, ms / 1000.0);
    } else {
        fprintf(stderr, "%shichat: %s; trying again in %.1f s\n", eol_clear(c), why, ms / 1000.0);
    }
    loop_timer_arm(c->l, &c->retry, ms);
}

/* The user ended it (/quit answered by "*** bye", end of input): a close
 * that follows is no loss. */
static int ending(const client *c)
{
    return c->leaving || c->bye || c->stdin_done;
}

/* The connection is gone (why: a phrase): dial again, wait on the screen,
 * or end. */
static void lost(client *c, const char *why)
{
    hang_up(c);
    if (ending(c)) {
        finish(c, 0);
        return;
    }
    dial_later(c, why);
}

/* Opens the connection; 0, or -1 with a reason in err. */
static int open_conn(client *c, int timeout_ms, char *err, size_t errsz)
{
    const client_opts *opt = c->opt;
    if (opt->unix_path)
        c->fd = net_connect_unix(opt->unix_path, err, errsz);
    else if (opt->udp)
        c->fd = net_connect_udp(c->host, c->port, err, errsz);
    else
        c->fd = net_connect_tcp(c->host, c->port, timeout_ms, err, errsz);
    if (c->fd < 0)
        return -1;
    if (c->tls) {
        c->ssl = tls_new(c->tls, c->fd, 0, c->host);
        if (!c->ssl) {
            snprintf(err, errsz, "%s", tls_error());
            trace_close(c->fd);
            c->fd = -1;
            return -1;
        }
        c->handshaking = 1;
        c->rwant = LOOP_WRITE; /* the first step sends the ClientHello */
        loop_timer_arm(c->l, &c->handshake, HANDSHAKE_MS);
    }
    if (loop_watch(c->l, c->fd, LOOP_READ, sock_io, c) < 0) {
        snprintf(err, errsz, "cannot watch the socket: %s (%s)", errno_name(errno),
                 strerror(errno));
        trace_close(c->fd);
        c->fd = -1;
        return -1;
    }
    if (c->udp) {
        udp_queue_join(c); /* first, so the answer to it fits (see there) */
    } else if (!c->term && !c->tui) {
        /* With a password file it waits for the greeting however long that
         * takes; otherwise at most HOLD_MS once the (TLS) connection is up. */
        c->held = 1;
        if (!c->tls && !opt->password_file)
            loop_timer_arm(c->l, &c->hold, HOLD_MS);
    }
    /* First, so that the first message already carries the nick: the one
     * the server last gave us, or the one asked for. */
    const char *nick = c->nick[0] ? c->nick : opt->nick;
    if (nick) {
        char line[NICK_MAX + 16];
        int n = snprintf(line, sizeof line, "/nick %s\n", nick);
        buf_append(&c->send, line, (size_t)n);
        c->lines_out++;
    }
    return 0;
}

static void dial(loop *l, loop_timer *t)
{
    client *c = CONTAINER_OF(t, client, retry);
    char err[NET_ERRLEN];
    (void)l;
    if (c->fd >= 0)
        return;
    if (open_conn(c, RECONNECT_TIMEOUT_MS, err, sizeof err) < 0) {
        dial_later(c, err);
        return;
    }
    if (c->tui)
        tui_state(c->tui, 1, "connected");
    else
        fprintf(stderr, "%shichat: connected to %s again\n", eol_clear(c), c->target);
    sock_writable(c);
    if (c->fd >= 0)
        update_masks(c);
}

/* The server closed the connection and stdout has shown all it sent. It is
 * no failure when we asked to leave or the server is shutting down; else the
 * server disconnected us, for the reason its last line gave ("! flooding
 * ...") if it gave one. That ends with status 1, or (full screen,
 * --reconnect) is shown and remembered for the exit status. */
static void server_closed(client *c)
{
    /* Turned away before being let in ("! server full"): a failure. */
    int refused = !c->welcomed && c->last_error[0];
    int orderly = ending(c) || c->shutdown;
    char why[sizeof c->last_error + NET_ADDRSTRLEN + 64];
    if (refused) {
        snprintf(why, sizeof why, "%s refused the connection: %s", c->target,
                 c->last_error + sizeof W_ERROR - 1);
    } else if (orderly) {
        snprintf(why, sizeof why, "%s closed the connection%s", c->target,
                 c->shutdown ? " (" W_SHUTDOWN ")" : "");
    } else {
        snprintf(c->dropped, sizeof c->dropped, "disconnected by the server: %s",
                 c->last_was_error ? c->last_error + sizeof W_ERROR - 1 : "connection closed");
        snprintf(why, sizeof why, "%s", c->dropped);
    }
    if (outlives_connection(c) && !ending(c)) {
        lost(c, why);
    } else if (refused) {
        fprintf(stderr, "hichat: %s\n", why);
        finish(c, 1);
    } else {
        finish(c, orderly ? 0 : 1); /* the reason is said on the way out */
    }
}

/* Reads the socket only while stdout keeps up; writes it only while there is
 * something to send; reads stdin (pipe mode) only while the send queue has
 * room. Backpressure flows end to end instead of into memory. */
static void update_masks(client *c)
{
    if (out_failed(c->o)) {
        if (!c->term && !c->tui)
            fprintf(stderr, "hichat: standard output closed; leaving\n");
        finish(c, 1);
        return;
    }
    if (c->fd < 0)
        return;
    int paused = reading_paused(c);
    int sendable = c->udp ? memchr(buf_data(&c->send), '\n', buf_len(&c->send)) != NULL
                          : buf_len(&c->send) > 0 && !c->wr_shut;
    int m = (c->sock_eof || paused ? 0 : LOOP_READ) | (sendable ? LOOP_WRITE : 0);
    if (c->handshaking)
        m = c->rwant ? c->rwant : LOOP_READ; /* what the handshake waits for */
    else
        m |= c->rwant | c->wwant;
    interest(c, c->fd, m, sock_io);
    if (!paused && c->recvlen > 0 && !loop_timer_armed(&c->pause))
        loop_timer_arm(c->l, &c->pause, QUIET_PAUSE_MS);
    if (!paused && !c->sock_eof && c->ssl && !c->handshaking && tls_pending(c->ssl) &&
        !loop_timer_armed(&c->again))
        loop_timer_arm(c->l, &c->again, 0);
    if (!c->term && !c->tui && !c->stdin_file && !c->stdin_done)
        interest(c, STDIN_FILENO, send_room(c) ? LOOP_READ : 0, stdin_readable);
    if (c->sock_eof && out_pending(c->o) == 0)
        server_closed(c);
}

/* Queues "/join" padded to UDP_JOIN_PAD bytes (the server's answer to an
 * unverified address must fit in what it received), and arms the retry. */
static void udp_queue_join(client *c)
{
    char pad[UDP_JOIN_PAD];
    memset(pad, ' ', sizeof pad);
    memcpy(pad, "/join", 5);
    pad[sizeof pad - 1] = '\n';
    send_bytes(c, pad, sizeof pad);
    c->udp_tries++;
    loop_timer_arm(c->l, &c->udp_timer, UDP_RETRY_MS);
}

/* UDP's one timer: join retries, then keepalives, then the end. */
static void udp_tick(loop *l, loop_timer *t)
{
    client *c = CONTAINER_OF(t, client, udp_timer);
    if (c->udp_leaving) {
        c->sock_eof = 1; /* no "*** bye" came back: done all the same */
    } else if (!c->udp_joined) {
        if (c->udp_tries >= UDP_TRIES) {
            char why[NET_ADDRSTRLEN + 128];
            snprintf(why, sizeof why,
                     "no answer from %s after %d tries \u2014 is hichat serve "
                     "--udp running there?",
                     c->target, UDP_TRIES);
            if (c->tui) {
                lost(c, why);
                return;
            }
            fprintf(stderr, "hichat: %s\n", why);
            finish(c, 1);
            return;
        }
        udp_queue_join(c);
    } else {
        if (buf_len(&c->send) == 0)
            send_bytes(c, "\n", 1); /* an empty line: "still here" */
        loop_timer_arm(l, t, UDP_KEEPALIVE_MS);
    }
    update_masks(c);
}

static void stdout_drained(void *data)
{
    update_masks(data);
}

static void on_signal(loop *l, int fd, void *data, int mask)
{
    client *c = data;
    struct signalfd_siginfo si;
    (void)l, (void)mask;
    if (read(fd, &si, sizeof si) != (ssize_t)sizeof si)
        return;
    if (si.ssi_signo == SIGWINCH) {
        if (c->tui)
            tui_resize(c->tui);
        return;
    }
    finish(c, 0); /* Ctrl-C is how a person leaves: a normal end */
}

/* Full screen when both ends are a terminal, unless asked not to or when
 * --trace would write over it. */
static int wants_tui(const client_opts *opt)
{
    int tfd = trace_fd();
    return !opt->no_tui && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
           !(tfd >= 0 && isatty(tfd));
}

static void start_tui(client *c)
{
    char err[200];
    tui_hooks h = {tui_send, tui_quit, tui_reconnect, tui_stats, c};
    c->tui = tui_new(c->l, c->target, &h, err, sizeof err);
    if (!c->tui)
        fprintf(stderr, "hichat: no full screen (%s); using the line mode\n", err);
}

int client_run(const client_opts *opt)
{
    client cl, *c = &cl;
    char err[NET_ERRLEN];
    sigset_t mask;

    memset(c, 0, sizeof *c);
    c->fd = c->sfd = -1;
    c->opt = opt;
    signal(SIGPIPE, SIG_IGN);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    if (opt->unix_path) {
        snprintf(c->target, sizeof c->target, "unix:%s", opt->unix_path);
    } else {
        if (net_split_hostport(opt->target, DEFAULT_PORT, c->host, sizeof c->host, c->port,
                               sizeof c->port, err, sizeof err) < 0) {
            fprintf(stderr, "hichat: %s\n", err);
            return 2;
        }
        char hp[NET_ADDRSTRLEN];
        net_target(c->host, c->port, hp, sizeof hp);
        snprintf(c->target, sizeof c->target, "%s%s", opt->udp ? "udp:" : "", hp);
        c->udp = opt->udp;
    }
    c->l = loop_new();
    if (!c->l) {
        fprintf(stderr, "hichat: epoll_create1: %s (%s)\n", errno_name(errno), strerror(errno));
        return 1;
    }
    buf_init(&c->send, SEND_QUEUE);
    loop_timer_init(&c->udp_timer, udp_tick);
    loop_timer_init(&c->retry, dial);
    loop_timer_init(&c->pause, pause_over);
    loop_timer_init(&c->again, tls_again);
    loop_timer_init(&c->hold, hold_over);
    loop_timer_init(&c->handshake, handshake_late);
    if (opt->password_file) {
        int loose;
        c->password = password_load(opt->password_file, &loose, err, sizeof err);
        if (!c->password) {
            fprintf(stderr, "hichat: %s\n", err);
            loop_free(c->l);
            return 1;
        }
    }
    if (opt->tls) {
        c->tls = tls_client_ctx(opt->tls_ca, opt->tls_cert, opt->tls_key);
        if (!c->tls) {
            fprintf(stderr, "hichat: %s\n", tls_error());
            forget_password(c);
            loop_free(c->l);
            return 1;
        }
        if (opt->tls_insecure)
            fprintf(stderr, "hichat: warning: --tls-insecure: the server's certificate is not "
                            "checked; anyone on the path can read and change the chat\n");
    }
    int first = open_conn(c, CONNECT_TIMEOUT_MS, err, sizeof err);
    if (first < 0 && !opt->reconnect) {
        fprintf(stderr, "hichat: %s\n", err);
        buf_clear(&c->send);
        SSL_CTX_free(c->tls);
        forget_password(c);
        loop_free(c->l);
        return 1;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    int full = wants_tui(opt);
    if (full)
        sigaddset(&mask, SIGWINCH); /* taken here, not by ncurses' handler */
    sigprocmask(SIG_BLOCK, &mask, NULL);
    c->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    c->recv = xmalloc(RECV_LINE_MAX + 1 + READ_SIZE); /* a kept line may end in CR */
    c->o = out_new(c->l, STDOUT_FILENO, STDOUT_QUEUE);
    out_on_drain(c->o, stdout_drained, c);
    c->status = 0;

    if (c->sfd < 0 || loop_watch(c->l, c->sfd, LOOP_READ, on_signal, c) < 0) {
        fprintf(stderr, "hichat: cannot watch for signals: %s (%s)\n", errno_name(errno),
                strerror(errno));
        c->status = 1;
        goto out;
    }
    if (full)
        start_tui(c);
    if (!c->tui && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
        c->term = term_new(c->l, STDIN_FILENO, c->o, "> ", term_line, term_eof, c);
    if (!c->term && !c->tui && isatty(STDOUT_FILENO)) {
        c->clean_out = 1;
        c->clean_buf = xmalloc(TEXT_CLEAN_MAX(RECV_LINE_MAX));
    }
    if (!c->term && !c->tui && loop_watch(c->l, STDIN_FILENO, LOOP_READ, stdin_readable, c) < 0) {
        if (errno == EPERM) {
            c->stdin_file = 1;
            stdin_file_refill(c);
        } else {
            c->stdin_done = 1; /* no stdin at all (closed): just listen */
        }
    }
    if (first < 0) {
        dial_later(c, err);
    } else {
        if (c->tui)
            tui_state(c->tui, 1, "connected");
        sock_writable(c);
        update_masks(c);
    }
    if (!c->done && loop_run(c->l) < 0) {
        fprintf(stderr, "hichat: epoll_wait: %s (%s)\n", errno_name(errno), strerror(errno));
        c->status = 1;
    }

out:
    tui_free(c->tui);
    term_free(c->term);
    if (c->o) {
        out_flush(c->o, 2000);
        out_free(c->o);
    }
    hang_up(c);
    if (c->fatal[0])
        fprintf(stderr, "hichat: %s\n", c->fatal);
    if (c->dropped[0]) { /* and nothing came after: that is how it ended */
        fprintf(stderr, "hichat: %s\n", c->dropped);
        c->status = 1;
    }
    SSL_CTX_free(c->tls);
    forget_password(c);
    buf_clear(&c->send);
    free(c->recv);
    free(c->clean_buf);
    if (c->sfd >= 0)
        close(c->sfd);
    loop_free(c->l);
    return c->status;
}
