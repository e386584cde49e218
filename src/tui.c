/* tui.c - see tui.h.
 *
 * The screen is redrawn from the kept lines once per loop pass (the loop's
 * before-sleep hook), never per line, so a burst of a thousand lines costs
 * one refresh and ncurses sends only what changed.
 *
 * Widths: each code point takes the columns wcwidth gives it, as ncurses
 * places it. A zero-width joiner is not drawn: terminals disagree on whether
 * "man ZWJ woman" is one glyph or two, and a screen whose idea of the columns
 * differs from the terminal's is garbled from there on; without the joiner
 * every terminal agrees (the emoji show side by side). */
#define NCURSES_WIDECHAR 1
#include "tui.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "edit.h"
#include "roster.h"
#include "text.h"
#include "util.h"
#include "wording.h"

#define ZWJ 0x200D
/* A received line longer than this is cut (with "..." at its end). */
#define SHOW_MAX   4200
#define STAMP_COLS 6 /* "HH:MM " */
/* Narrower than this, lines go without their time. */
#define STAMP_MIN_COLS 30

enum { F_OWN = 1, F_MENTION = 2, F_NICK = 4 };

enum { /* colour pairs */
       P_ERROR = 1,
       P_PRIV,
       P_MENTION,
       P_STATUS,
       P_NICK0
};

typedef struct {
    char *text; /* cleaned: printable, TAB as a space */
    size_t len;
    size_t nick_off, nick_len; /* the span drawn in the nick's colour (F_NICK) */
    size_t body;               /* where the text after the prefix starts */
    size_t rows;               /* rows it takes at rows_width columns */
    unsigned char style;       /* a LINE_* kind, or LINE_OTHER */
    unsigned char flags;
    unsigned char colour;
    char stamp[6];
} entry;

static const char *const commands[] = {"/clear", "/help", "/hello",     "/me",    "/msg",
                                       "/nick",  "/quit", "/reconnect", "/stats", "/who"};

struct tui {
    loop *l;
    SCREEN *scr;
    tui_hooks h;
    char target[128];
    char state[96];
    int connected;
    edit ed;
    /* scroll-back: a ring of entries */
    entry *ring;
    size_t first, n, bytes;
    size_t rows_total, rows_width; /* rows of all entries, at this text width */
    size_t scroll;                 /* rows hidden below the bottom of the message area */
    size_t unseen;                 /* lines arrived while scrolled up */
    /* the room as the server's lines tell it */
    roster members;
    size_t count;
    char me[NICK_MAX + 1];
    int who_hidden;   /* our own /who on joining: its reply is taken, not shown */
    size_t who_named; /* names of it seen so far */
    /* completion: repeated Tab cycles */
    int completing;
    size_t comp_from;
    char comp_prefix[EDIT_MAX];
    size_t comp_plen;
    char comp_last[64];
    /* keys */
    int meta; /* ESC seen: the next key is Alt-key */
    int k_cleft, k_cright, k_aleft, k_aright;
    unsigned ncolours;
    int dirty;
    size_t starts[EDIT_MAX + 1]; /* input line cluster starts, for drawing */
};

/* ---- text measures ---- */

/* Columns of s[from..to) as drawn here (see the top of the file). */
static size_t cells(const char *s, size_t from, size_t to)
{
    size_t w = 0;
    uint32_t cp;
    for (size_t i = from; i < to;) {
        i += utf8_step(s, to, i, &cp);
        w += (size_t)text_width(cp);
    }
    return w;
}

/* The end of the row that starts at s[from] and has cols columns: as many
 * whole clusters as fit (at least one), or with words, after the last space
 * that fits when that fills at least half the row. */
static size_t row_end(const char *s, size_t len, size_t from, size_t cols, int words)
{
    size_t w = 0, i = from, space = 0;
    while (i < len) {
        size_t j = edit_next(s, len, i);
        size_t cw = cells(s, i, j);
        if (w + cw > cols && i > from)
            return space ? space : i;
        w += cw;
        i = j;
        if (words && s[i - 1] == ' ' && w * 2 >= cols)
            space = i;
    }
    return i;
}

