/* term.c - see term.h. */
#include "term.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "edit.h"
#include "text.h"
#include "util.h"

struct term {
    loop *l;
    int fd;
    out *o;
    struct termios saved;
    char prompt[64];
    edit ed; /* the line being typed, its kill buffer and history */
    unsigned char esc[8];
    size_t nesc; /* bytes of a pending escape sequence */
    term_line_fn *on_line;
    term_eof_fn *on_eof;
    void *data;
};

static void on_input(loop *l, int fd, void *data, int mask);

term *term_new(loop *l, int in_fd, out *o, const char *prompt, term_line_fn *on_line,
               term_eof_fn *on_eof, void *data)
{
    struct termios raw;

    if (!isatty(in_fd))
        return NULL;
    term *t = xcalloc(1, sizeof *t);
    if (tcgetattr(in_fd, &t->saved) < 0) {
        free(t);
        return NULL;
    }
    raw = t->saved;
    /* Keep ISIG (Ctrl-C still signals) and OPOST (LF still means CRLF). */
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
    raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(in_fd, TCSAFLUSH, &raw) < 0 || loop_watch(l, in_fd, LOOP_READ, on_input, t) < 0) {
        int e = errno;
        tcsetattr(in_fd, TCSAFLUSH, &t->saved);
        free(t);
        errno = e;
        return NULL;
    }
    t->l = l;
    t->fd = in_fd;
    t->o = o;
    t->on_line = on_line;
    t->on_eof = on_eof;
    t->data = data;
    term_set_prompt(t, prompt);
    return t;
}

