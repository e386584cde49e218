/* udp.c - UDP members.
 *
 * A datagram member shares the rooms with the stream members. UDP source
 * addresses can be forged, so an address first has to prove that it
 * receives there: its first datagram is answered with a token (a keyed MAC
 * of the address, which a forger never sees), and only a peer that sends it
 * back (/join TOKEN) becomes a member. Until then it is a candidate: in no
 * room, not in /who, its lines go nowhere, it is sent at most as many bytes
 * as it has sent (the server cannot be used to amplify traffic toward
 * someone else), and it costs one slot in a bounded table. A member passes
 * the gate's limits like a connection, and is forgotten after
 * --udp-timeout of silence. */
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

/* ---- UDP members ----
 *
 * A datagram room shares the room with the stream members. UDP source
 * addresses can be forged, so an address first has to prove that it
 * receives there: its first datagram is answered with a token (a keyed MAC
 * of the address, which a forger never sees), and only a peer that sends it
 * back (/join TOKEN) becomes a member. Until then it is a candidate: not in
 * the room, not in /who, its lines go nowhere, it is sent at most as many
 * bytes as it has sent (the server cannot be used to amplify traffic toward
 * someone else), and it costs one slot in a bounded table. A member counts
 * toward --max-clients and --max-per-ip like a connection, and is forgotten
 * after --udp-timeout of silence. */

/* Credit a candidate can build up: enough for a few answers, never a store
 * of amplification. */
#define UDP_CREDIT_MAX 4096

/* Candidates kept at once; past it the oldest is forgotten (it can ask
 * again), so a flood of forged addresses costs bounded memory. */
#define UDP_CANDIDATES 4096

/* Datagrams taken per readiness event. */
#define UDP_BATCH 64

/* A /join datagram may be padded to this size (so that the answer fits in
 * what was received: hichat connect pads to 512), whatever --max-line is. */
#define UDP_JOIN_MAX 1024

/* The token: this many bytes of HMAC-SHA256, in hex. */
#define UDP_TOKEN_BYTES 16

#define UDP_TOKEN_LEN (2 * UDP_TOKEN_BYTES)

static size_t udp_slot(const server *s, const struct sockaddr *sa, socklen_t len)
{
    /* FNV-1a from a random seed: chains cannot be aimed at. */
    const unsigned char *p = (const unsigned char *)sa;
    uint64_t h = s->udp_seed;
    for (socklen_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29)) & (s->nub - 1);
}

/* The token a peer at this address must send back: HMAC-SHA256 under a
 * key drawn from the OS at start, so one token says nothing of another. */