/* ---- layout ---- */

static int cols_now(void)
{
    return COLS > 0 ? COLS : 1;
}

static int msg_rows(void)
{
    return LINES > 2 ? LINES - 2 : 0;
}

/* Where text starts on each row, and how many columns it has. */
static size_t text_x(void)
{
    return cols_now() >= STAMP_MIN_COLS ? STAMP_COLS : 0;
}

static size_t text_cols(void)
{
    return (size_t)cols_now() - text_x();
}

/* Rows e takes at the current width. */
static size_t count_rows(const entry *e)
{
    size_t rows = 0, i = 0, w = text_cols();
    do {
        i = row_end(e->text, e->len, i, w, 1);
        rows++;
    } while (i < e->len);
    return rows;
}

static entry *entry_at(tui *t, size_t k) /* 0: oldest */
{
    return &t->ring[(t->first + k) % TUI_KEEP_LINES];
}

/* The most rows the view may be scrolled up: the oldest row at the top. */
static size_t scroll_max(const tui *t)
{
    size_t rows = (size_t)msg_rows();
    return t->rows_total > rows ? t->rows_total - rows : 0;
}

static void clamp_scroll(tui *t)
{
    if (t->scroll > scroll_max(t))
        t->scroll = scroll_max(t);
    if (t->scroll == 0)
        t->unseen = 0;
}

/* After the size changed: rows counted again at the new width, the view
 * kept within what there is. */
static void relayout(tui *t)
{
    if (t->rows_width != text_cols()) {
        t->rows_width = text_cols();
        t->rows_total = 0;
        for (size_t k = 0; k < t->n; k++) {
            entry *e = entry_at(t, k);
            e->rows = count_rows(e);
            t->rows_total += e->rows;
        }
    }
    clamp_scroll(t);
    clearok(curscr, TRUE);
    t->dirty = 1;
}

/* ---- drawing ---- */

static attr_t nick_attr(const tui *t, unsigned colour)
{
    if (!t->ncolours)
        return A_BOLD;
    return A_BOLD | COLOR_PAIR(P_NICK0 + (int)colour);
}

static attr_t base_attr(const tui *t, const entry *e)
{
    (void)t;
    switch (e->style) {
    case LINE_ERROR: return A_BOLD | COLOR_PAIR(P_ERROR);
    case LINE_PRIV_IN: return A_BOLD | COLOR_PAIR(P_PRIV);
    case LINE_PRIV_OUT: return COLOR_PAIR(P_PRIV);
    case LINE_NOTICE:
    case LINE_WELCOME:
    case LINE_JOIN:
    case LINE_LEAVE:
    case LINE_RENAME:
    case LINE_YOU_ARE:
    case LINE_WHO: return A_DIM;
    default: return A_NORMAL;
    }
}

static attr_t attr_at(const tui *t, const entry *e, size_t i)
{
    if ((e->flags & F_NICK) && i >= e->nick_off && i < e->nick_off + e->nick_len)
        return nick_attr(t, e->colour);
    if ((e->flags & F_MENTION) && i >= e->body)
        return A_BOLD | COLOR_PAIR(P_MENTION);
    return base_attr(t, e);
}

/* Draws s[from..to) at the cursor: a kept line's attributes by byte offset,
 * or (e NULL) plain throughout. */
static void put_text(const tui *t, const entry *e, const char *s, size_t from, size_t to,
                     attr_t plain)
{
    wchar_t wc[16];
    for (size_t i = from; i < to;) {
        size_t j = edit_next(s, to, i), n = 0;
        uint32_t cp;
        attrset(e ? attr_at(t, e, i) : plain);
        for (size_t k = i; k < j;) {
            k += utf8_step(s, j, k, &cp);
            if (cp != ZWJ && n < ARRAY_LEN(wc) - 1)
                wc[n++] = (wchar_t)cp;
        }
        if (n > 0)
            addnwstr(wc, (int)n);
        i = j;
    }
    attrset(A_NORMAL);
}

