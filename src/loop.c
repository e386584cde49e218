/* loop.c - see loop.h. */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "trace.h"
#include "util.h"

/* Events taken per epoll_wait. More would only lengthen one pass. */
#define LOOP_EVENTS 1024

typedef struct {
    int mask; /* -1: not watched */
    loop_io_fn *fn;
    void *data;
} watcher;

struct loop {
    int epfd;
    int stop;
    uint64_t now;
    watcher *w; /* indexed by fd */
    size_t nw;
    loop_timer **heap;
    size_t nheap, capheap;
    struct {
        loop_hook_fn *fn; /* NULL: removed while the hooks ran */
        void *data;
    } hooks[LOOP_HOOKS];
    int nhooks;
    int in_hooks; /* running them: removal only marks */
    uint64_t (*clock)(void *);
    void *clock_data;
    struct epoll_event ev[LOOP_EVENTS];
};

static uint64_t system_clock(void *data)
{
    (void)data;
    return now_ms();
}

void loop_set_clock(loop *l, uint64_t (*fn)(void *), void *data)
{
    l->clock = fn;
    l->clock_data = data;
    l->now = fn(data);
}

static uint64_t clock_now(loop *l)
{
    return l->clock(l->clock_data);
}

loop *loop_new(void)
{
    int epfd = trace_epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return NULL;
    loop *l = xcalloc(1, sizeof *l);
    l->epfd = epfd;
    l->clock = system_clock;
    l->now = now_ms();
    return l;
}

void loop_free(loop *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l->w);
    free(l->heap);
    free(l);
}

static uint32_t to_epoll(int mask)
{
    return (mask & LOOP_READ ? EPOLLIN : 0u) | (mask & LOOP_WRITE ? EPOLLOUT : 0u);
}

int loop_watch(loop *l, int fd, int mask, loop_io_fn *fn, void *data)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd >= l->nw) {
        size_t n = l->nw ? l->nw : 64;
        while (n <= (size_t)fd)
            n *= 2;
        l->w = xrealloc(l->w, n * sizeof *l->w);
        for (size_t i = l->nw; i < n; i++)
            l->w[i].mask = -1;
        l->nw = n;
    }
    watcher *w = &l->w[fd];
    struct epoll_event ev = {.events = to_epoll(mask), .data.fd = fd};
    if (trace_epoll_ctl(l->epfd, w->mask < 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0)
        return -1;
    w->mask = mask;
    w->fn = fn;
    w->data = data;
    return 0;
}

int loop_set_mask(loop *l, int fd, int mask)
{
    if (fd < 0 || (size_t)fd >= l->nw || l->w[fd].mask < 0) {
        errno = EBADF;
        return -1;
    }
    if (l->w[fd].mask == mask)
        return 0;
    struct epoll_event ev = {.events = to_epoll(mask), .data.fd = fd};
    if (trace_epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -1;
    l->w[fd].mask = mask;
    return 0;
}

int loop_mask(const loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nw)
        return -1;
    return l->w[fd].mask;
}

void loop_unwatch(loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nw || l->w[fd].mask < 0)
        return;
    /* The fd is still open (callers unwatch before close), so this cannot
     * fail in a way that matters; the event slot is dropped either way. */
    trace_epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->w[fd].mask = -1;
}

/* Timers: a binary min-heap on `when`, each timer knowing its slot. */

static void heap_set(loop *l, size_t i, loop_timer *t)
{
    l->heap[i] = t;
    t->slot = i;
}

static void heap_up(loop *l, size_t i)
{
    loop_timer *t = l->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->when <= t->when)
            break;
        heap_set(l, i, l->heap[p]);
        i = p;
    }
    heap_set(l, i, t);
}

