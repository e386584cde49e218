/* edit: the input line's keys, by clusters not bytes (CJK, combining marks,
 * emoji with joiners), the kill buffer, history, and the visible window. */
#include <locale.h>
#include <string.h>

#include "check.h"
#include "edit.h"

static edit E;

static void set(const char *s, size_t cur)
{
    edit_free(&E);
    edit_insert(&E, s, strlen(s));
    E.cur = cur;
}

static int is(const char *s, size_t cur)
{
    return E.len == strlen(s) && memcmp(E.line, s, E.len) == 0 && E.cur == cur;
}

#define NI      "\xe4\xbd\xa0" /* 你: 3 bytes, 2 columns */
#define HAO     "\xe5\xa5\xbd" /* 好 */
#define E_ACUTE "e\xcc\x81"    /* e + combining acute: 3 bytes, 1 column */
#define FAMILY  "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9" /* man ZWJ woman: 11 bytes */

void test_edit(void)
{
    char out[EDIT_MAX];
    const char *loc = setlocale(LC_CTYPE, "C.UTF-8");
    CHECKF(loc != NULL, "a UTF-8 locale for wcwidth");
    edit_init(&E);

    /* typing and moving over CJK */
    set(NI HAO, 6);
    edit_left(&E);
    CHECK(is(NI HAO, 3));
    edit_left(&E);
    edit_left(&E);
    CHECK(is(NI HAO, 0));
    edit_right(&E);
    CHECK(is(NI HAO, 3));
    edit_backspace(&E);
    CHECK(is(HAO, 0));
    edit_delete(&E);
    CHECK(is("", 0));
    edit_backspace(&E);
    edit_delete(&E);
    CHECK(is("", 0));

    /* a combining mark and an emoji sequence are one step each */
    set("a" E_ACUTE FAMILY "b", 0);
    edit_right(&E);
    edit_right(&E);
    CHECK(E.cur == 4);
    edit_right(&E);
    CHECK(E.cur == 15);
    edit_backspace(&E);
    CHECK(is("a" E_ACUTE "b", 4));
    edit_backspace(&E);
    CHECK(is("ab", 1));
    CHECK(edit_width(NI HAO, 0, 6) == 4);
    CHECK(edit_width(E_ACUTE, 0, 3) == 1);
    CHECK(edit_width(FAMILY, 0, 11) == 2);
    CHECK(edit_width("a\xff"
                     "b",
                     0, 3) == 3); /* an invalid byte: one column */
    CHECK(edit_prev("a\xff"
                    "b",
                    3, 2) == 1 &&
          edit_next("a\xff"
                    "b",
                    3, 1) == 2);

    /* home, end, words */
    set("one two  three", 5);
    edit_home(&E);
    CHECK(E.cur == 0);
    edit_end(&E);
    CHECK(E.cur == 14);
    edit_word_left(&E);
    CHECK(E.cur == 9);
    edit_word_left(&E);
    CHECK(E.cur == 4);
    edit_word_right(&E);
    CHECK(E.cur == 7);
    edit_word_right(&E);
    CHECK(E.cur == 14);

    /* kills and yank: Ctrl-W, Ctrl-U, Ctrl-K, Alt-D, Ctrl-Y */
    set("one two three", 7);
    edit_kill_word_left(&E);
    CHECK(is("one  three", 4));
    edit_yank(&E);
    CHECK(is("one two three", 7));
    edit_kill_start(&E);
    CHECK(is(" three", 0));
    edit_end(&E);
    edit_yank(&E);
    CHECK(is(" threeone two", 13));
    E.cur = 1;
    edit_kill_end(&E);
    CHECK(is(" ", 1));
    set("say hello there", 3);
    edit_kill_word_right(&E);
    CHECK(is("say there", 3));
    CHECK(E.killlen == 6 && memcmp(E.kill, " hello", 6) == 0);

    /* the line's limit: an insert that does not fit changes nothing */
    set("", 0);
    static char big[EDIT_MAX];
    memset(big, 'x', sizeof big);
    CHECK(edit_insert(&E, big, EDIT_MAX) == 0 && E.len == EDIT_MAX);
    CHECK(edit_insert(&E, "y", 1) == -1 && E.len == EDIT_MAX);

    /* history: up, down, the draft comes back, duplicates and empties skipped */
    edit_free(&E);
    edit_insert(&E, "first", 5);
    CHECK(edit_take(&E, out) == 5 && memcmp(out, "first", 5) == 0 && E.len == 0);
    edit_insert(&E, "second", 6);
    edit_take(&E, out);
    edit_insert(&E, "second", 6);
    edit_take(&E, out);
    CHECK(edit_take(&E, out) == 0); /* an empty line */
    CHECK(E.nhist == 2);
    edit_insert(&E, "draft", 5);
    edit_history_prev(&E);
    CHECK(is("second", 6));
    edit_history_prev(&E);
    CHECK(is("first", 5));
    edit_history_prev(&E); /* no older */
    CHECK(is("first", 5));
    edit_history_next(&E);
    CHECK(is("second", 6));
    edit_history_next(&E);
    CHECK(is("draft", 5));
    edit_history_next(&E); /* no newer */
    CHECK(is("draft", 5));
    /* a recalled entry, edited and taken, becomes the newest */
    edit_history_prev(&E);
    edit_insert(&E, "!", 1);
    edit_take(&E, out);
    CHECK(E.nhist == 3 && strcmp(E.hist[2], "second!") == 0 && strcmp(E.hist[1], "second") == 0);
    /* the oldest goes when the history is full */
    for (int i = 0; i < EDIT_HISTORY + 5; i++) {
        char line[16];
        int n = snprintf(line, sizeof line, "line %d", i);
        edit_insert(&E, line, (size_t)n);
        edit_take(&E, out);
    }
    CHECK(E.nhist == EDIT_HISTORY && strcmp(E.hist[0], "line 5") == 0);

    /* the window keeps the cursor visible */
    size_t from, to, col;
    set("0123456789", 10);
    edit_window(&E, 20, &from, &to, &col);
    CHECK(from == 0 && to == 10 && col == 10);
    edit_window(&E, 4, &from, &to, &col);
    CHECK(from == 6 && to == 10 && col == 4);
    E.cur = 2;
    edit_window(&E, 4, &from, &to, &col);
    CHECK(from == 0 && to == 4 && col == 2);
    set(NI HAO NI HAO, 12); /* 8 columns in 5: whole characters only */
    edit_window(&E, 5, &from, &to, &col);
    CHECK(from == 6 && to == 12 && col == 4);
    edit_free(&E);

    /* replace: what completion does to the word before the cursor */
    set("hi al there", 5);
    CHECK(edit_replace(&E, 3, "alice", 5) == 0 && is("hi alice there", 8));
    CHECK(edit_replace(&E, 9, "x", 1) == -1 && is("hi alice there", 8));
    CHECK(edit_replace(&E, 8, ": ", 2) == 0 && is("hi alice:  there", 10));
    {
        memset(big, 'a', EDIT_MAX - 2);
        big[EDIT_MAX - 2] = '\0';
        set(big, EDIT_MAX - 2);
        CHECK(edit_replace(&E, EDIT_MAX - 3, "xyzw", 4) == -1 && E.len == EDIT_MAX - 2);
        CHECK(edit_replace(&E, EDIT_MAX - 3, "xyz", 3) == 0 && E.len == EDIT_MAX);
    }

    /* the key table both terminal front ends share */
    set("one two", 7);
    CHECK(edit_ctrl(&E, 0x01) == 1 && is("one two", 0)); /* Ctrl-A */
    CHECK(edit_ctrl(&E, 0x05) == 1 && is("one two", 7)); /* Ctrl-E */
    CHECK(edit_ctrl(&E, 0x17) == 1 && is("one ", 4));    /* Ctrl-W */
    CHECK(edit_ctrl(&E, 0x19) == 1 && is("one two", 7)); /* Ctrl-Y */
    CHECK(edit_ctrl(&E, 0x7f) == 1 && is("one tw", 6));  /* Backspace */
    CHECK(edit_ctrl(&E, 0x08) == 1 && is("one t", 5));   /* ^H */
    CHECK(edit_ctrl(&E, 0x15) == 1 && is("", 0));        /* Ctrl-U */
    CHECK(edit_ctrl(&E, 0x19) == 1 && is("one t", 5));
    CHECK(edit_ctrl(&E, 0x02) == 1 && is("one t", 4)); /* Ctrl-B */
    CHECK(edit_ctrl(&E, 0x0b) == 1 && is("one ", 4));  /* Ctrl-K */
    CHECK(edit_ctrl(&E, 'a') == 0 && edit_ctrl(&E, 0x04) == 0 && edit_ctrl(&E, '\t') == 0 &&
          is("one ", 4));
    set("alpha beta", 10);
    CHECK(edit_alt(&E, 'b') == 1 && is("alpha beta", 6));
    CHECK(edit_alt(&E, 'B') == 1 && is("alpha beta", 0));
    CHECK(edit_alt(&E, 'F') == 1 && is("alpha beta", 5));
    CHECK(edit_alt(&E, 'd') == 1 && is("alpha", 5));
    CHECK(edit_alt(&E, 0x7f) == 1 && is("", 0));
    CHECK(edit_alt(&E, 'x') == 0 && edit_alt(&E, '[') == 0 && is("", 0));
    edit_free(&E);
}