/* Draws rows [skip, skip + count) of e from screen row y down. */
static void draw_entry(tui *t, const entry *e, int y, size_t skip, size_t count)
{
    size_t i = 0, row = 0, w = text_cols(), x = text_x();
    while (row < skip + count) {
        size_t end = row_end(e->text, e->len, i, w, 1);
        if (row >= skip) {
            move(y, 0);
            if (x && row == 0) {
                attrset(A_DIM);
                addnstr(e->stamp, 5);
                attrset(A_NORMAL);
            }
            move(y, (int)x);
            put_text(t, e, e->text, i, end, A_NORMAL);
            y++;
        }
        row++;
        i = end;
        if (i >= e->len)
            break;
    }
}

static void draw_messages(tui *t)
{
    int bottom = msg_rows() - 1;
    size_t skip = t->scroll;
    for (size_t k = t->n; k-- > 0 && bottom >= 0;) {
        entry *e = entry_at(t, k);
        size_t r = e->rows;
        if (skip >= r) {
            skip -= r;
            continue;
        }
        size_t shown = r - skip; /* the entry's first `shown` rows */
        int top = bottom - (int)shown + 1;
        size_t from = top < 0 ? (size_t)-top : 0;
        draw_entry(t, e, top + (int)from, from, shown - from);
        bottom = top - 1;
        skip = 0;
    }
}

static void draw_status(tui *t)
{
    char s[512];
    int y = LINES - 2;
    if (y < 0)
        return;
    int n =
        snprintf(s, sizeof s, " %s | %s | %zu member%s | %s", t->target,
                 t->me[0] ? t->me : "(no nick yet)", t->count, t->count == 1 ? "" : "s", t->state);
    if (t->scroll > 0 && (size_t)n < sizeof s)
        n += snprintf(s + n, sizeof s - (size_t)n, " | scrolled up%s%zu new below (PgDn)",
                      t->unseen ? ": " : ", ", t->unseen);
    size_t len = (size_t)n < sizeof s ? (size_t)n : sizeof s - 1;
    char clean[TEXT_CLEAN_MAX(sizeof s)];
    len = text_clean(s, len, clean);
    attr_t a = t->ncolours ? COLOR_PAIR(P_STATUS) : A_REVERSE;
    size_t end = row_end(clean, len, 0, (size_t)cols_now(), 0);
    move(y, 0);
    put_text(t, NULL, clean, 0, end, a);
    attrset(a);
    for (size_t c = cells(clean, 0, end); c < (size_t)cols_now(); c++)
        addch(' ');
    attrset(A_NORMAL);
}

/* The input line: "> " and as much of the line as fits, the cursor shown. */
static void draw_input(tui *t)
{
    const char *prompt = "> ";
    size_t pw = 2, cols = (size_t)cols_now();
    size_t avail = cols > pw + 1 ? cols - pw - 1 : 1;
    const edit *e = &t->ed;
    size_t ns = 0, ci = 0;

    for (size_t i = 0;; i = edit_next(e->line, e->len, i)) {
        if (i == e->cur)
            ci = ns;
        t->starts[ns++] = i;
        if (i >= e->len)
            break;
    }
    /* the first cluster to draw: as many as fit before the cursor */
    size_t from = ci, w = 0;
    while (from > 0) {
        size_t cw = cells(e->line, t->starts[from - 1], t->starts[from]);
        if (w + cw > avail - 1 && avail > 1)
            break;
        w += cw;
        from--;
    }
    size_t to = row_end(e->line, e->len, t->starts[from], avail, 0);
    int y = LINES - 1;
    move(y, 0);
    addstr(prompt);
    put_text(t, NULL, e->line, t->starts[from], to, A_NORMAL);
    clrtoeol();
    move(y, (int)(pw + cells(e->line, t->starts[from], e->cur)));
}

