/* conn.c - one stream connection (TCP, TLS or Unix) as a member: its
 * input (framing, flood control, the per-pass budget, the quiet pause and
 * the line deadline, sniffing the wrong protocol), its output queue (the
 * bound, falling behind, flushing), its one timer and its close. */
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

static void who_next(conn *c);
static int take_token(conn *c);
static void unpark(conn *c);
static int conn_ended(conn *c);

/* Watches c's socket for mask, or not at all when mask is 0: a socket that
 * is not watched cannot report a hang-up over and over while we are not
 * reading it (held back by flood control, or closing). */
void conn_interest(conn *c, int mask)
{
    loop *l = c->s->l;
    mask |= c->tp.rwant | c->tp.wwant; /* TLS waiting on the other direction */
    if (mask == 0)
        loop_unwatch(l, c->tp.fd);
    else if (loop_mask(l, c->tp.fd) < 0)
        loop_watch(l, c->tp.fd, mask, conn_io, c);
    else
        loop_set_mask(l, c->tp.fd, mask);
}

static void mark_pending(conn *c)
{
    if (c->flags & (C_PENDING | C_DEAD))
        return;
    c->flags |= C_PENDING;
    c->next_pending = c->s->pending;
    c->s->pending = c;
}

static int conn_unsent(const conn *c)
{
    return c->out.count > 0 || transport_unsent(&c->tp);
}

/* Counts c in nover while its queue costs more than --max-queue. Being over
 * is no fault by itself (one pass may queue a burst that a fast reader takes
 * at once); staying behind too long is (behind_due, conn_timer). A member
 * leaving no longer counts: nobody waits for its last words. */
static void conn_weigh(conn *c)
{
    server *s = c->s;
    int over = is_open(c) && outq_cost(&c->out) > s->opt.max_queue;
    if (over == ((c->flags & C_OVER) != 0))
        return;
    chat_set_over(s->chat, &c->m, over);
    if (over) {
        c->flags |= C_OVER;
        c->over_ms = loop_now(s->l);
        s->nover++;
        conn_rearm(c);
    } else {
        c->flags &= ~(unsigned)C_OVER;
        s->nover--;
        /* Its rooms may take input again: whoever waited on one goes back
         * in line, where the next pass takes it or puts it back. (Rare: a
         * member that fell behind and caught up, or left.) */
        while (s->waiting.head) {
            fifo_link *k = s->waiting.head;
            fifo_remove(&s->waiting, k);
            CONTAINER_OF(k, conn, parked)->flags &= ~(unsigned)C_WAITS;
            fifo_push(&s->parked, k);
        }
    }
}

/* When c, over its bound, has been behind too long (see STALL_MS). */
static uint64_t behind_due(const conn *c)
{
    uint64_t stalled = c->progress_ms + STALL_MS, slow = c->over_ms + BEHIND_MS;
    return stalled < slow ? stalled : slow;
}

static void conn_deliver(member *m, chunk *ch)
{
    conn *c = as_conn(m);
    if (!is_open(c))
        return; /* leaving: its last words are queued, nothing follows them */
    if (!conn_unsent(c))
        c->progress_ms = loop_now(c->s->l); /* nothing was waiting for it */
    outq_push(&c->out, ch);
    c->s->st.deliveries++;
    c->msgs_out++;
    mark_pending(c);
    conn_weigh(c);
}

/* Sends one chunk to one member and drops the caller's reference. */
void member_reply(member *m, chunk *ch)
{
    m->ops->deliver(m, ch);
    chunk_unref(ch);
}

enum reason conn_errno_reason(int e)
{
    switch (e) {
    case EPIPE:
    case ECONNRESET: return R_RESET;
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH: return R_TIMEOUT;
    default: return R_ERROR;
    }
}

