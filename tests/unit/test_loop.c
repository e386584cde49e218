/* loop: timers fire in order of their deadlines whatever order they were
 * armed in, cancel and re-arm work from any heap position, and fd watchers
 * can be removed from inside callbacks. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "loop.h"
#include "util.h"

enum { NT = 200 };
static loop_timer timers[NT];
static int fired[NT], order[NT], nfired;

static void on_timer(loop *l, loop_timer *t)
{
    int i = (int)(t - timers);
    fired[i]++;
    order[nfired++] = i;
    if (nfired == NT / 2)
        loop_stop(l);
}

static int reads;
static void on_read(loop *l, int fd, void *data, int mask)
{
    char b[16];
    (void)data;
    if ((mask & LOOP_READ) && read(fd, b, sizeof b) > 0)
        reads++;
    loop_unwatch(l, fd); /* removing itself inside its callback */
}

static void stop_soon(loop *l, loop_timer *t)
{
    (void)t;
    loop_stop(l);
}

/* Before-sleep hooks: each records itself; the second removes the third
 * (which then does not run) and itself, the first adds a fourth (which runs
 * from the next pass). */
static char hook_log[32];
static int hook_n;
static void hook_c(loop *l, void *data);
static void hook_d(loop *l, void *data)
{
    (void)l, (void)data;
    hook_log[hook_n++] = 'd';
}
static void hook_a(loop *l, void *data)
{
    hook_log[hook_n++] = 'a';
    if (data)
        CHECK(loop_before_sleep_add(l, hook_d, NULL) == 0);
}
static void hook_b(loop *l, void *data)
{
    (void)data;
    hook_log[hook_n++] = 'b';
    loop_before_sleep_remove(l, hook_c, NULL);
    loop_before_sleep_remove(l, hook_b, NULL);
}
static void hook_c(loop *l, void *data)
{
    (void)l, (void)data;
    hook_log[hook_n++] = 'c';
}

static void test_hooks(void)
{
    loop *l = loop_new();
    static int add_once = 1;
    CHECK(loop_before_sleep_add(l, hook_a, &add_once) == 0);
    CHECK(loop_before_sleep_add(l, hook_b, NULL) == 0);
    CHECK(loop_before_sleep_add(l, hook_c, NULL) == 0);
    CHECK(loop_run_once(l, 0) == 0);
    CHECK(hook_n == 2 && hook_log[0] == 'a' && hook_log[1] == 'b');
    loop_before_sleep_remove(l, hook_a, &add_once);
    CHECK(loop_before_sleep_add(l, hook_a, NULL) == 0); /* after d now */
    CHECK(loop_run_once(l, 0) == 0);
    CHECK(hook_n == 4 && hook_log[2] == 'd' && hook_log[3] == 'a');
    loop_before_sleep_remove(l, hook_c, NULL); /* not there: nothing */
    for (int i = 2; i < LOOP_HOOKS; i++)
        CHECK(loop_before_sleep_add(l, hook_c, NULL) == 0);
    CHECK(loop_before_sleep_add(l, hook_c, NULL) == -1); /* full */
    loop_free(l);
}

void test_loop(void)
{
    test_hooks();
    loop *l = loop_new();
    CHECK(l != NULL);

    /* Arm in a scrambled order, deadlines 3 ms apart (so arming that spans
     * a clock tick cannot tie two of them); then cancel every odd one. */
    srand(7);
    int idx[NT];
    for (int i = 0; i < NT; i++)
        idx[i] = i;
    for (int i = NT - 1; i > 0; i--) {
        int j = rand() % (i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (int k = 0; k < NT; k++) {
        int i = idx[k];
        loop_timer_init(&timers[i], on_timer);
        loop_timer_arm(l, &timers[i], (uint64_t)(i / 2) * 3 + 5);
    }
    for (int i = 1; i < NT; i += 2)
        loop_timer_cancel(l, &timers[i]);
    for (int i = 1; i < NT; i += 2)
        CHECK(!loop_timer_armed(&timers[i]));
    CHECK(loop_timer_armed(&timers[0]));

    CHECK(loop_run(l) == 0);
    CHECK(nfired == NT / 2);
    int good = 1;
    for (int k = 0; k < nfired; k++) {
        if (order[k] % 2 != 0 || fired[order[k]] != 1)
            good = 0;
        if (k > 0 && order[k] < order[k - 1])
            good = 0;
    }
    CHECK(good);

    /* An fd watcher that removes itself. */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(loop_watch(l, p[0], LOOP_READ, on_read, NULL) == 0);
    CHECK(loop_mask(l, p[0]) == LOOP_READ);
    loop_timer stop;
    loop_timer_init(&stop, stop_soon);
    loop_timer_arm(l, &stop, 50);
    CHECK(write(p[1], "y", 1) == 1);
    CHECK(loop_run(l) == 0);
    CHECK(reads == 1);
    CHECK(loop_mask(l, p[0]) == -1);
    /* Changing an fd nobody watches is an error, not a crash. */
    CHECK(loop_set_mask(l, 12345, LOOP_READ) == -1);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}