static void redraw(tui *t)
{
    erase();
    draw_messages(t);
    draw_status(t);
    draw_input(t);
    refresh();
    t->dirty = 0;
}

static void before_sleep(loop *l, void *data)
{
    tui *t = data;
    (void)l;
    if (t->dirty)
        redraw(t);
}

/* ---- the kept lines ---- */

static void drop_oldest(tui *t)
{
    entry *e = entry_at(t, 0);
    t->bytes -= e->len;
    t->rows_total -= e->rows;
    free(e->text);
    t->first = (t->first + 1) % TUI_KEEP_LINES;
    t->n--;
}

/* Keeps a line: cleaned, stamped, styled from li (its offsets into raw). */
static void keep(tui *t, const char *raw, size_t len, const line_info *li, int style,
                 unsigned flags)
{
    char cut[SHOW_MAX + 4];
    /* Offsets into raw, taken before raw may become the cut copy. */
    size_t nick_off = li && li->alen ? (size_t)(li->a - raw) : 0;
    if (len > SHOW_MAX) {
        memcpy(cut, raw, SHOW_MAX);
        memcpy(cut + SHOW_MAX, "...", 3);
        raw = cut;
        len = SHOW_MAX + 3;
    }
    while (t->n > 0 && (t->n == TUI_KEEP_LINES || t->bytes + len * 3 > TUI_KEEP_BYTES))
        drop_oldest(t);
    entry *e = &t->ring[(t->first + t->n) % TUI_KEEP_LINES];
    memset(e, 0, sizeof *e);
    e->text = xmalloc(TEXT_CLEAN_MAX(len) + 1);
    e->len = text_clean(raw, len, e->text);
    for (size_t i = 0; i < e->len; i++)
        if (e->text[i] == '\t')
            e->text[i] = ' ';
    e->style = (unsigned char)style;
    e->flags = (unsigned char)flags;
    /* Nicks are valid nicks (no controls), and what comes before them is
     * ASCII, so their offsets hold in the cleaned text too. */
    if (li && li->alen && (flags & F_NICK) && nick_off + li->alen <= e->len) {
        e->nick_off = nick_off;
        e->nick_len = li->alen;
        e->colour = (unsigned char)nick_colour(li->a, li->alen, t->ncolours);
    }
    e->body = li ? li->text : 0;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    snprintf(e->stamp, sizeof e->stamp, "%02u:%02u", (unsigned)tm.tm_hour % 24u,
             (unsigned)tm.tm_min % 60u);
    e->rows = count_rows(e);
    t->bytes += e->len;
    t->rows_total += e->rows;
    t->n++;
    if (t->scroll > 0) { /* hold the view still while scrolled up */
        t->scroll += e->rows;
        t->unseen++;
        clamp_scroll(t); /* what was dropped above can no longer be shown */
    }
    t->dirty = 1;
}

static void set_me(tui *t, const char *nick, size_t len)
{
    len = len < NICK_MAX ? len : NICK_MAX;
    memcpy(t->me, nick, len);
    t->me[len] = '\0';
}

static int is_me(const tui *t, const char *nick, size_t len)
{
    return nick_eq(t->me, strlen(t->me), nick, len);
}

/* Updates the picture of the room from one line; returns 1 if the line is
 * the reply to our hidden /who, not to be shown. */