/* Writes c's queue once. */
void conn_flush(conn *c)
{
    server *s = c->s;
    ssize_t n = transport_send(&c->tp, &c->out);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        conn_close(c, conn_errno_reason(errno), 0);
        return;
    }
    if (n > 0) {
        s->st.bytes_out += (uint64_t)n;
        c->bytes_out += (uint64_t)n;
        c->progress_ms = loop_now(s->l);
    }
    conn_weigh(c);
    int rmask = (c->flags & (C_CLOSING | C_HELD)) ? 0 : LOOP_READ;
    if (conn_unsent(c)) {
        /* (A TLS write waiting to read waits on readability alone.) */
        conn_interest(c, rmask | (c->tp.wwant ? 0 : LOOP_WRITE));
        return;
    }
    if (c->flags & C_CLOSING) {
        /* All said: send FIN, then read until the peer's FIN so that
         * unread input cannot turn our close into a reset that loses what
         * we just wrote. When the server is stopping and nothing is unread,
         * a close sends no reset: no need to wait for the peer. */
        int unread = 0;
        transport_shutdown(&c->tp);
        if (s->stopping && trace_ioctl_int(c->tp.fd, FIONREAD, &unread) == 0 && unread == 0) {
            conn_close(c, c->why, 0);
            return;
        }
        c->flags |= C_LINGER;
        conn_interest(c, LOOP_READ);
        return;
    }
    conn_interest(c, rmask);
    who_next(c); /* it has read the last page */
}

void conn_free(conn *c)
{
    server *s = c->s;
    unpark(c);
    loop_timer_cancel(s->l, &c->timer);
    loop_unwatch(s->l, c->tp.fd);
    trace_close(c->tp.fd);
    ipcount_del(s->ips, &c->ip);
    outq_clear(&c->out);
    transport_free(&c->tp);
    free(c->in);
    free(c->why_text);
    free(c->want_nick);
    free(c->addr);
    free(c->m.who); /* (chat_leave frees it; not for one turned back at the gate) */
    fifo_remove(&s->conns, &c->link);
    free(c);
}

/* Marks c to leave the room for reason why. graceful: flush what is queued
 * first; else drop the connection at the end of this pass. */
void conn_close(conn *c, enum reason why, int graceful)
{
    server *s = c->s;
    if (c->flags & C_DEAD)
        return;
    /* Closing ends the gate too: a handshake or a login must not go on
     * (and let it join) while its last words are flushed. */
    c->flags &= ~(unsigned)C_GATE;
    if (!(c->flags & (C_CLOSING | C_LEAVING))) {
        c->why = why;
        c->flags |= C_LEAVING;
        c->next_leave = s->leaving;
        s->leaving = c;
    }
    unpark(c);
    conn_weigh(c);
    if (graceful && !(c->flags & C_CLOSING)) {
        c->flags |= C_CLOSING;
        free(c->in);
        c->in = NULL;
        c->inlen = 0;
        loop_timer_arm(s->l, &c->timer, CLOSE_LINGER_MS);
        conn_interest(c, 0);
        mark_pending(c);
        return;
    }
    if (!graceful) {
        /* Nothing more from it, not even a partial line due in this pass. */
        c->flags |= C_DEAD;
        loop_timer_cancel(s->l, &c->timer);
        free(c->in);
        c->in = NULL;
        c->inlen = 0;
        loop_unwatch(s->l, c->tp.fd);
        c->next_dead = s->dead;
        s->dead = c;
    }
}

const char *conn_why(const conn *c)
{
    return c->why_text ? c->why_text : reasons[c->why].text;
}

/* /who for a connection: a crowd's list is not made at once. It gets a
 * page, then the next each time it has read the last (who_next), each page
 * paid for like a line, so a big room's list neither stalls the loop nor
 * fills the asker's queue. */
static void conn_who(member *m)
{
    conn *c = as_conn(m);
    chat_who_more(c->s->chat, m);
}

/* The next page of c's /who once it has read the last one, if its flood
 * control has a line to spare; else its timer comes back for it. */
static void who_next(conn *c)
{
    if (!c->m.who || !is_open(c) || conn_unsent(c))
        return;
    if (!take_token(c)) {
        conn_rearm(c);
        return;
    }
    chat_who_more(c->s->chat, &c->m);
}

