/* loop.h - a small epoll event loop: fd watchers, timers, a before-sleep hook.
 *
 * Level-triggered. A watcher is (fd, mask, callback, user data); callbacks may
 * add, change or remove any watcher, including their own, and the loop re-checks
 * the mask before each callback so a removed watcher is never called. Timers are
 * intrusive: the caller embeds a loop_timer in its own struct (no allocation),
 * and a min-heap orders them. Before-sleep hooks run once per pass, just
 * before the loop waits; servers use one to write each connection's queue once. */
#ifndef HICHAT_LOOP_H
#define HICHAT_LOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct loop loop;

enum { LOOP_READ = 1, LOOP_WRITE = 2 };

/* mask says which of LOOP_READ/LOOP_WRITE fired; errors and hang-ups are
 * reported as whichever of the two are watched (as LOOP_READ when the mask is
 * 0, so a quiet fd cannot make the loop spin), and the next read or write
 * sees the error itself. */
typedef void loop_io_fn(loop *l, int fd, void *data, int mask);

typedef struct loop_timer loop_timer;
typedef void loop_timer_fn(loop *l, loop_timer *t);
struct loop_timer {
    uint64_t when; /* monotonic ms at which it fires */
    size_t slot;   /* index in the heap, or LOOP_TIMER_IDLE */
    loop_timer_fn *fn;
};
#define LOOP_TIMER_IDLE ((size_t)-1)

/* Returns NULL with errno set when epoll cannot be created. */
loop *loop_new(void);
/* Frees the loop; it closes no fd and runs no timer. */
void loop_free(loop *l);

/* Watches fd for mask (LOOP_READ|LOOP_WRITE, or 0 to keep it registered but
 * quiet), replacing any earlier watcher of fd. Returns 0, or -1 with errno from
 * epoll_ctl (EPERM: regular files cannot be watched). */
int loop_watch(loop *l, int fd, int mask, loop_io_fn *fn, void *data);
/* Changes only the mask of a watched fd; a no-op when it is unchanged. */
int loop_set_mask(loop *l, int fd, int mask);
/* The mask of fd, or -1 if fd is not watched. */
int loop_mask(const loop *l, int fd);
/* Stops watching fd. Call it before close(fd). */
void loop_unwatch(loop *l, int fd);

void loop_timer_init(loop_timer *t, loop_timer_fn *fn);
/* (Re)arms t to fire once after delay_ms. */
void loop_timer_arm(loop *l, loop_timer *t, uint64_t delay_ms);
/* (Re)arms t to fire once at loop time `when` (ms, the loop's clock). */
void loop_timer_arm_at(loop *l, loop_timer *t, uint64_t when);
void loop_timer_cancel(loop *l, loop_timer *t);
static inline int loop_timer_armed(const loop_timer *t)
{
    return t->slot != LOOP_TIMER_IDLE;
}

/* Hooks run once per pass, just before the wait, in the order they were
 * added: the room writes its queues there, and later a history store or a
 * cluster bus flushes its own. At most LOOP_HOOKS. */
#define LOOP_HOOKS 8
typedef void loop_hook_fn(loop *l, void *data);
/* Adds fn(l, data) after the hooks already there. Returns 0, or -1 when
 * LOOP_HOOKS are in use. A hook added by a hook first runs in the next pass. */
int loop_before_sleep_add(loop *l, loop_hook_fn *fn, void *data);
/* Removes the hook (fn, data), if it is there; safe from inside a hook,
 * even its own. */
void loop_before_sleep_remove(loop *l, loop_hook_fn *fn, void *data);

/* Runs until loop_stop. Returns 0, or -1 with errno if epoll_wait failed for a
 * reason other than EINTR. */
int loop_run(loop *l);
/* Runs one pass: the before-sleep hook, one wait of at most timeout_ms (or
 * until the next timer), the ready callbacks, the due timers. For tests and
 * fuzzing, which drive the loop themselves. Returns as loop_run. */
int loop_run_once(loop *l, int timeout_ms);
/* Replaces the clock (default: now_ms) with fn(data); fuzzers use a virtual
 * clock so that timers fire without waiting. */
void loop_set_clock(loop *l, uint64_t (*fn)(void *data), void *data);
void loop_stop(loop *l);

/* The loop's idea of now (ms, monotonic), refreshed once per pass. */
uint64_t loop_now(const loop *l);

#endif