static int track(tui *t, const line_info *li)
{
    switch (li->kind) {
    case LINE_WELCOME:
        set_me(t, li->a, li->alen);
        t->count = li->count;
        roster_clear(&t->members);
        roster_add(&t->members, li->a, li->alen);
        if (t->h.send(t->h.data, "/who", 4) == 0) {
            t->who_hidden = 1;
            t->who_named = 0;
        }
        return 0;
    case LINE_JOIN:
        if (roster_add(&t->members, li->a, li->alen))
            t->count++;
        return 0;
    case LINE_LEAVE:
        if (roster_remove(&t->members, li->a, li->alen) && t->count > 0)
            t->count--;
        return 0;
    case LINE_RENAME:
        roster_remove(&t->members, li->a, li->alen);
        roster_add(&t->members, li->b, li->blen);
        if (is_me(t, li->a, li->alen))
            set_me(t, li->b, li->blen);
        return 0;
    case LINE_WHO:
        t->count = li->count;
        if (!t->who_hidden) {
            roster_add_list(&t->members, li->a, li->alen);
            return 0;
        }
        t->who_named += roster_add_list(&t->members, li->a, li->alen);
        if (t->who_named >= li->count)
            t->who_hidden = 0;
        return 1;
    case LINE_MSG:
    case LINE_ACTION:
    case LINE_PRIV_IN: roster_add(&t->members, li->a, li->alen); return 0;
    default: return 0;
    }
}

void tui_line(tui *t, const char *line, size_t len)
{
    line_info li;
    unsigned flags = 0;
    int style;

    line_parse(line, len, &li);
    if (t->who_hidden && li.kind != LINE_WHO && t->who_named > 0)
        t->who_hidden = 0; /* the reply ended early: show what follows */
    if (track(t, &li))
        return;
    style = li.kind;
    switch (li.kind) {
    case LINE_MSG:
    case LINE_PRIV_IN:
        flags |= F_NICK;
        if (t->me[0] && mentions(line + li.text, len - li.text, t->me, strlen(t->me)))
            flags |= F_MENTION;
        break;
    case LINE_PRIV_OUT:
    case LINE_JOIN:
    case LINE_LEAVE:
    case LINE_RENAME: flags |= F_NICK; break;
    case LINE_ACTION:
        style = LINE_OTHER;
        flags |= F_NICK;
        if (t->me[0] && !is_me(t, li.a, li.alen) &&
            mentions(line + li.text, len - li.text, t->me, strlen(t->me)))
            flags |= F_MENTION;
        break;
    default: break;
    }
    keep(t, line, len, &li, style, flags);
}

void tui_note(tui *t, int style, const char *fmt, ...)
{
    char s[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    keep(t, s, (size_t)n < sizeof s ? (size_t)n : sizeof s - 1, NULL,
         style == TUI_ERROR ? LINE_ERROR : LINE_NOTICE, 0);
}

void tui_state(tui *t, int connected, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->state, sizeof t->state, fmt, ap);
    va_end(ap);
    if (connected && !t->connected) { /* a new connection: a new picture */
        roster_clear(&t->members);
        t->count = 0;
        t->who_hidden = 0;
    }
    t->connected = connected;
    t->dirty = 1;
}

/* Shows a line we sent, as the others see it. */
static void echo_own(tui *t, const char *line, size_t len)
{
    char s[EDIT_MAX + NICK_MAX + 8];
    line_info li;
    const char *me = t->me[0] ? t->me : "me";
    int n;
    if (len >= 4 && strncasecmp(line, "/me ", 4) == 0)
        n = snprintf(s, sizeof s, W_ACTION "%s %.*s", me, (int)(len - 4), line + 4);
    else if (len >= 2 && line[0] == '/' && line[1] == '/')
        n = snprintf(s, sizeof s, "<%s> %.*s", me, (int)(len - 1), line + 1);
    else
        n = snprintf(s, sizeof s, "<%s> %.*s", me, (int)len, line);
    if (n < 0)
        return;
    size_t sl = (size_t)n < sizeof s ? (size_t)n : sizeof s - 1;
    memset(&li, 0, sizeof li);
    li.a = s + (s[0] == '<' ? 1 : sizeof W_ACTION - 1);
    li.alen = strlen(me);
    li.text = (size_t)(li.a - s) + li.alen + (s[0] == '<' ? 2 : 1);
    keep(t, s, sl, &li, LINE_OTHER, F_NICK | F_OWN);
}

/* ---- local commands ---- */