/* "quit" or "quit: REASON" (cleaned, cut) into c->why_text. */
static void set_quit_reason(conn *c, const char *why, size_t len)
{
    server *s = c->s;
    if (len == 0)
        return;
    if (len > QUIT_REASON_MAX)
        len = QUIT_REASON_MAX; /* may cut a character: cleaning shows U+FFFD */
    size_t cl = text_clean(why, len, s->clean);
    free(c->why_text);
    c->why_text = xmalloc(cl + 7);
    memcpy(c->why_text, "quit: ", 6);
    memcpy(c->why_text + 6, s->clean, cl);
    c->why_text[6 + cl] = '\0';
}

void conn_quit(member *m, const char *why, size_t len)
{
    conn *c = as_conn(m);
    chat_event bye = {.kind = EV_NOTICE, .code = N_BYE};
    chat_tell(c->s->chat, m, &bye);
    set_quit_reason(c, why, len);
    conn_close(c, R_QUIT, 1);
}

static const char *conn_addr(const member *m)
{
    return CONTAINER_OF(m, conn, m)->addr;
}

const member_ops conn_ops = {
    .deliver = conn_deliver,
    .quit = conn_quit,
    .who = conn_who,
    .addr = conn_addr,
};

/* An HTTP request line: "METHOD TARGET HTTP/d.d". */
static int is_http_request(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && line[i] >= 'A' && line[i] <= 'Z')
        i++;
    if (i == 0 || i >= len || line[i] != ' ')
        return 0;
    const char *sp = memchr(line + i + 1, ' ', len - i - 1);
    if (!sp)
        return 0;
    size_t rest = len - (size_t)(sp + 1 - line);
    return rest == 8 && memcmp(sp + 1, "HTTP/", 5) == 0;
}

/* The first line of a connection: a browser or curl gets an HTTP answer it
 * can show instead of chat noise. Returns 1 if the line was taken. */
static int sniff_first_line(conn *c, const char *line, size_t len)
{
    c->flags |= C_SPOKE;
    if (!is_http_request(line, len))
        return 0;
    static const char answer[] =
        "HTTP/1.0 400 Bad Request\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Connection: close\r\n"
        "\r\n"
        "This is a hichat chat server. It speaks lines of text, not HTTP:\r\n"
        "connect with `hichat connect HOST:PORT` or `nc HOST PORT`.\r\n";
    chunk *ch = chunk_new(answer, sizeof answer - 1);
    member_reply(&c->m, ch);
    conn_close(c, R_HTTP, 1);
    return 1;
}

/* The first bytes of a connection: a TLS ClientHello or binary junk is not a
 * chat client. Returns 1 if the connection was closed for it. */
static int sniff_first_bytes(conn *c, const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04) {
        conn_close(c, R_TLS, 0); /* it cannot read a text reply anyway */
        return 1;
    }
    size_t look = n < SNIFF_MAX ? n : SNIFF_MAX, bad = 0;
    if (look < SNIFF_MIN)
        return 0;
    for (size_t i = 0; i < look;) {
        uint32_t cp;
        int k = utf8_decode(p + i, look - i, &cp);
        if (k < 0) {
            if (look - i >= 4)
                bad++; /* a sequence cut by the window is not counted */
            i++;
            continue;
        }
        if (cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n')
            bad++;
        i += (size_t)k;
    }
    if (bad * 100 <= look * BINARY_PERCENT)
        return 0;
    tell_error(c->s, &c->m, E_BINARY, 0, NULL);
    conn_close(c, R_BINARY, 1);
    return 1;
}

/* ---- flood control and timing ---- */

/* Takes one line's worth from c's flood bucket; 0 if it is empty. */
static int take_token(conn *c)
{
    return bucket_take(&c->flood, &c->s->flood, loop_now(c->s->l));
}

/* When c's flood bucket next has a whole line (0: now). */
static uint64_t token_due(const conn *c)
{
    return bucket_due(&c->flood, &c->s->flood);
}

