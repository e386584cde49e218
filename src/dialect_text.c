/* dialect_text.c - the text dialect, for people and nc: lines in, lines
 * out, every wording in one place (the fixed parts in wording.h, which the
 * client reads back). The shapes are documented in docs/protocol.md. */
#include "dialect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text.h"
#include "util.h"

/* The commands, in /help's order: what each takes (shown by /help and in
 * "usage:"), what it does (NULL: not listed), and whether it needs an
 * argument. Names are matched ignoring case. */
static const struct command {
    const char *name, *args, *help;
    enum cmd_kind kind;
    int needs_arg;
} commands[] = {
    {"join", "#ROOM", "join a room (making it if need be) and talk there", CMD_JOIN, 1},
    {"part", "[#ROOM] [REASON]", "leave a room (default: the current one)", CMD_PART, 0},
    {"switch", "#ROOM", "talk in another of your rooms", CMD_SWITCH, 1},
    {"rooms", "", "list the rooms", CMD_ROOMS, 0},
    {"topic", "[#ROOM] [TEXT]", "show or set a room's topic (- clears it)", CMD_TOPIC, 0},
    {"who", "[#ROOM]", "list who is in a room", CMD_WHO, 0},
    {"nick", "NAME", "change your nick (1-32 bytes, no spaces)", CMD_NICK, 0},
    {"msg", "NICK|#ROOM TEXT", "send TEXT to NICK alone, or to a room of yours", CMD_MSG, 1},
    {"me", "ACTION", "tell the room what you are doing", CMD_ACTION, 1},
    {"quit", "[REASON]", "leave", CMD_QUIT, 0},
    {"help", "", "this list", CMD_HELP, 0},
    {"hello", "", "the server answers \"" W_NOTICE W_HI "\" (hichat hello)", CMD_HELLO, 0},
    {"stats", "", NULL, CMD_STATS, 0},
    {"pass", "PASSWORD", NULL, CMD_PASS, 0},
};

static size_t skip_spaces(const char *s, size_t len, size_t i)
{
    while (i < len && s[i] == ' ')
        i++;
    return i;
}

/* Splits a[0..alen) into a first word (target) and the rest (text). */
static void split_word(const char *a, size_t alen, chat_cmd *out)
{
    size_t w = 0;
    while (w < alen && a[w] != ' ')
        w++;
    out->target = a;
    out->tlen = w;
    size_t t = skip_spaces(a, alen, w);
    out->text = a + t;
    out->len = alen - t;
}

static int text_parse(const char *line, size_t len, chat_cmd *out)
{
    memset(out, 0, sizeof *out);
    out->target = out->text = out->name = line + len;
    if (len == 0)
        return -1;
    if (line[0] != '/' || (len > 1 && line[1] == '/')) {
        out->kind = CMD_SAY;
        out->text = line[0] == '/' ? line + 1 : line; /* "//x" is the message "/x" */
        out->len = line[0] == '/' ? len - 1 : len;
        return 0;
    }
    size_t nl = 1;
    while (nl < len && line[nl] != ' ')
        nl++;
    const char *name = line + 1;
    size_t namelen = nl - 1;
    /* The argument, trimmed; /pass takes it as sent, spaces and all. */
    const char *raw = nl < len ? line + nl + 1 : line + len;
    size_t rawlen = (size_t)(line + len - raw);
    size_t a0 = skip_spaces(line, len, nl), a1 = len;
    while (a1 > a0 && line[a1 - 1] == ' ')
        a1--;
    const char *arg = line + a0;
    size_t alen = a1 - a0;

    const struct command *c = NULL;
    for (size_t i = 0; i < ARRAY_LEN(commands) && !c; i++)
        if (strlen(commands[i].name) == namelen &&
            strncasecmp(name, commands[i].name, namelen) == 0)
            c = &commands[i];
    out->name = name;
    out->nlen = namelen;
    if (!c) {
        out->kind = CMD_UNKNOWN;
        return 0;
    }
    out->name = c->name;
    out->nlen = strlen(c->name);
    out->kind = c->kind;
    if (c->needs_arg && alen == 0) {
        out->kind = CMD_USAGE;
        return 0;
    }
    switch (c->kind) {
    case CMD_MSG:
        split_word(arg, alen, out);
        if (out->len == 0)
            out->kind = CMD_USAGE;
        break;
    case CMD_JOIN:
    case CMD_SWITCH:
    case CMD_WHO:
        split_word(arg, alen, out);
        if (out->len > 0) /* one room at a time: nothing is ignored unsaid */
            out->kind = CMD_USAGE;
        out->len = 0;
        break;
    case CMD_PART:
    case CMD_TOPIC:
        /* "#ROOM [TEXT]" is about that room; else TEXT (a reason, a topic)
         * is about the current one. */
        if (alen > 0 && arg[0] == W_ROOM_PREFIX) {
            split_word(arg, alen, out);
        } else {
            out->text = arg;
            out->len = alen;
        }
        break;
    case CMD_PASS:
        out->text = raw;
        out->len = rawlen;
        break;
    default:
        out->text = arg;
        out->len = alen;
        break;
    }
    return 0;
}