static const char *const help_text[] = {
    "hichat full-screen client. Keys:",
    "  Enter send   Tab complete a nick or /command   PgUp/PgDn scroll back",
    "  Left/Right, Ctrl-B/F move   Alt-B/F, Ctrl-Left/Right by word   Home/End, Ctrl-A/E",
    "  Backspace, Del, Ctrl-D delete   Ctrl-U/K cut to start/end   Ctrl-W, Alt-D cut a word",
    "  Ctrl-Y paste the cut   Up/Down, Ctrl-P/N history   Ctrl-L redraw",
    "  Ctrl-D on an empty line, or Ctrl-C: leave",
    "Commands here: /help, /clear (empty the screen), /quit [REASON], /reconnect, /stats",
    "The server's commands:",
};

static int is_cmd(const char *line, size_t len, const char *cmd)
{
    size_t n = strlen(cmd);
    return len >= n && strncasecmp(line, cmd, n) == 0 && (len == n || line[n] == ' ');
}

static void clear_lines(tui *t)
{
    while (t->n > 0)
        drop_oldest(t);
    t->first = 0;
    t->scroll = t->unseen = 0;
    t->dirty = 1;
}

static void submit(tui *t)
{
    char line[EDIT_MAX];
    size_t len = edit_take(&t->ed, line);

    t->dirty = 1;
    if (len == 0)
        return;
    t->scroll = t->unseen = 0; /* what you send, you see */
    if (is_cmd(line, len, "/help")) {
        for (size_t i = 0; i < ARRAY_LEN(help_text); i++)
            tui_note(t, TUI_NOTICE, "%s", help_text[i]);
        if (t->h.send(t->h.data, "/help", 5) < 0)
            tui_note(t, TUI_NOTICE, "  (not connected: the server can list them once back)");
        return;
    }
    if (is_cmd(line, len, "/clear")) {
        clear_lines(t);
        return;
    }
    if (is_cmd(line, len, "/quit")) {
        t->h.quit(t->h.data, line, len);
        return;
    }
    if (is_cmd(line, len, "/reconnect")) {
        t->h.reconnect(t->h.data);
        return;
    }
    if (is_cmd(line, len, "/stats")) {
        t->h.stats(t->h.data);
        return;
    }
    if (t->h.send(t->h.data, line, len) < 0) {
        tui_note(t, TUI_ERROR, W_ERROR "not sent (%s); Up brings the line back",
                 t->connected ? "the server is not reading" : "not connected");
        return;
    }
    if (line[0] != '/' || (len > 1 && line[1] == '/') || is_cmd(line, len, "/me"))
        echo_own(t, line, len);
}

/* Tab: the word before the cursor completed to a nick (or, first on the
 * line and starting with /, a command); Tab again, the next match. */
static void complete(tui *t)
{
    edit *e = &t->ed;
    char *const *cands;
    size_t n;

    if (!t->completing) {
        size_t from = e->cur;
        while (from > 0 && e->line[from - 1] != ' ')
            from--;
        t->comp_from = from;
        t->comp_plen = e->cur - from;
        memcpy(t->comp_prefix, e->line + from, t->comp_plen);
        t->comp_last[0] = '\0';
    }
    int cmd = t->comp_from == 0 && t->comp_plen > 0 && t->comp_prefix[0] == '/';
    if (cmd) {
        cands = (char *const *)commands;
        n = ARRAY_LEN(commands);
    } else {
        cands = t->members.v;
        n = t->members.n;
    }
    const char *c = complete_next(cands, n, t->comp_prefix, t->comp_plen,
                                  t->completing && t->comp_last[0] ? t->comp_last : NULL);
    if (!c) {
        beep();
        return;
    }
    char word[sizeof t->comp_last + 4];
    int wl = snprintf(word, sizeof word, "%s%s", c, cmd || t->comp_from > 0 ? " " : ": ");
    if (edit_replace(e, t->comp_from, word, (size_t)wl) < 0) {
        beep();
        return;
    }
    snprintf(t->comp_last, sizeof t->comp_last, "%s", c);
    t->completing = 1;
}

/* ---- keys ---- */