/* Arms c's one timer for the earliest thing it waits for. */
void conn_rearm(conn *c)
{
    server *s = c->s;
    uint64_t next = UINT64_MAX;

    if (c->flags & C_CLOSING)
        return; /* the close deadline is armed */
    if (c->flags & C_GATE)
        next = c->gate_due;
    else if (!(c->flags & C_ANNOUNCED))
        next = c->join_due_ms;
    if (c->flags & C_THROTTLED) {
        /* Held back: until a token is due, and not before the hold ends. */
        uint64_t at = c->hold_until, due = token_due(c);
        if (due > at)
            at = due;
        if (at < next)
            next = at;
    } else if (!(c->flags & C_PARKED)) {
        if (c->inlen > 0 && !c->fr.discarding && c->last_byte_ms + QUIET_PAUSE_MS < next)
            next = c->last_byte_ms + QUIET_PAUSE_MS;
        if (c->line_start_ms && s->opt.line_timeout > 0) {
            uint64_t dl = c->line_start_ms + (uint64_t)s->opt.line_timeout * 1000;
            if (dl < next)
                next = dl;
        }
    }
    if ((c->flags & C_OVER) && behind_due(c) < next)
        next = behind_due(c);
    if (c->m.who && !conn_unsent(c) && token_due(c) < next)
        next = token_due(c); /* the next page of /who */
    if (next == UINT64_MAX)
        loop_timer_cancel(s->l, &c->timer);
    else
        loop_timer_arm_at(s->l, &c->timer, next);
}

/* Tells the room c joined (once). */
void conn_announce(conn *c)
{
    if (c->flags & C_ANNOUNCED)
        return;
    c->flags |= C_ANNOUNCED;
    chat_announce(c->s->chat, &c->m);
}

/* Whether c's input waits out a wrong password's delay. */
static int held(const conn *c)
{
    return c->hold_until > loop_now(c->s->l);
}

/* Stops taking c's input (kept in c->in) until conn_timer releases it. */
static void hold(conn *c)
{
    c->flags |= C_THROTTLED;
    conn_interest(c, conn_unsent(c) ? LOOP_WRITE : 0);
}

/* What one pass may add to the queue of each member of a room of n. */
static size_t pass_budget(const server *s, size_t n)
{
    size_t budget = PASS_FANOUT / (n ? n : 1);
    if (budget > s->opt.max_queue / 4)
        budget = s->opt.max_queue / 4;
    if (budget > PASS_BYTES)
        budget = PASS_BYTES;
    return budget ? budget : 1;
}

/* Whether c's next line may be taken now: this pass has room for more,
 * nobody in c's current room is over its bound (a slow reader holds up
 * its own rooms, not the others), and that room has not had its share of
 * this pass. A connection at the gate or in no room says nothing to a
 * room. */
int conn_takes(conn *c)
{
    size_t n, over;
    server *s = c->s;
    if (!pass_open(s))
        return 0;
    if (!(c->flags & C_JOINED))
        return 1;
    size_t load = chat_room_load(s->chat, &c->m, &n, &over);
    return over == 0 && load < pass_budget(s, n);
}

/* Whether c waits on a slow reader in its current room (not on the pass). */
int conn_waits(conn *c)
{
    size_t n, over;
    if (!(c->flags & C_JOINED))
        return 0;
    chat_room_load(c->s->chat, &c->m, &n, &over);
    return over > 0;
}

/* Puts off c's input (kept in c->in, the rest in the kernel) until the room
 * takes more; resume() takes it up again in the order it was put off. One
 * whose room waits on a slow reader waits apart (s->waiting), so that the
 * passes do not spin on it; it is put back in line when a member comes
 * back under its bound (conn_weigh). */
void conn_park(conn *c)
{
    server *s = c->s;
    if (c->flags & C_PARKED)
        return;
    c->flags |= C_PARKED;
    c->line_start_ms = 0; /* waiting on us, not on the peer */
    c->throttled_ms = 0;  /* nor is it flooding while it waits */
    if (conn_waits(c)) {
        c->flags |= C_WAITS;
        fifo_push(&s->waiting, &c->parked);
    } else {
        fifo_push(&s->parked, &c->parked);
    }
    conn_interest(c, conn_unsent(c) ? LOOP_WRITE : 0);
}

static void unpark(conn *c)
{
    server *s = c->s;
    if (!(c->flags & C_PARKED))
        return;
    fifo_remove((c->flags & C_WAITS) ? &s->waiting : &s->parked, &c->parked);
    c->flags &= ~(unsigned)(C_PARKED | C_WAITS);
}