static size_t columns(term *t)
{
    struct winsize ws;
    if (ioctl(t->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Redraws prompt and input; when the line is wider than the terminal, shows
 * a window of it that holds the cursor. */
static void render(term *t)
{
    char out_[TEXT_CLEAN_MAX(TERM_LINE_MAX) + 256];
    size_t cols = columns(t), pw = edit_width(t->prompt, 0, strlen(t->prompt));
    size_t avail = cols > pw + 1 ? cols - pw - 1 : 1;
    size_t from, to, col;

    edit_window(&t->ed, avail, &from, &to, &col);
    int n = snprintf(out_, sizeof out_, "\r%s", t->prompt);
    size_t o = (size_t)n;
    o += text_clean(t->ed.line + from, to - from, out_ + o);
    o += (size_t)snprintf(out_ + o, sizeof out_ - o, "\x1b[K\r");
    size_t cw = pw + col;
    if (cw > 0)
        o += (size_t)snprintf(out_ + o, sizeof out_ - o, "\x1b[%zuC", cw);
    out_write(t->o, out_, o);
}

void term_set_prompt(term *t, const char *prompt)
{
    size_t n = strlen(prompt);
    if (n >= sizeof t->prompt)
        n = sizeof t->prompt - 1;
    memcpy(t->prompt, prompt, n);
    t->prompt[n] = '\0';
    render(t);
}

void term_print(term *t, const char *text, size_t len)
{
    char clean[TEXT_CLEAN_MAX(4096) + 8];
    if (len > 4096)
        len = 4096; /* the rest would not be read on one screen line anyway */
    memcpy(clean, "\r\x1b[K", 4);
    size_t n = 4 + text_clean(text, len, clean + 4);
    clean[n++] = '\n';
    out_write(t->o, clean, n);
    render(t);
}

static void submit(term *t)
{
    char line[TERM_LINE_MAX];
    size_t n = edit_take(&t->ed, line);
    char echo[sizeof t->prompt + TEXT_CLEAN_MAX(TERM_LINE_MAX) + 8];

    /* The entered line stays on screen, as in a cooked terminal. */
    int p = snprintf(echo, sizeof echo, "\r%s", t->prompt);
    size_t e = (size_t)p + text_clean(line, n, echo + p);
    memcpy(echo + e, "\x1b[K\n", 4);
    out_write(t->o, echo, e + 4);
    render(t);
    t->on_line(t->data, line, n);
}

/* Handles a complete escape sequence in t->esc; returns 1 if it is complete
 * (handled or ignored), 0 if more bytes are needed. */
static int escape(term *t)
{
    unsigned char *e = t->esc;
    size_t n = t->nesc;
    if (n < 2)
        return 0;
    if (e[1] != '[' && e[1] != 'O') { /* Alt-key */
        edit_alt(&t->ed, e[1]);
        return 1;
    }
    if (n < 3)
        return 0;
    unsigned char last = e[n - 1];
    if (!(last >= 0x40 && last <= 0x7E))
        return n >= sizeof t->esc; /* parameters go on; give up if too long */
    /* ESC [ 1 ; 5 C and the like: Ctrl or Alt with an arrow moves by word. */
    int mod = n >= 6 && e[2] == '1' && e[3] == ';' && e[4] >= '3' && e[4] <= '8';
    switch (last) {
    case 'A': edit_history_prev(&t->ed); break;
    case 'B': edit_history_next(&t->ed); break;
    case 'C': mod ? edit_word_right(&t->ed) : edit_right(&t->ed); break;
    case 'D': mod ? edit_word_left(&t->ed) : edit_left(&t->ed); break;
    case 'H': edit_home(&t->ed); break;
    case 'F': edit_end(&t->ed); break;
    case '~':
        if (e[2] == '1' || e[2] == '7')
            edit_home(&t->ed);
        else if (e[2] == '4' || e[2] == '8')
            edit_end(&t->ed);
        else if (e[2] == '3')
            edit_delete(&t->ed);
        break;
    default: break;
    }
    return 1;
}

static void key(term *t, unsigned char c)
{
    if (t->nesc > 0) {
        t->esc[t->nesc++] = c;
        if (escape(t)) {
            t->nesc = 0;
            render(t); /* the cursor moved or the line changed */
        }
        return;
    }
    switch (c) {
    case 0x1b:
        t->esc[0] = c;
        t->nesc = 1;
        return;
    case '\r':
    case '\n': submit(t); return;
    case 0x0c: break; /* Ctrl-L: redraw */
    case 0x04:        /* Ctrl-D */
        if (t->ed.len == 0) {
            t->on_eof(t->data);
            return;
        }
        edit_delete(&t->ed);
        break;
    default:
        if (edit_ctrl(&t->ed, c))
            break;
        if (c < 0x20)
            return; /* other controls: ignored */
        edit_insert(&t->ed, (const char *)&c, 1);
        /* Draw only at character boundaries: a half-typed UTF-8 sequence
         * waits for its continuation bytes. */
        {
            uint32_t cp;
            const char *line = t->ed.line;
            size_t s = t->ed.cur;
            while (s > 0 && ((unsigned char)line[s - 1] & 0xC0) == 0x80)
                s--;
            if (s > 0 && (unsigned char)line[s - 1] >= 0xC0)
                s--;
            if (utf8_decode((const unsigned char *)line + s, t->ed.cur - s, &cp) < 0 &&
                t->ed.cur - s < 4 && (unsigned char)line[s] >= 0xC0)
                return;
        }
        break;
    }
    render(t);
}

static void on_input(loop *l, int fd, void *data, int mask)
{
    term *t = data;
    unsigned char in[512];
    (void)mask;

    ssize_t n = read(fd, in, sizeof in);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        loop_unwatch(l, fd);
        t->on_eof(t->data);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        key(t, in[i]);
        /* A callback may have freed t (term_free unwatches fd): check
         * through the loop, not through t. */
        if (loop_mask(l, fd) < 0)
            return;
    }
}

void term_free(term *t)
{
    if (!t)
        return;
    loop_unwatch(t->l, t->fd);
    out_write(t->o, "\r\x1b[K", 4);
    tcsetattr(t->fd, TCSAFLUSH, &t->saved);
    edit_free(&t->ed);
    free(t);
}