static void scroll_page(tui *t, int up)
{
    size_t page = msg_rows() > 2 ? (size_t)msg_rows() - 1 : 1;
    if (up) {
        size_t max = scroll_max(t);
        t->scroll = t->scroll + page > max ? max : t->scroll + page;
    } else {
        t->scroll = t->scroll > page ? t->scroll - page : 0;
        if (t->scroll == 0)
            t->unseen = 0;
    }
}

static void key_code(tui *t, int k)
{
    edit *e = &t->ed;
    if (k == t->k_cleft || k == t->k_aleft)
        edit_word_left(e);
    else if (k == t->k_cright || k == t->k_aright)
        edit_word_right(e);
    else
        switch (k) {
        case KEY_LEFT: edit_left(e); break;
        case KEY_RIGHT: edit_right(e); break;
        case KEY_UP: edit_history_prev(e); break;
        case KEY_DOWN: edit_history_next(e); break;
        case KEY_HOME: edit_home(e); break;
        case KEY_END: edit_end(e); break;
        case KEY_DC: edit_delete(e); break;
        case KEY_BACKSPACE: edit_backspace(e); break;
        case KEY_ENTER: submit(t); break;
        case KEY_PPAGE: scroll_page(t, 1); break;
        case KEY_NPAGE: scroll_page(t, 0); break;
        case KEY_RESIZE: relayout(t); break; /* resizeterm queued it: not again */
        default: break;
        }
}

/* Inserts a typed character in the form the room will see it (cleaned), so
 * the line shown is the line sent. */
static void insert_char(tui *t, wint_t c)
{
    char u[8], clean[TEXT_CLEAN_MAX(8)];
    mbstate_t ps;
    memset(&ps, 0, sizeof ps);
    size_t n = wcrtomb(u, (wchar_t)c, &ps);
    if (n == (size_t)-1)
        return;
    edit_insert(&t->ed, clean, text_clean(u, n, clean));
}

static void key_char(tui *t, wint_t c)
{
    edit *e = &t->ed;
    if (t->meta) {
        t->meta = 0;
        edit_alt(e, (int)c);
        return;
    }
    switch (c) {
    case 0x1b: t->meta = 1; break;
    case '\r':
    case '\n': submit(t); break;
    case '\t': complete(t); break;
    case 0x0c: clearok(curscr, TRUE); break;
    case 0x04:
        if (e->len == 0)
            t->h.quit(t->h.data, NULL, 0);
        else
            edit_delete(e);
        break;
    default:
        if (!edit_ctrl(e, (int)c) && c >= 0x20)
            insert_char(t, c);
        break;
    }
}

/* Ready, yet no key: the terminal is gone (a hang-up, or nothing left to
 * read at all), not a key still on its way. */
static int hung_up(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int avail = 0;
    if (poll(&p, 1, 0) < 0)
        return 0;
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
        return 1;
    return (p.revents & POLLIN) && ioctl(fd, FIONREAD, &avail) == 0 && avail == 0;
}

static void on_input(loop *l, int fd, void *data, int mask)
{
    tui *t = data;
    wint_t c;
    (void)mask;

    for (int keys = 0;; keys++) {
        int r = get_wch(&c);
        if (r == ERR) {
            if (keys == 0 && hung_up(fd)) {
                loop_unwatch(l, fd);
                t->h.quit(t->h.data, NULL, 0);
            }
            break;
        }
        if (!(r == KEY_CODE_YES && (int)c == KEY_RESIZE) && !(r == OK && c == '\t'))
            t->completing = 0;
        t->dirty = 1;
        if (r == KEY_CODE_YES) {
            t->meta = 0;
            key_code(t, (int)c);
        } else {
            key_char(t, c);
        }
    }
}

/* ---- set-up ---- */

static int key_for(const char *cap)
{
    char *s = tigetstr(cap);
    if (!s || s == (char *)-1)
        return -1;
    int k = key_defined(s);
    return k > 0 ? k : -1;
}