/* c has been behind too long (behind_due) and its socket takes no more: it
 * loses its seat. Its backlog is let go (but the rest of a line begun), so
 * that the one line saying why is next in its stream. */
static void fell_behind(conn *c)
{
    server *s = c->s;
    outq_trim(&c->out);
    chat_event ev = {.kind = EV_ERROR, .code = E_FELL_BEHIND, .n = s->opt.max_queue};
    chunk *ch = c->m.dialect->encode(&ev, 0);
    outq_push(&c->out, ch); /* (not deliver: it no longer takes the room's lines) */
    chunk_unref(ch);
    conn_close(c, R_QUEUE_FULL, 1);
}

/* c's stream failed with err; a TLS failure (EPROTO) is logged with
 * OpenSSL's reason, which errno cannot carry. */
static void conn_broke(conn *c, int err)
{
    if (err == EPROTO)
        logmsg(c->s, "tls %s: %s", c->addr, tls_error());
    conn_close(c, conn_errno_reason(err), 0);
}

/* Flood control found c's bucket empty with lines waiting: stop reading
 * (the kernel buffers the rest, then the sender blocks) until the next
 * token, and cut a client that keeps this up. */
static void throttle(conn *c)
{
    server *s = c->s;
    uint64_t now = loop_now(s->l);
    if (!c->throttled_ms) {
        c->throttled_ms = now;
        tell_error(s, &c->m, E_SLOW_DOWN, (size_t)s->opt.msg_rate, NULL);
    } else if (now - c->throttled_ms > (uint64_t)s->opt.flood_timeout * 1000) {
        /* Held back this long without a break: flooding, not pasting. */
        tell_error(s, &c->m, E_FLOODING, (size_t)s->opt.flood_timeout, NULL);
        conn_close(c, R_FLOOD, 1);
        return;
    }
    hold(c);
}

/* One line from a connection: to the gate or to the room. */
static void conn_line(conn *c, const char *line, size_t len)
{
    if (c->flags & C_AUTH)
        gate_line(c, line, len);
    else
        member_line(c->s, &c->m, line, len);
}

/* Takes the lines in data[0..len) (held or carried input first), then keeps
 * what is left in c->in. data is never c->in itself. */
static void conn_input(conn *c, const char *data, size_t len)
{
    server *s = c->s;
    size_t pos = 0;
    int throttled = 0, waiting = 0, parked = 0;

    while (pos < len && is_open(c)) {
        enum frame_kind kind;
        const char *line;
        size_t ll;
        size_t n = framer_next(&c->fr, data + pos, len - pos, s->opt.max_line, &kind, &line, &ll);
        if (kind == FRAME_MORE) {
            pos += n;
            break;
        }
        if (kind == FRAME_TOO_LONG) {
            pos += n;
            c->flags |= C_SPOKE;
            tell_error(s, &c->m, E_LINE_TOO_LONG, s->opt.max_line, NULL);
            continue;
        }
        if (ll > 0 && !conn_takes(c)) {
            pos = (size_t)(line - data);
            parked = 1;
            break;
        }
        if (ll > 0 && held(c)) {
            pos = (size_t)(line - data);
            waiting = 1;
            break;
        }
        if (ll > 0 && !take_token(c)) {
            pos = (size_t)(line - data); /* keep the line, drop what framing skipped */
            throttled = 1;
            break;
        }
        pos += n;
        if (!(c->flags & C_SPOKE) && sniff_first_line(c, line, ll))
            break;
        conn_line(c, line, ll);
    }

    if (!is_open(c))
        return; /* conn_close dropped c->in, or conn_free will */
    /* Keep the rest: a partial line (at most max_line + 1 bytes), or lines
     * held back by flood control (at most what one read brought). */
    char *rest = NULL;
    size_t nrest = len - pos;
    if (nrest) {
        rest = xmalloc(nrest);
        memcpy(rest, data + pos, nrest);
    }
    free(c->in);
    c->in = rest;
    c->inlen = nrest;

    uint64_t now = loop_now(s->l);
    if (throttled || waiting) {
        c->line_start_ms = 0; /* waiting on us, not on the peer */
        if (throttled)
            throttle(c);
        else
            hold(c);
    } else if (parked) {
        conn_park(c);
    } else {
        c->throttled_ms = 0;
        if ((nrest || c->fr.discarding) && !c->line_start_ms)
            c->line_start_ms = now;
        else if (!nrest && !c->fr.discarding)
            c->line_start_ms = 0;
    }
    conn_rearm(c);
}

