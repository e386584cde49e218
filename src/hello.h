/* hello.h - hichat hello: the course's hello/hi as a one-shot probe. */
#ifndef HICHAT_HELLO_H
#define HICHAT_HELLO_H

typedef struct {
    const char *target;    /* HOST[:PORT], or NULL with unix_path */
    const char *unix_path; /* a Unix-domain socket instead */
    int timeout_ms;        /* for the whole probe */
} hello_opts;

/* Connects, says /hello, waits for "*** hi", prints the round trip and closes.
 * Returns the exit status: 0 answered, 1 no answer or a network error (the
 * message names the errno), 2 a bad address. */
int hello_run(const hello_opts *opt);

#endif
