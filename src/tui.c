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
#include "session.h"
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

static const char *const commands[] = {"/clear", "/help",  "/hello",  "/join",  "/me",
                                       "/msg",   "/nick",  "/part",   "/quit",  "/reconnect",
                                       "/rooms", "/stats", "/switch", "/topic", "/who"};

/* Key codes of our own for Alt-Left/Right where the terminal description
 * has none (tmux's "screen"): the xterm sequences are taught to ncurses. */
enum { K_ALT_LEFT = KEY_MAX + 1, K_ALT_RIGHT, K_CTRL_LEFT, K_CTRL_RIGHT };

/* One room's scroll-back (session_room.ui): a ring of entries, and where
 * the person had scrolled it to. */
typedef struct {
    entry *ring;
    size_t first, n, bytes;
    size_t rows_total, rows_width; /* rows of all entries, at this text width */
    size_t scroll;                 /* rows hidden below the bottom of the message area */
    size_t unseen;                 /* lines arrived while scrolled up */
} pane;

struct tui {
    loop *l;
    SCREEN *scr;
    tui_hooks h;
    char target[128];
    char state[96];
    int connected;
    edit ed;
    /* the rooms as the server's lines tell them, each with its pane */
    session s;
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

static entry *entry_at(const pane *p, size_t k) /* 0: oldest */
{
    return &p->ring[(p->first + k) % TUI_KEEP_LINES];
}

/* The room in view's pane. */
static pane *viewed(const tui *t)
{
    return session_viewed(&t->s)->ui;
}

/* The most rows the view may be scrolled up: the oldest row at the top. */
static size_t scroll_max(const pane *p)
{
    size_t rows = (size_t)msg_rows();
    return p->rows_total > rows ? p->rows_total - rows : 0;
}

static void clamp_scroll(pane *p)
{
    if (p->scroll > scroll_max(p))
        p->scroll = scroll_max(p);
    if (p->scroll == 0)
        p->unseen = 0;
}

/* Rows counted again if the width changed since p was last laid out (a
 * room out of view is laid out when it is next shown or added to). */
static void fit(pane *p)
{
    if (p->rows_width == text_cols())
        return;
    p->rows_width = text_cols();
    p->rows_total = 0;
    for (size_t k = 0; k < p->n; k++) {
        entry *e = entry_at(p, k);
        e->rows = count_rows(e);
        p->rows_total += e->rows;
    }
    clamp_scroll(p);
}

/* After the size changed: the view kept within what there is. */
static void relayout(tui *t)
{
    fit(viewed(t));
    clamp_scroll(viewed(t));
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
    pane *p = viewed(t);
    int bottom = msg_rows() - 1;
    fit(p); /* the view may have moved to a room laid out at another width */
    size_t skip = p->scroll;
    for (size_t k = p->n; k-- > 0 && bottom >= 0;) {
        entry *e = entry_at(p, k);
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

/* Appends to s[0..size) at *n, as far as it goes. */
static void add(char *s, size_t size, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *s, size_t size, size_t *n, const char *fmt, ...)
{
    va_list ap;
    if (*n >= size - 1)
        return;
    va_start(ap, fmt);
    int r = vsnprintf(s + *n, size - *n, fmt, ap);
    va_end(ap);
    if (r > 0)
        *n = *n + (size_t)r < size ? *n + (size_t)r : size - 1;
}

/* The rooms, "[1:#lobby] 2:#rust(3) 3:#c(1!)": the one in view in
 * brackets, the others with their unread messages (! if one names us).
 * Left out while the only room is the unnamed first one, as before rooms. */
static void status_rooms(const tui *t, char *s, size_t size, size_t *n)
{
    const session *ss = &t->s;
    if (ss->n == 1 && !ss->rooms[0]->name[0] && !ss->rooms[0]->gone)
        return;
    for (size_t i = 0; i < ss->n; i++) {
        const session_room *r = ss->rooms[i];
        const char *name = r->gone ? "(no room)" : r->name[0] ? r->name : "(lobby)";
        add(s, size, n, "%s%s%zu:%s", i ? " " : "", i == ss->view ? "[" : "", i + 1, name);
        if (i == ss->view)
            add(s, size, n, "]");
        else if (r->unread)
            add(s, size, n, "(%zu%s)", r->unread, r->mentions ? "!" : "");
    }
    add(s, size, n, " | ");
}

static void draw_status(tui *t)
{
    char s[1024];
    size_t len = 0;
    const pane *p = viewed(t);
    const session_room *r = session_viewed(&t->s);
    int y = LINES - 2;
    if (y < 0)
        return;
    add(s, sizeof s, &len, " %s | %s | ", t->target, t->s.me[0] ? t->s.me : "(no nick yet)");
    status_rooms(t, s, sizeof s, &len);
    add(s, sizeof s, &len, "%zu member%s | %s", r->count, r->count == 1 ? "" : "s", t->state);
    if (p->scroll > 0)
        add(s, sizeof s, &len, " | scrolled up%s%zu new below (PgDn)", p->unseen ? ": " : ", ",
            p->unseen);
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

static void drop_oldest(pane *p)
{
    entry *e = entry_at(p, 0);
    p->bytes -= e->len;
    p->rows_total -= e->rows;
    free(e->text);
    p->first = (p->first + 1) % TUI_KEEP_LINES;
    p->n--;
}

/* The session's questions and /switch go out as the person's lines do. */
static int send_hook(void *ctx, const char *line, size_t len)
{
    tui *t = ctx;
    return t->h.send(t->h.data, line, len);
}

static void *pane_new(void *ctx)
{
    pane *p = xcalloc(1, sizeof *p);
    (void)ctx;
    p->ring = xcalloc(TUI_KEEP_LINES, sizeof *p->ring);
    p->rows_width = text_cols();
    return p;
}

static void pane_free(void *ctx, void *ui)
{
    pane *p = ui;
    tui *t = ctx;
    while (p->n > 0)
        drop_oldest(p);
    free(p->ring);
    free(p);
    t->dirty = 1;
}

/* Keeps a line in p: cleaned, stamped, styled from li (its offsets into raw). */
static void keep(tui *t, pane *p, const char *raw, size_t len, const line_info *li, int style,
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
    fit(p);
    while (p->n > 0 && (p->n == TUI_KEEP_LINES || p->bytes + len * 3 > TUI_KEEP_BYTES))
        drop_oldest(p);
    entry *e = &p->ring[(p->first + p->n) % TUI_KEEP_LINES];
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
    p->bytes += e->len;
    p->rows_total += e->rows;
    p->n++;
    if (p->scroll > 0) { /* hold the view still while scrolled up */
        p->scroll += e->rows;
        p->unseen++;
        clamp_scroll(p); /* what was dropped above can no longer be shown */
    }
    t->dirty = 1;
}

static int is_me(const tui *t, const char *nick, size_t len)
{
    return nick_eq(t->s.me, strlen(t->s.me), nick, len);
}

void tui_line(tui *t, const char *line, size_t len)
{
    session_route rt;
    line_info li;
    const char *me = t->s.me;
    unsigned flags = 0;
    int style;

    session_line(&t->s, line, len, &rt);
    t->dirty = 1; /* the rooms or the view may have changed */
    if (rt.hide)
        return;
    pane *p = t->s.rooms[rt.room]->ui;
    line += rt.off, len -= rt.off; /* shown in its room without the tag */
    li = rt.li;
    style = li.kind;
    switch (li.kind) {
    case LINE_MSG:
    case LINE_PRIV_IN:
        flags |= F_NICK;
        if (me[0] && mentions(line + li.text, len - li.text, me, strlen(me)))
            flags |= F_MENTION;
        break;
    case LINE_PRIV_OUT:
    case LINE_JOIN:
    case LINE_LEAVE:
    case LINE_RENAME: flags |= F_NICK; break;
    case LINE_ACTION:
        style = LINE_OTHER;
        flags |= F_NICK;
        if (me[0] && !is_me(t, li.a, li.alen) &&
            mentions(line + li.text, len - li.text, me, strlen(me)))
            flags |= F_MENTION;
        break;
    default: break;
    }
    keep(t, p, line, len, &li, style, flags);
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
    keep(t, viewed(t), s, (size_t)n < sizeof s ? (size_t)n : sizeof s - 1, NULL,
         style == TUI_ERROR ? LINE_ERROR : LINE_NOTICE, 0);
}

void tui_state(tui *t, int connected, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->state, sizeof t->state, fmt, ap);
    va_end(ap);
    if (connected && !t->connected) /* a new connection: a new picture */
        session_reset(&t->s);
    t->connected = connected;
    t->dirty = 1;
}

/* Shows a line we sent, as the others see it, in the room it went to: the
 * current one, or the room of "/msg #NAME TEXT". */
static void echo_own(tui *t, const char *line, size_t len)
{
    char s[EDIT_MAX + NICK_MAX + 8];
    line_info li;
    const char *me = t->s.me[0] ? t->s.me : "me";
    pane *p = t->s.rooms[t->s.current]->ui;
    int n;
    if (len > 5 && strncasecmp(line, "/msg #", 6) == 0) {
        const char *sp = memchr(line + 5, ' ', len - 5);
        long r = sp ? session_find(&t->s, line + 5, (size_t)(sp - line) - 5) : -1;
        if (r < 0)
            return; /* not ours: the server says why */
        size_t skip = (size_t)(sp + 1 - line);
        p = t->s.rooms[r]->ui;
        line += skip, len -= skip;
    }
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
    keep(t, p, s, sl, &li, LINE_OTHER, F_NICK | F_OWN);
}

/* ---- local commands ---- */

static const char *const help_text[] = {
    "hichat full-screen client. Keys:",
    "  Enter send   Tab complete a nick or /command   PgUp/PgDn scroll back",
    "  Left/Right, Ctrl-B/F move   Alt-B/F, Ctrl-Left/Right by word   Home/End, Ctrl-A/E",
    "  Backspace, Del, Ctrl-D delete   Ctrl-U/K cut to start/end   Ctrl-W, Alt-D cut a word",
    "  Ctrl-Y paste the cut   Up/Down, Ctrl-P/N history   Ctrl-L redraw",
    "  Alt-1..9 show room 1..9   Alt-Left/Right the room before/after",
    "  Ctrl-D on an empty line, or Ctrl-C: leave",
    "Commands here: /help, /clear (empty the screen), /quit [REASON], /reconnect, /stats",
    "The server's commands:",
};

static int is_cmd(const char *line, size_t len, const char *cmd)
{
    size_t n = strlen(cmd);
    return len >= n && strncasecmp(line, cmd, n) == 0 && (len == n || line[n] == ' ');
}

static void clear_lines(tui *t, pane *p)
{
    while (p->n > 0)
        drop_oldest(p);
    p->first = 0;
    p->scroll = p->unseen = 0;
    t->dirty = 1;
}

static void submit(tui *t)
{
    char line[EDIT_MAX];
    size_t len = edit_take(&t->ed, line);

    t->dirty = 1;
    if (len == 0)
        return;
    viewed(t)->scroll = viewed(t)->unseen = 0; /* what you send, you see */
    if (is_cmd(line, len, "/help")) {
        for (size_t i = 0; i < ARRAY_LEN(help_text); i++)
            tui_note(t, TUI_NOTICE, "%s", help_text[i]);
        if (t->h.send(t->h.data, "/help", 5) < 0)
            tui_note(t, TUI_NOTICE, "  (not connected: the server can list them once back)");
        return;
    }
    if (is_cmd(line, len, "/clear")) {
        clear_lines(t, viewed(t));
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
    session_sending(&t->s, line, len); /* (a first /join: a hidden /topic ahead of it) */
    if (t->h.send(t->h.data, line, len) < 0) {
        tui_note(t, TUI_ERROR, W_ERROR "not sent (%s); Up brings the line back",
                 t->connected ? "the server is not reading" : "not connected");
        return;
    }
    if (line[0] != '/' || (len > 1 && line[1] == '/') || is_cmd(line, len, "/me") ||
        (is_cmd(line, len, "/msg") && len > 5 && line[5] == W_ROOM_PREFIX))
        echo_own(t, line, len);
}

/* Tab: the word before the cursor completed to a nick of the room in view
 * (or, first on the line and starting with /, a command; starting with #,
 * one of our rooms); Tab again, the next match. */
static void complete(tui *t)
{
    edit *e = &t->ed;
    char *const *cands;
    char *rooms[SESSION_ROOMS_MAX];
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
    } else if (t->comp_plen > 0 && t->comp_prefix[0] == W_ROOM_PREFIX) {
        n = 0;
        for (size_t i = 0; i < t->s.n; i++)
            if (t->s.rooms[i]->name[0] && !t->s.rooms[i]->gone)
                rooms[n++] = t->s.rooms[i]->name;
        cands = rooms;
    } else {
        cands = session_viewed(&t->s)->members.v;
        n = session_viewed(&t->s)->members.n;
    }
    const char *c = complete_next(cands, n, t->comp_prefix, t->comp_plen,
                                  t->completing && t->comp_last[0] ? t->comp_last : NULL);
    if (!c) {
        beep();
        return;
    }
    char word[sizeof t->comp_last + 4];
    int wl = snprintf(word, sizeof word, "%s%s", c,
                      cmd || t->comp_from > 0 || c[0] == W_ROOM_PREFIX ? " " : ": ");
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
    pane *p = viewed(t);
    size_t page = msg_rows() > 2 ? (size_t)msg_rows() - 1 : 1;
    if (up) {
        size_t max = scroll_max(p);
        p->scroll = p->scroll + page > max ? max : p->scroll + page;
    } else {
        p->scroll = p->scroll > page ? p->scroll - page : 0;
        if (p->scroll == 0)
            p->unseen = 0;
    }
}

/* Shows room i (0: the first), and has the server send what we type there. */
static void show_room(tui *t, size_t i)
{
    session_room *r;
    if (i >= t->s.n) {
        beep();
        return;
    }
    r = t->s.rooms[i];
    if (session_view(&t->s, i) < 0 && !r->name[0] && !r->gone && t->connected)
        tui_note(t, TUI_ERROR,
                 W_ERROR "the server has not named this room yet, so what you type still goes "
                         "to %s; /switch #NAME",
                 t->s.rooms[t->s.current]->name);
    t->dirty = 1;
}

/* Alt-Left/Right: the room before or after the one in view, round. */
static void step_room(tui *t, int dir)
{
    size_t n = t->s.n;
    if (n > 1)
        show_room(t, (t->s.view + n + (size_t)(dir < 0 ? n - 1 : 1)) % n);
}

static void key_code(tui *t, int k, int meta)
{
    edit *e = &t->ed;
    if (k == t->k_aleft || k == K_ALT_LEFT || (meta && k == KEY_LEFT))
        step_room(t, -1);
    else if (k == t->k_aright || k == K_ALT_RIGHT || (meta && k == KEY_RIGHT))
        step_room(t, 1);
    else if (k == t->k_cleft || k == K_CTRL_LEFT)
        edit_word_left(e);
    else if (k == t->k_cright || k == K_CTRL_RIGHT)
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
        if (c >= '1' && c <= '9')
            show_room(t, (size_t)(c - '1'));
        else if (c == '0')
            show_room(t, 9);
        else
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
            int meta = t->meta;
            t->meta = 0;
            key_code(t, (int)c, meta);
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

/* The xterm sequence seq as key code k, unless it means a key already. */
static void teach_key(const char *seq, int k)
{
    if (key_defined(seq) == 0)
        define_key(seq, k);
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
    session_hooks sh = {send_hook, pane_new, pane_free, t};
    session_init(&t->s, &sh);
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
    teach_key("\x1b[1;3D", K_ALT_LEFT);
    teach_key("\x1b[1;3C", K_ALT_RIGHT);
    teach_key("\x1b[1;5D", K_CTRL_LEFT);
    teach_key("\x1b[1;5C", K_CTRL_RIGHT);
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
    session_free(&t->s);
    edit_free(&t->ed);
    free(t);
}