/* ---- encoding ---- */

/* A line being built: "[#room ]" prefix, then the text, then LF. */
typedef struct {
    char buf[DIALECT_TEXT_MAX + 2 * NICK_MAX + 64];
    size_t n;
} line;

static void put(line *l, const char *s, size_t len)
{
    size_t room = sizeof l->buf - 1 - l->n; /* one byte kept for the LF */
    if (len > room)
        len = room;
    memcpy(l->buf + l->n, s, len);
    l->n += len;
}

static void puts0(line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void putf(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->buf + l->n, sizeof l->buf - 1 - l->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->n += (size_t)k < sizeof l->buf - 1 - l->n ? (size_t)k : sizeof l->buf - 1 - l->n;
}

static chunk *finish(line *l)
{
    l->buf[l->n++] = '\n';
    return chunk_new(l->buf, l->n);
}

/* A chat line of any length: prefix, nick, infix, text and LF in one
 * allocation (messages are as long as --max-line allows, beyond line). */
static chunk *join4(const char *tag, const char *prefix, const char *nick, const char *infix,
                    const char *text, size_t len)
{
    size_t lt = tag ? strlen(tag) + 1 : 0, lp = strlen(prefix), ln = strlen(nick),
           li = strlen(infix);
    size_t total = lt + lp + ln + li + len + 1;
    chunk *c = xmalloc(sizeof *c + total);
    char *p = c->data;

    c->refs = 1;
    c->len = (uint32_t)total;
    if (tag) {
        memcpy(p, tag, lt - 1);
        p[lt - 1] = ' ';
        p += lt;
    }
    memcpy(p, prefix, lp);
    p += lp;
    memcpy(p, nick, ln);
    p += ln;
    memcpy(p, infix, li);
    p += li;
    memcpy(p, text, len);
    p[len] = '\n';
    return c;
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

static const char *usage_args(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].args;
    return "";
}

/* /help's line n, or NULL past the last. */
static chunk *help_line(line *l, size_t n)
{
    size_t listed = 0;
    puts0(l, W_NOTICE);
    if (n == 0) {
        puts0(l, "commands:");
        return finish(l);
    }
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        const struct command *c = &commands[i];
        if (!c->help || ++listed != n)
            continue;
        char usage[48];
        snprintf(usage, sizeof usage, "/%s%s%s", c->name, c->args[0] ? " " : "", c->args);
        putf(l, "  %-22s %s", usage, c->help);
        return finish(l);
    }
    if (n == listed + 1)
        putf(l, "  %-22s %s", "//TEXT", "send a message that starts with /");
    else if (n == listed + 2)
        puts0(l, "anything else you type goes to your current room");
    else
        return NULL;
    return finish(l);
}

