/* edit.h - the input line as data: UTF-8 text, a cursor, a kill buffer and
 * history, with the editing operations of readline's emacs mode. Pure: no
 * terminal, no I/O, so every key's effect is unit-tested; the terminal line
 * (term.c) draws it.
 *
 * The cursor moves by character clusters, not bytes: a character with the
 * zero-width marks after it (combining accents, variation selectors) and
 * emoji joined by U+200D are one step, one deletion, and take the columns
 * text_width gives them. */
#ifndef HICHAT_EDIT_H
#define HICHAT_EDIT_H

#include <stddef.h>

/* Longest line, in bytes. */
#define EDIT_MAX 4096
/* Lines kept in the history. */
#define EDIT_HISTORY 200

typedef struct {
    char line[EDIT_MAX];
    size_t len, cur;          /* bytes, and the cursor's byte offset */
    char *hist[EDIT_HISTORY]; /* oldest first; owned */
    size_t nhist;
    size_t hpos; /* the entry shown, nhist for the line being written */
    char *draft; /* the line being written, kept while browsing; owned */
    char kill[EDIT_MAX];
    size_t killlen; /* the last text cut, for yank */
} edit;

void edit_init(edit *e);
void edit_free(edit *e);

/* Inserts s[0..n) at the cursor; returns -1 (and changes nothing) if the
 * line would pass EDIT_MAX. */
int edit_insert(edit *e, const char *s, size_t n);
/* Replaces [from, cursor) with s[0..n), the cursor after it (completion);
 * -1 and no change if from is past the cursor or the line would overflow. */
int edit_replace(edit *e, size_t from, const char *s, size_t n);
void edit_left(edit *e);
void edit_right(edit *e);
void edit_home(edit *e);
void edit_end(edit *e);
/* Word movement: a word is a run of anything but spaces. */
void edit_word_left(edit *e);
void edit_word_right(edit *e);
void edit_backspace(edit *e);
void edit_delete(edit *e);
/* Cuts into the kill buffer: to the start (Ctrl-U), to the end (Ctrl-K), the
 * word before the cursor (Ctrl-W), the word after it (Alt-D). */
void edit_kill_start(edit *e);
void edit_kill_end(edit *e);
void edit_kill_word_left(edit *e);
void edit_kill_word_right(edit *e);
/* Pastes the kill buffer at the cursor (Ctrl-Y). */
void edit_yank(edit *e);
/* History: the previous or next entry replaces the line, cursor at its end;
 * going past the newest brings back what was being written. */
void edit_history_prev(edit *e);
void edit_history_next(edit *e);
/* The keys of readline's emacs mode, for both terminal front ends:
 * edit_ctrl applies a control byte (Ctrl-A/E home/end, B/F left/right,
 * P/N history, U/K cut to start/end, W cut the word before, Y yank;
 * Backspace as DEL or ^H), edit_alt the key after ESC (b/f a word back or
 * forward, d cut the word after, Backspace cut the word before). Each
 * returns 1 if the key was one of its own, else 0 and changes nothing. */
int edit_ctrl(edit *e, int c);
int edit_alt(edit *e, int c);
/* Takes the line: copies it to out (EDIT_MAX bytes), returns its length,
 * adds it to the history (unless empty or the same as the newest entry) and
 * starts a new, empty line. */
size_t edit_take(edit *e, char *out);

/* Byte offsets of the cluster boundaries around i in s[0..len). */
size_t edit_prev(const char *s, size_t len, size_t i);
size_t edit_next(const char *s, size_t len, size_t i);
/* Terminal columns of s[from..to) (an invalid byte counts one). */
size_t edit_width(const char *s, size_t from, size_t to);
/* The part of the line to draw in avail columns so that the cursor shows:
 * bytes [*from, *to) and the cursor's column within them. */
void edit_window(const edit *e, size_t avail, size_t *from, size_t *to, size_t *col);

#endif
