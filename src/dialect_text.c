/* dialect_text.c - the text dialect's encoders; see dialect.h. */
#include "dialect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* prefix + nick + infix + text + LF, built in one allocation. */
static chunk *join3(const char *prefix, const char *nick, const char *infix, const char *text,
                    size_t len)
{
    size_t lp = strlen(prefix), ln = strlen(nick), li = strlen(infix);
    size_t total = lp + ln + li + len + 1;
    chunk *c = xmalloc(sizeof *c + total);
    char *p = c->data;

    c->refs = 1;
    c->len = (uint32_t)total;
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

chunk *dialect_message(const char *nick, const char *text, size_t len)
{
    return join3("<", nick, "> ", text, len);
}

chunk *dialect_action(const char *nick, const char *text, size_t len)
{
    return join3(W_ACTION, nick, " ", text, len);
}

chunk *dialect_private(const char *from, const char *text, size_t len)
{
    return join3("*", from, "* ", text, len);
}

chunk *dialect_private_echo(const char *to, const char *text, size_t len)
{
    return join3("-> *", to, "* ", text, len);
}

static chunk *vline(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static chunk *vline(const char *prefix, const char *fmt, va_list ap)
{
    char line[DIALECT_TEXT_MAX + 1];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    return join3(prefix, "", "", line, (size_t)n);
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

chunk *dialect_welcome(const char *nick, size_t members)
{
    return dialect_notice(W_WELCOME_FMT, nick, members, members == 1 ? "" : "s");
}

chunk *dialect_joined(const char *nick)
{
    return dialect_notice("%s" W_JOINED, nick);
}

chunk *dialect_left(const char *nick, const char *why)
{
    return dialect_notice("%s" W_LEFT "%s)", nick, why);
}

chunk *dialect_renamed(const char *old, const char *nick)
{
    return dialect_notice("%s" W_RENAMED "%s", old, nick);
}
