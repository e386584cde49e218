/* check.h - a minimal table-friendly test harness for the unit tests. */
#ifndef HICHAT_CHECK_H
#define HICHAT_CHECK_H

#include <stdio.h>

extern int check_passed, check_failed;
extern const char *check_suite;

/* Counts one check; on failure prints where and what. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stdout, "FAIL %s %s:%d: %s\n", check_suite, __FILE__, __LINE__, #cond);        \
        }                                                                                          \
    } while (0)

/* Like CHECK, with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stdout, "FAIL %s %s:%d: %s: ", check_suite, __FILE__, __LINE__, #cond);        \
            fprintf(stdout, __VA_ARGS__);                                                          \
            fputc('\n', stdout);                                                                   \
        }                                                                                          \
    } while (0)

void test_frame(void);
void test_buf(void);
void test_outq(void);
void test_text(void);
void test_room(void);
void test_chat(void);
void test_connector(void);
void test_loop(void);
void test_ipcount(void);
void test_trace(void);
void test_access(void);
void test_histo(void);
void test_edit(void);
void test_roster(void);
void test_session(void);
void test_fifo(void);
void test_ratelimit(void);
void test_transport(void);

#endif
