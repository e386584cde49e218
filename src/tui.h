/* tui.h - the full-screen client: a scrolling message area, a status line
 * and an input line, drawn with ncurses (the wide-character build).
 *
 * It draws and edits; the client (client.c) owns the connection. Every line
 * shown is cleaned first (text_clean), so nothing a peer or a server sends
 * reaches the terminal raw. Each room (session.h) keeps its own lines for
 * scroll-back, up to a count and a byte budget, oldest dropped first. */
#ifndef HICHAT_TUI_H
#define HICHAT_TUI_H

#include <stddef.h>

#include "loop.h"

typedef struct tui tui;

typedef struct {
    /* A line for the server, without its LF. Returns 0 if it was queued,
     * -1 if it could not be (not connected, or the queue is full). */
    int (*send)(void *data, const char *line, size_t len);
    /* The user wants to leave: /quit (line is the command, to pass on when
     * connected), Ctrl-D on an empty line (line is NULL). */
    void (*quit)(void *data, const char *line, size_t len);
    /* /reconnect: connect again now. */
    void (*reconnect)(void *data);
    /* /stats: the client answers through tui_note. */
    void (*stats)(void *data);
    void *data;
} tui_hooks;

/* Scroll-back: at most this many lines and this many bytes of text, in each
 * room (at most SESSION_ROOMS_MAX rooms). */
#define TUI_KEEP_LINES 5000
#define TUI_KEEP_BYTES (4 * 1024 * 1024)

/* Takes over the terminal on stdin/stdout; target names the server in the
 * status line. Returns NULL with a reason in err when it cannot (no
 * terminal description for $TERM, no UTF-8 locale). */
tui *tui_new(loop *l, const char *target, const tui_hooks *h, char *err, size_t errsz);
/* A line from the server. */
void tui_line(tui *t, const char *line, size_t len);
/* A line of the client's own, styled as a notice or an error. */
enum { TUI_NOTICE, TUI_ERROR };
void tui_note(tui *t, int style, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The connection's state for the status line ("connected", "reconnecting
 * in 4 s", ...); connected says whether lines can be sent now. A new
 * connection starts the picture of the rooms afresh: one room, the
 * server's default (the one in view keeps its lines for it). */
void tui_state(tui *t, int connected, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The terminal changed size (SIGWINCH). */
void tui_resize(tui *t);
/* Hands the terminal back for a moment (a password prompt), and takes it
 * again, drawing everything afresh. */
void tui_suspend(tui *t);
void tui_resume(tui *t);
/* Gives the terminal back as it was. */
void tui_free(tui *t);

#endif