static void error_text(line *l, const chat_event *ev)
{
    switch ((enum error)ev->code) {
    case E_USAGE: putf(l, "usage: /%.*s %s", (int)ev->len, ev->text, usage_args(ev->arg)); break;
    case E_UNKNOWN:
        putf(l, "unknown command \"/%.*s\"; type /help for the list", (int)ev->len, ev->text);
        break;
    case E_NICK_INVALID:
        putf(l, "invalid nick \"%.*s\": %s", (int)ev->len, ev->text, ev->arg);
        break;
    case E_NICK_IN_USE: putf(l, "nick \"%.*s\" is in use", (int)ev->len, ev->text); break;
    case E_NO_SUCH_NICK: putf(l, "no such nick \"%.*s\"", (int)ev->len, ev->text); break;
    case E_ROOM_INVALID:
        putf(l, "invalid room name \"%.*s\": %s", (int)ev->len, ev->text, ev->arg);
        break;
    case E_NO_SUCH_ROOM: putf(l, "no such room %s; /rooms lists them", ev->room); break;
    case E_NOT_IN_ROOM: putf(l, "you are not in %s; /join %s first", ev->room, ev->room); break;
    case E_NO_ROOM: puts0(l, "you are in no room; /join #NAME to talk"); break;
    case E_TOO_MANY_JOINED:
        putf(l, "too many rooms: you are in %zu (max %zu); /part one first", ev->n, ev->n);
        break;
    case E_TOO_MANY_ROOMS:
        putf(l, "too many rooms on this server (max %zu); /rooms lists them", ev->n);
        break;
    case E_STATS_CONSOLE: puts0(l, "/stats is for the server console"); break;
    case E_NO_PASSWORD: puts0(l, "this room needs no password"); break;
    case E_ALREADY_IN: puts0(l, "you are already in"); break;
    case E_LINE_TOO_LONG: putf(l, "line too long (max %zu bytes); discarded", ev->n); break;
    case E_SLOW_DOWN:
        putf(l, "slow down: more than %zu lines a second; your lines are held back", ev->n);
        break;
    case E_FLOODING: putf(l, "flooding: held back for %zu s; disconnecting", ev->n); break;
    case E_LINE_TIMEOUT: putf(l, "line not finished within %zu s; closing", ev->n); break;
    case E_FELL_BEHIND:
        putf(l, "you fell too far behind: over %zu bytes unread; disconnecting", ev->n);
        break;
    case E_BINARY: puts0(l, "this port speaks UTF-8 text lines; closing"); break;
    case E_NOT_TLS:
        puts0(l, "this port speaks TLS: hichat connect --tls, ncat --ssl or openssl s_client");
        break;
    case E_NEED_PASSWORD: puts0(l, "this room needs a password: send /pass PASSWORD first"); break;
    case E_WRONG_PASSWORD:
        if (ev->n)
            putf(l, W_WRONG_PASSWORD "; closing after %zu tries", ev->n);
        else
            puts0(l, W_WRONG_PASSWORD);
        break;
    case E_LOCKED_OUT:
        putf(l, "too many wrong passwords from your address; locked out for %zu s", ev->n);
        break;
    case E_LOGIN_TIMEOUT: putf(l, "no password within %zu s; closing", ev->n); break;
    case E_REFUSED: putf(l, "%s; try again later", ev->arg); break;
    case E_TOPIC_TOO_LONG: putf(l, "topic too long (max %zu bytes); not set", ev->n); break;
    }
}

static void notice_text(line *l, const chat_event *ev)
{
    switch ((enum notice)ev->code) {
    case N_HI: puts0(l, W_HI); break;
    case N_BYE: puts0(l, W_BYE); break;
    case N_SHUTDOWN: puts0(l, W_SHUTDOWN); break;
    case N_YOU_ARE: putf(l, W_YOU_ARE "%s", ev->from); break;
    case N_YOU_ARE_ALREADY: putf(l, W_YOU_ARE_ALREADY "%s", ev->from); break;
    case N_WHO_MORE:
        putf(l, "... the list goes on after %s: ask again in a while", ev->from);
        break;
    case N_ROOMS_MORE: putf(l, "... and %zu more", ev->n); break;
    case N_PASSWORD:
        puts0(l, W_PASSWORD ": send /pass PASSWORD (hichat connect --password-file FILE does "
                            "it for you)");
        break;
    case N_UDP_TOKEN: putf(l, W_UDP_JOIN "%s", ev->arg); break;
    }
}