static void udp_token(const server *s, const udp_peer *p, char tok[UDP_TOKEN_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    HMAC(EVP_sha256(), s->udp_key, (int)sizeof s->udp_key, (const unsigned char *)&p->addr,
         (size_t)p->alen, mac, &ml);
    for (int i = 0; i < UDP_TOKEN_BYTES; i++)
        snprintf(tok + 2 * i, 3, "%02x", mac[i]);
}

/* Sends one datagram to p, within its credit while it is a candidate. */
static void udp_send(udp_peer *p, const void *data, size_t len)
{
    server *s = p->s;
    if (!p->verified) {
        if (len > p->credit) {
            s->st.udp_dropped++; /* would amplify: not sent */
            return;
        }
        p->credit -= len;
    }
    ssize_t n = trace_sendto(s->ufd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                             (struct sockaddr *)&p->addr, p->alen);
    if (n < 0) {
        s->st.udp_dropped++; /* a full socket buffer: UDP may lose it */
        return;
    }
    p->bytes_out += (uint64_t)n;
    s->st.bytes_out += (uint64_t)n;
}

static void udp_deliver(member *m, chunk *ch)
{
    udp_peer *p = as_udp(m);
    udp_send(p, ch->data, ch->len);
    p->msgs_out++;
    p->s->st.deliveries++;
}

void udp_announce(member *m)
{
    udp_peer *p = as_udp(m);
    if (p->announced)
        return;
    p->announced = 1;
    chat_announce(p->s->chat, m);
}

/* Forgets p; a member leaves the room for reason why (text). Never called
 * while the room is being iterated. */
static void udp_forget(udp_peer *p, enum reason why, const char *text)
{
    server *s = p->s;
    for (udp_peer **pp = &s->ub[udp_slot(s, (struct sockaddr *)&p->addr, p->alen)]; *pp;
         pp = &(*pp)->hnext) {
        if (*pp == p) {
            *pp = p->hnext;
            break;
        }
    }
    loop_timer_cancel(s->l, &p->idle);
    s->nudp--;
    if (!p->verified) {
        fifo_remove(&s->cand, &p->cand);
        free(p);
        return;
    }
    gate_unseat(s, &p->ip);
    s->st.left[why]++;
    gate_leave(s, &p->m, text);
    free(p);
}

static void udp_idle(loop *l, loop_timer *t)
{
    udp_peer *p = CONTAINER_OF(t, udp_peer, idle);
    (void)l;
    udp_forget(p, R_TIMEOUT, "no datagram in time");
}

static void udp_quit(member *m, const char *why, size_t len)
{
    udp_peer *p = as_udp(m);
    server *s = p->s;
    char text[QUIT_REASON_MAX + 8] = "quit";
    chat_event bye = {.kind = EV_NOTICE, .code = N_BYE};
    chat_tell(s->chat, m, &bye);
    if (len > 0) {
        size_t cl = text_clean(why, len > QUIT_REASON_MAX ? QUIT_REASON_MAX : len, s->clean);
        snprintf(text, sizeof text, "quit: %.*s", (int)cl, s->clean);
    }
    udp_forget(p, R_QUIT, text);
}

/* /who for a UDP member: no queue to pace by, so the pages go at once
 * while its flood control has lines to spare for them, and the list says
 * so where it stops. */
static void udp_who(member *m)
{
    udp_peer *p = as_udp(m);
    server *s = p->s;
    while (!chat_who_more(s->chat, m)) {
        if (!bucket_take(&p->flood, &s->flood, loop_now(s->l))) {
            chat_who_stop(s->chat, m);
            return;
        }
    }
}

static const char *udp_addr(const member *m)
{
    return CONTAINER_OF(m, udp_peer, m)->addr_text;
}

static const member_ops udp_ops = {
    .deliver = udp_deliver,
    .quit = udp_quit,
    .who = udp_who,
    .addr = udp_addr,
};

/* A candidate for the address: its first datagram made it. */
static udp_peer *udp_new(server *s, const struct sockaddr *sa, socklen_t len)
{
    ipkey ip = ipcount_key(sa);
    if (!acl_permits(&s->opt.acl, &ip)) {
        s->st.refused[F_DENIED]++; /* silently, and unlogged: datagrams are cheap */
        return NULL;
    }
    if (s->cand.count >= UDP_CANDIDATES) /* the oldest goes: it may ask again */
        udp_forget(CONTAINER_OF(s->cand.head, udp_peer, cand), R_TIMEOUT, "");
    if (s->nudp >= s->nub) { /* grow the table */
        size_t old = s->nub;
        udp_peer **ob = s->ub;
        s->nub = old ? old * 2 : 64;
        s->ub = xcalloc(s->nub, sizeof *s->ub);
        for (size_t i = 0; i < old; i++) {
            for (udp_peer *q = ob[i], *next; q; q = next) {
                next = q->hnext;
                size_t k = udp_slot(s, (struct sockaddr *)&q->addr, q->alen);
                q->hnext = s->ub[k];
                s->ub[k] = q;
            }
        }
        free(ob);
    }
    udp_peer *p = xcalloc(1, sizeof *p);
    p->s = s;
    memcpy(&p->addr, sa, len);
    p->alen = len;
    p->ip = ip;
    bucket_init(&p->flood, &s->flood, loop_now(s->l));
    net_addr_str(sa, len, p->addr_text + 4, sizeof p->addr_text - 4);
    memcpy(p->addr_text, "udp:", 4);
    loop_timer_init(&p->idle, udp_idle);
    p->m.ops = &udp_ops;
    p->m.dialect = &dialect_text;
    p->m.kind = M_UDP;
    size_t k = udp_slot(s, sa, len);
    p->hnext = s->ub[k];
    s->ub[k] = p;
    s->nudp++;
    fifo_push(&s->cand, &p->cand);
    return p;
}

static udp_peer *udp_find(server *s, const struct sockaddr *sa, socklen_t len)
{
    for (udp_peer *p = s->ub ? s->ub[udp_slot(s, sa, len)] : NULL; p; p = p->hnext)
        if (p->alen == len && memcmp(&p->addr, sa, len) == 0)
            return p;
    return NULL;
}

static void udp_ask_token(udp_peer *p)
{
    char tok[UDP_TOKEN_LEN + 1];
    udp_token(p->s, p, tok);
    tell_notice(p->s, &p->m, N_UDP_TOKEN, tok);
}

/* The candidate p proved its address: it joins like a connection, within
 * the same limits, or is told why not and forgotten (then returns -1). */
static int udp_admit(udp_peer *p)
{
    server *s = p->s;
    char why[128];
    int f = gate_check(s, &p->ip, 1, why, sizeof why);
    if (f >= 0) {
        s->st.refused[f]++;
        if (f != F_DENIED) {
            tell_error(s, &p->m, E_REFUSED, 0, why);
            gate_log_refusal(s, p->addr_text, why);
        }
        udp_forget(p, R_TIMEOUT, "");
        return -1;
    }
    fifo_remove(&s->cand, &p->cand);
    p->verified = 1;
    gate_seat(s, &p->ip);
    gate_enter(s, &p->m, p->want_nick);
    udp_announce(&p->m);
    return 0;
}

/* "/join [TOKEN]": the token proves the peer receives at its address.
 * Returns 0 when p is a member, 1 when it was asked for the token (again),
 * -1 when it was turned away and forgotten. */
/* Whether arg[0..len) (spaces around it allowed) is p's token. */
static int udp_token_ok(const udp_peer *p, const char *arg, size_t len)
{
    char tok[UDP_TOKEN_LEN + 1];
    udp_token(p->s, p, tok);
    while (len > 0 && *arg == ' ')
        arg++, len--;
    while (len > 0 && arg[len - 1] == ' ')
        len--;
    return len == UDP_TOKEN_LEN && CRYPTO_memcmp(arg, tok, UDP_TOKEN_LEN) == 0;
}

static int udp_join(udp_peer *p, const char *arg, size_t len)
{
    if (p->verified)
        return 0;
    if (udp_token_ok(p, arg, len))
        return udp_admit(p);
    udp_ask_token(p);
    return 1;
}

static int is_cmd(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len >= n && strncasecmp(line, name, n) == 0 && (len == n || line[n] == ' ');
}

/* The lines of one datagram from p. Returns at once if p was forgotten. */
static void udp_lines(udp_peer *p, const char *data, size_t len)
{
    server *s = p->s;
    while (len > 0) {
        const char *lf = memchr(data, '\n', len);
        size_t ll = lf ? (size_t)(lf - data) : len; /* the datagram ends a line */
        size_t step = lf ? ll + 1 : len;
        const char *line = data;
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        data += step;
        len -= step;
        if (ll == 0)
            continue; /* an empty line: a keepalive */
        /* "/join TOKEN" proves the address (a member may send it again);
         * a member's "/join #room" is for the chat. */
        if (is_cmd(line, ll, "/join") && (!p->verified || udp_token_ok(p, line + 5, ll - 5))) {
            if (udp_join(p, line + 5, ll - 5) != 0)
                return; /* asked again, or forgotten */
            continue;
        }
        if (!p->verified && is_cmd(line, ll, "/nick") && ll > 6 && ll - 6 <= NICK_MAX &&
            !text_nick_invalid(line + 6, ll - 6)) {
            /* hichat connect asks for its nick first thing: kept for joining. */
            memcpy(p->want_nick, line + 6, ll - 6);
            p->want_nick[ll - 6] = '\0';
            continue;
        }
        if (!p->verified) {
            s->st.udp_dropped++; /* an unproven address says nothing to the room */
            udp_ask_token(p);
            return;
        }
        if (ll > s->opt.max_line) {
            tell_error(s, &p->m, E_LINE_TOO_LONG, s->opt.max_line, NULL);
            continue;
        }
        if (!bucket_take(&p->flood, &s->flood, loop_now(s->l))) {
            s->st.udp_dropped++; /* no holding back a datagram: over the rate, dropped */
            continue;
        }
        p->lines_in++;
        /* /quit frees p: it must be the last thing done with it. */
        int quitting = is_cmd(line, ll, "/quit");
        member_line(s, &p->m, line, ll);
        if (quitting)
            return;
    }
}

/* The largest datagram taken: a line of --max-line and its CRLF, or a
 * padded /join. */
size_t udp_cap(const server *s)
{
    return s->opt.max_line + 2 > UDP_JOIN_MAX ? s->opt.max_line + 2 : UDP_JOIN_MAX;
}

void udp_on_readable(loop *l, int fd, void *data, int mask)
{
    server *s = data;
    size_t cap = udp_cap(s);
    (void)mask;

    for (int i = 0; i < UDP_BATCH; i++) {
        if (!pass_open(s) || s->nover > 0) { /* (a datagram's room is not known yet) */
            /* Left in the socket until the room takes more (datagrams
             * beyond its buffer are lost: that is UDP). */
            s->udp_parked = 1;
            loop_set_mask(l, fd, 0);
            return;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        /* MSG_TRUNC: the result is the datagram's real length, so one
         * longer than our buffer is known to be cut. */
        ssize_t n = trace_recvfrom(fd, s->dgram, cap, MSG_TRUNC, (struct sockaddr *)&ss, &len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN, or an ICMP error for an earlier send: nothing to do */
        }
        udp_peer *p = udp_find(s, (struct sockaddr *)&ss, len);
        if (!p && !(p = udp_new(s, (struct sockaddr *)&ss, len)))
            continue;
        p->bytes_in += (uint64_t)n;
        s->st.bytes_in += (uint64_t)n;
        if (!p->verified) {
            p->credit += (uint64_t)n;
            if (p->credit > UDP_CREDIT_MAX)
                p->credit = UDP_CREDIT_MAX;
        }
        loop_timer_arm(s->l, &p->idle, (uint64_t)s->opt.udp_timeout * 1000);
        if ((size_t)n > cap) {
            s->st.udp_truncated++;
            tell_error(s, &p->m, E_LINE_TOO_LONG, s->opt.max_line, NULL);
            continue;
        }
        udp_lines(p, s->dgram, (size_t)n);
    }
}

/* Forgets every UDP peer (at shutdown); their leaves are not announced. */
void udp_forget_all(server *s)
{
    for (size_t i = 0; i < s->nub; i++)
        while (s->ub[i])
            udp_forget(s->ub[i], R_SHUTDOWN, reasons[R_SHUTDOWN].text);
}