/* Takes up c's held input again (flood control let go, or the room takes
 * more): reading resumes, and what waits in c->in is taken first. Reads
 * nothing more itself: decrypted TLS input that epoll cannot see is the
 * caller's to take (see tls_waiting). Returns whether c may read on. */
int conn_release(conn *c)
{
    char *held = c->in;
    size_t n = c->inlen;
    c->flags &= ~(unsigned)C_THROTTLED;
    unpark(c);
    c->in = NULL;
    c->inlen = 0;
    /* The pause it waited out is ours: its partial line starts afresh. */
    c->last_byte_ms = loop_now(c->s->l);
    conn_interest(c, LOOP_READ | (conn_unsent(c) ? LOOP_WRITE : 0));
    conn_input(c, held, n);
    free(held);
    return !conn_ended(c) && is_open(c) && !(c->flags & C_HELD);
}

/* Decrypted input waiting inside OpenSSL, which epoll cannot report. */
int conn_tls_waiting(const conn *c)
{
    return transport_pending(&c->tp) > 0;
}

void conn_timer(loop *l, loop_timer *t)
{
    conn *c = CONTAINER_OF(t, conn, timer);
    server *s = c->s;
    uint64_t now = loop_now(l);

    if (c->flags & C_CLOSING) {
        conn_close(c, c->why, 0); /* linger deadline */
        return;
    }
    if (!is_open(c))
        return; /* leaving: its input no longer counts */
    if ((c->flags & C_GATE) && now >= c->gate_due) {
        if (c->flags & C_AUTH) {
            tell_error(s, &c->m, E_LOGIN_TIMEOUT, LOGIN_MS / 1000, NULL);
            conn_close(c, R_LOGIN_TIMEOUT, 1);
        } else if (!c->tp.ssl) {
            /* Silent all along: a TLS client would have spoken first, so
             * this is a person with nc waiting for a greeting. */
            gate_not_tls(c);
        } else {
            logmsg(s, "tls %s: handshake not done within %d s", c->addr, HANDSHAKE_MS / 1000);
            conn_close(c, R_HANDSHAKE, 0);
        }
        return;
    }
    if ((c->flags & C_OVER) && now >= behind_due(c)) {
        /* One more try first: the server may have been the slow one (a
         * long pass, a SIGSTOP), and a reader that kept up takes it now. */
        uint64_t before;
        do {
            before = c->bytes_out;
            conn_flush(c);
        } while ((c->flags & C_OVER) && c->bytes_out > before);
        if (c->flags & C_OVER) {
            fell_behind(c);
            return;
        }
        if (!is_open(c))
            return;
    }
    if (!(c->flags & C_ANNOUNCED) && now >= c->join_due_ms)
        conn_announce(c);
    who_next(c);
    if (c->flags & C_THROTTLED) {
        if (conn_release(c) && conn_tls_waiting(c))
            conn_readable(c); /* (in line behind others, if there are any) */
        return;
    }
    if (c->line_start_ms && s->opt.line_timeout > 0 &&
        now >= c->line_start_ms + (uint64_t)s->opt.line_timeout * 1000) {
        tell_error(s, &c->m, E_LINE_TIMEOUT, (size_t)s->opt.line_timeout, NULL);
        conn_close(c, R_LINE_TIMEOUT, 1);
        return;
    }
    if (c->inlen > 0 && !c->fr.discarding && !(c->flags & C_PARKED) &&
        now >= c->last_byte_ms + QUIET_PAUSE_MS) {
        /* The quiet pause is over: what waits is a line (see protocol.md). */
        if (!conn_takes(c)) {
            conn_park(c);
            conn_rearm(c);
            return;
        }
        if (held(c)) { /* after a wrong password, a line without LF waits too */
            hold(c);
            conn_rearm(c);
            return;
        }
        if (!take_token(c)) {
            throttle(c);
            conn_rearm(c);
            return;
        }
        char *in = c->in;
        size_t n = frame_partial(in, c->inlen);
        c->in = NULL;
        c->inlen = 0;
        c->line_start_ms = 0;
        if ((c->flags & C_SPOKE) || !sniff_first_line(c, in, n))
            conn_line(c, in, n);
        free(in);
    }
    conn_rearm(c);
}