static chunk *text_encode(const chat_event *ev, int tagged)
{
    const char *tag = tagged && ev->room ? ev->room : NULL;
    line l;
    l.n = 0;

    switch (ev->kind) {
    case EV_MESSAGE: return join4(tag, "<", ev->from, "> ", ev->text, ev->len);
    case EV_ACTION: return join4(tag, W_ACTION, ev->from, " ", ev->text, ev->len);
    case EV_PRIVATE:
        if (ev->n) /* the sender's copy */
            return join4(NULL, "-> *", ev->to, "* ", ev->text, ev->len);
        return join4(NULL, "*", ev->from, "* ", ev->text, ev->len);
    default: break;
    }
    if (tag) {
        puts0(&l, tag);
        put(&l, " ", 1);
    }
    if (ev->kind == EV_HELP)
        return help_line(&l, ev->n);
    puts0(&l, ev->kind == EV_ERROR ? W_ERROR : W_NOTICE);
    switch (ev->kind) {
    case EV_JOIN: putf(&l, "%s" W_JOINED, ev->from); break;
    case EV_PART:
        if (ev->len)
            putf(&l, "%s" W_LEFT W_PART ": %.*s)", ev->from, (int)ev->len, ev->text);
        else
            putf(&l, "%s" W_LEFT W_PART ")", ev->from);
        break;
    case EV_QUIT: putf(&l, "%s" W_LEFT "%.*s)", ev->from, (int)ev->len, ev->text); break;
    case EV_NICK: putf(&l, "%s" W_RENAMED "%s", ev->from, ev->to); break;
    case EV_TOPIC:
        if (ev->len)
            putf(&l, "%s" W_SET_TOPIC "%.*s", ev->from, (int)ev->len, ev->text);
        else
            putf(&l, "%s" W_CLEARED_TOPIC, ev->from);
        break;
    case EV_WELCOME: putf(&l, W_WELCOME_FMT, ev->from, ev->n, plural(ev->n)); break;
    case EV_ENTERED:
        putf(&l, W_YOU_JOINED "%s (%zu" W_HERE "%s here)", ev->room, ev->n, plural(ev->n));
        break;
    case EV_LEFT: putf(&l, W_YOU_LEFT "%s", ev->room); break;
    case EV_CURRENT: putf(&l, W_TALKING_IN "%s", ev->room); break;
    case EV_TOPIC_IS:
        if (ev->len)
            putf(&l, W_TOPIC_OF "%s: %.*s (set by %s)", ev->room, (int)ev->len, ev->text, ev->from);
        else
            putf(&l, "%s" W_NO_TOPIC, ev->room);
        break;
    case EV_NAMES:
        putf(&l, "%zu%s", ev->n, ev->n == 1 ? W_MEMBER : W_MEMBERS);
        for (size_t i = 0; i < ev->count; i++) {
            if (i)
                puts0(&l, W_MEMBERS_SEP);
            puts0(&l, ev->names[i]);
        }
        break;
    case EV_ROOMS: putf(&l, "%zu%s", ev->n, W_ROOMS); break;
    case EV_ROOM:
        putf(&l, "%s (%zu" W_HERE "%s)", ev->room, ev->n, plural(ev->n));
        if (ev->len)
            putf(&l, ": %.*s", (int)ev->len, ev->text);
        break;
    case EV_NOTICE: notice_text(&l, ev); break;
    case EV_ERROR: error_text(&l, ev); break;
    default: break;
    }
    return finish(&l);
}

const dialect dialect_text = {
    .name = "text",
    .id = 0,
    .parse = text_parse,
    .encode = text_encode,
};

/* ---- the stream's own lines ---- */

static chunk *vline(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static chunk *vline(const char *prefix, const char *fmt, va_list ap)
{
    line l;
    l.n = 0;
    puts0(&l, prefix);
    char text[DIALECT_TEXT_MAX + 1];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    if (n < 0)
        n = 0;
    put(&l, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    return finish(&l);
}

chunk *dialect_notice(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    chunk *c = vline(W_NOTICE, fmt, ap);
    va_end(ap);
    return c;
}

chunk *dialect_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    chunk *c = vline(W_ERROR, fmt, ap);
    va_end(ap);
    return c;
}