static void colours(tui *t)
{
    if (!has_colors() || start_color() == ERR)
        return;
    use_default_colors();
    init_pair(P_ERROR, COLOR_RED, -1);
    init_pair(P_PRIV, COLOR_MAGENTA, -1);
    init_pair(P_MENTION, COLOR_BLACK, COLOR_YELLOW);
    init_pair(P_STATUS, COLOR_WHITE, COLOR_BLUE);
    /* Nick colours: the readable ones, bright ones too where there are. */
    static const short base[] = {COLOR_RED,  COLOR_GREEN,   COLOR_YELLOW,
                                 COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN};
    t->ncolours = COLORS >= 16 && COLOR_PAIRS > P_NICK0 + 12 ? 12 : 6;
    for (unsigned i = 0; i < t->ncolours; i++)
        init_pair((short)(P_NICK0 + (int)i), (short)(base[i % 6] + (i >= 6 ? 8 : 0)), -1);
}

tui *tui_new(loop *l, const char *target, const tui_hooks *h, char *err, size_t errsz)
{
    if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0 && !setlocale(LC_CTYPE, "C.UTF-8")) {
        snprintf(err, errsz, "no UTF-8 locale (set LANG, e.g. LANG=C.UTF-8)");
        return NULL;
    }
    const char *term = getenv("TERM");
    if (!term || !*term || strcmp(term, "dumb") == 0) {
        snprintf(err, errsz, "TERM is %s", term && *term ? "dumb" : "not set");
        return NULL;
    }
    /* Looked up first: a newterm that fails leaks what it set up. */
    int found = 0;
    if (setupterm(term, STDOUT_FILENO, &found) != OK || found != 1) {
        snprintf(err, errsz, "no terminal description for TERM=%s", term);
        return NULL;
    }
    del_curterm(cur_term);
    tui *t = xcalloc(1, sizeof *t);
    t->scr = newterm(NULL, stdout, stdin);
    if (!t->scr) {
        snprintf(err, errsz, "cannot start the screen for TERM=%s", term);
        free(t);
        return NULL;
    }
    t->l = l;
    t->h = *h;
    snprintf(t->target, sizeof t->target, "%s", target);
    t->ring = xcalloc(TUI_KEEP_LINES, sizeof *t->ring);
    t->rows_width = text_cols();
    roster_init(&t->members);
    edit_init(&t->ed);

    set_escdelay(25);
    cbreak(); /* Ctrl-C and Ctrl-Z still signal */
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    /* Ctrl-S would freeze the screen: no flow control. */
    struct termios tio;
    if (tcgetattr(STDIN_FILENO, &tio) == 0) {
        tio.c_iflag &= ~(tcflag_t)IXON;
        tcsetattr(STDIN_FILENO, TCSANOW, &tio);
        def_prog_mode();
    }
    colours(t);
    t->k_cleft = key_for("kLFT5");
    t->k_cright = key_for("kRIT5");
    t->k_aleft = key_for("kLFT3");
    t->k_aright = key_for("kRIT3");
    snprintf(t->state, sizeof t->state, "connecting");
    loop_watch(l, STDIN_FILENO, LOOP_READ, on_input, t);
    loop_before_sleep_add(l, before_sleep, t); /* (the client's only one) */
    t->dirty = 1;
    return t;
}

void tui_resize(tui *t)
{
    struct winsize ws;
    /* resizeterm also queues KEY_RESIZE, which only lays out again. */
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    relayout(t);
}

void tui_suspend(tui *t)
{
    (void)t;
    def_prog_mode();
    endwin();
}

void tui_resume(tui *t)
{
    reset_prog_mode();
    clearok(curscr, TRUE);
    redraw(t);
}

void tui_free(tui *t)
{
    if (!t)
        return;
    loop_unwatch(t->l, STDIN_FILENO);
    loop_before_sleep_remove(t->l, before_sleep, t);
    endwin();
    delscreen(t->scr);
    clear_lines(t);
    free(t->ring);
    roster_clear(&t->members);
    edit_free(&t->ed);
    free(t);
}