static void heap_down(loop *l, size_t i)
{
    loop_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
            c++;
        if (l->heap[c]->when >= t->when)
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

void loop_timer_init(loop_timer *t, loop_timer_fn *fn)
{
    t->when = 0;
    t->slot = LOOP_TIMER_IDLE;
    t->fn = fn;
}

void loop_timer_cancel(loop *l, loop_timer *t)
{
    size_t i = t->slot;
    if (i == LOOP_TIMER_IDLE)
        return;
    t->slot = LOOP_TIMER_IDLE;
    loop_timer *last = l->heap[--l->nheap];
    if (i == l->nheap)
        return;
    heap_set(l, i, last);
    heap_up(l, i);
    heap_down(l, last->slot);
}

void loop_timer_arm_at(loop *l, loop_timer *t, uint64_t when)
{
    if (t->slot != LOOP_TIMER_IDLE) {
        /* Re-arming in place: one sift instead of a removal and an insert. */
        uint64_t old = t->when;
        t->when = when;
        if (when < old)
            heap_up(l, t->slot);
        else
            heap_down(l, t->slot);
        return;
    }
    if (l->nheap == l->capheap) {
        l->capheap = l->capheap ? l->capheap * 2 : 64;
        l->heap = xrealloc(l->heap, l->capheap * sizeof *l->heap);
    }
    t->when = when;
    heap_set(l, l->nheap++, t);
    heap_up(l, t->slot);
}

void loop_timer_arm(loop *l, loop_timer *t, uint64_t delay_ms)
{
    loop_timer_arm_at(l, t, clock_now(l) + delay_ms);
}

int loop_before_sleep_add(loop *l, loop_hook_fn *fn, void *data)
{
    if (l->nhooks == LOOP_HOOKS)
        return -1;
    l->hooks[l->nhooks].fn = fn;
    l->hooks[l->nhooks].data = data;
    l->nhooks++;
    return 0;
}

void loop_before_sleep_remove(loop *l, loop_hook_fn *fn, void *data)
{
    for (int i = 0; i < l->nhooks; i++) {
        if (l->hooks[i].fn != fn || l->hooks[i].data != data)
            continue;
        if (l->in_hooks) {
            l->hooks[i].fn = NULL; /* the running loop closes the gap */
            return;
        }
        for (int k = i + 1; k < l->nhooks; k++)
            l->hooks[k - 1] = l->hooks[k];
        l->nhooks--;
        return;
    }
}

/* Runs the hooks in the order they were added; one removed by another
 * (or by itself) is not run, one added meanwhile waits for the next pass. */
static void run_hooks(loop *l)
{
    int n = l->nhooks, kept = 0;
    l->in_hooks = 1;
    for (int i = 0; i < n; i++)
        if (l->hooks[i].fn)
            l->hooks[i].fn(l, l->hooks[i].data);
    l->in_hooks = 0;
    for (int i = 0; i < l->nhooks; i++)
        if (l->hooks[i].fn)
            l->hooks[kept++] = l->hooks[i];
    l->nhooks = kept;
}

void loop_stop(loop *l)
{
    l->stop = 1;
}

uint64_t loop_now(const loop *l)
{
    return l->now;
}

static void run_timers(loop *l)
{
    /* Timers armed by a callback for "now" wait for the next pass, so a
     * timer that re-arms itself with delay 0 cannot starve the fds. */
    uint64_t now = clock_now(l);
    l->now = now;
    size_t budget = l->nheap;
    while (budget-- > 0 && l->nheap > 0 && l->heap[0]->when <= now) {
        loop_timer *t = l->heap[0];
        loop_timer_cancel(l, t);
        t->fn(l, t);
    }
}

static int next_timeout(loop *l)
{
    if (l->nheap == 0)
        return -1;
    uint64_t now = clock_now(l), when = l->heap[0]->when;
    if (when <= now)
        return 0;
    uint64_t d = when - now;
    return d > 60000 ? 60000 : (int)d;
}

int loop_run_once(loop *l, int timeout_ms)
{
    run_hooks(l);
    if (l->stop)
        return 0;
    int t = next_timeout(l);
    if (timeout_ms >= 0 && (t < 0 || t > timeout_ms))
        t = timeout_ms;
    int n = trace_epoll_wait(l->epfd, l->ev, LOOP_EVENTS, t);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    l->now = clock_now(l);
    for (int i = 0; i < n && !l->stop; i++) {
        int fd = l->ev[i].data.fd;
        uint32_t e = l->ev[i].events;
        int fired = 0;
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
            fired |= LOOP_READ;
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            fired |= LOOP_WRITE;
        /* Re-read the watcher before each call: the previous callback may
         * have removed or changed it (and may have grown l->w). */
        watcher *w = &l->w[fd];
        if (w->mask == 0 && (e & (EPOLLERR | EPOLLHUP))) {
            w->fn(l, fd, w->data, LOOP_READ);
            continue;
        }
        if (w->mask > 0 && (w->mask & fired & LOOP_READ))
            w->fn(l, fd, w->data, LOOP_READ);
        w = &l->w[fd];
        if (w->mask > 0 && (w->mask & fired & LOOP_WRITE))
            w->fn(l, fd, w->data, LOOP_WRITE);
    }
    run_timers(l);
    return 0;
}

int loop_run(loop *l)
{
    l->stop = 0;
    while (!l->stop)
        if (loop_run_once(l, -1) < 0)
            return -1;
    return 0;
}