/* The TLS stream ended after the bytes just taken: close, but only once
 * lines held back (flood control, a wrong password) have been taken too.
 * Returns whether c is closing. */
static int conn_ended(conn *c)
{
    if (!c->tp.end || !is_open(c) || (c->flags & C_HELD))
        return 0;
    if (c->tp.end > 0)
        conn_close(c, R_CLOSED, 1);
    else
        conn_broke(c, c->tp.err);
    return 1;
}

void conn_readable(conn *c)
{
    server *s = c->s;
    ssize_t n;

    if (c->flags & C_HANDSHAKE) {
        conn_handshake(c);
        return;
    }
    if (c->flags & (C_CLOSING | C_LINGER | C_HELD)) {
        /* Not taking input now; only notice the peer going away (a hang-up
         * is reported even to a quiet watcher). */
        char b;
        n = trace_recvfrom(c->tp.fd, &b, 1, MSG_PEEK, NULL, NULL);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_close(c, n == 0 ? R_CLOSED : conn_errno_reason(errno), 0);
        } else if (n > 0 && (c->flags & C_LINGER)) {
            n = trace_read(c->tp.fd, s->scratch, READ_SIZE); /* drained and dropped */
        }
        return;
    }
    if (s->parked.head || !conn_takes(c)) {
        /* The room has taken its share of this pass, or others were put
         * off first: wait in line, and read nothing meanwhile. */
        conn_park(c);
        return;
    }
    conn_read(c);
}

/* Reads c's stream once and takes the lines in it. */
void conn_read(conn *c)
{
    server *s = c->s;
    ssize_t n;

    /* A second pass only for TLS bytes already decrypted and waiting (less
     * than a record): epoll would not report them. */
    for (int pass = 0; pass < 2; pass++) {
        size_t want = READ_SIZE;
        if (pass) {
            size_t p = transport_pending(&c->tp);
            if (p == 0 || !is_open(c) || (c->flags & C_HELD))
                return;
            want = p < READ_SIZE ? p : READ_SIZE;
        }
        if (c->inlen)
            memcpy(s->scratch, c->in, c->inlen);
        n = transport_recv(&c->tp, s->scratch + c->inlen, want);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                if (c->tp.rwant) /* TLS must write before it can read on */
                    conn_interest(c, LOOP_READ | (conn_unsent(c) ? LOOP_WRITE : 0));
                return;
            }
            conn_broke(c, errno);
            return;
        }
        if (n == 0) {
            /* A partial line left at EOF is dropped: the sender may have died
             * mid-line, and half a message must never go out in its name. */
            conn_close(c, R_CLOSED, 1);
            return;
        }
        s->st.bytes_in += (uint64_t)n;
        c->bytes_in += (uint64_t)n;
        c->last_byte_ms = loop_now(s->l);
        if (!(c->flags & C_SPOKE) && c->inlen == 0 &&
            sniff_first_bytes(c, (unsigned char *)s->scratch, (size_t)n))
            return;
        conn_input(c, s->scratch, c->inlen + (size_t)n);
        if (conn_ended(c))
            return;
    }
}

void conn_io(loop *l, int fd, void *data, int mask)
{
    conn *c = data;
    (void)l, (void)fd;
    if (c->flags & C_HANDSHAKE) {
        conn_handshake(c);
        return;
    }
    /* TLS: a write that waits for readability, a read for writability. */
    if ((mask & LOOP_READ) && c->tp.wwant) {
        c->tp.wwant = 0;
        mark_pending(c);
    }
    if ((mask & LOOP_WRITE) && c->tp.rwant && !(c->flags & C_DEAD)) {
        c->tp.rwant = 0;
        conn_readable(c);
        return;
    }
    if (mask & LOOP_READ)
        conn_readable(c);
    else if (!(c->flags & C_DEAD))
        conn_flush(c);
}
