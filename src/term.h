/* term.h - the interactive line: raw-mode terminal input with editing, and
 * printing above it without disturbing what is being typed.
 *
 * Used by the client and by the server's console when stdin is a terminal.
 * Every line printed is cleaned first (text_clean), so a peer's escape
 * sequences show as ^[ and never reach the terminal raw. */
#ifndef HICHAT_TERM_H
#define HICHAT_TERM_H

#include <stddef.h>

#include "edit.h"
#include "loop.h"
#include "out.h"

typedef struct term term;

/* Called with each line the user enters (without its ending). */
typedef void term_line_fn(void *data, const char *line, size_t len);
/* Called on Ctrl-D at an empty line, or when the terminal goes away. */
typedef void term_eof_fn(void *data);

/* Longest input line, in bytes. */
#define TERM_LINE_MAX EDIT_MAX

/* Puts in_fd (a terminal) in raw mode and edits lines on it, drawing through
 * o. Returns NULL with errno if in_fd is not a terminal. */
term *term_new(loop *l, int in_fd, out *o, const char *prompt, term_line_fn *on_line,
               term_eof_fn *on_eof, void *data);
/* Prints text[0..len) as one line above the input line, then redraws it. */
void term_print(term *t, const char *text, size_t len);
void term_set_prompt(term *t, const char *prompt);
/* Clears the input line, restores the terminal's mode and frees t. */
void term_free(term *t);

#endif
