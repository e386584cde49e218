/* fifo: the intrusive line keeps its order, and takes a link out of the
 * head, the middle or the tail, leaving the rest in order. */
#include <stddef.h>

#include "check.h"
#include "util.h"

typedef struct {
    int id;
    fifo_link link;
} item;

/* The ids on f, head first, into out; returns how many. */
static size_t ids(const fifo *f, int *out)
{
    size_t n = 0;
    for (const fifo_link *k = f->head; k; k = k->next)
        out[n++] = CONTAINER_OF(k, const item, link)->id;
    return n;
}

void test_fifo(void)
{
    fifo f = {0};
    item it[5];
    int got[5];
    for (int i = 0; i < 5; i++) {
        it[i].id = i;
        fifo_push(&f, &it[i].link);
    }
    CHECK(f.count == 5 && ids(&f, got) == 5 && got[0] == 0 && got[4] == 4);
    fifo_remove(&f, &it[2].link); /* the middle */
    CHECK(f.count == 4 && ids(&f, got) == 4 && got[1] == 1 && got[2] == 3);
    fifo_remove(&f, &it[0].link); /* the head */
    fifo_remove(&f, &it[4].link); /* the tail */
    CHECK(ids(&f, got) == 2 && got[0] == 1 && got[1] == 3 && f.tail == &it[3].link);
    fifo_push(&f, &it[0].link); /* again, at the end */
    CHECK(ids(&f, got) == 3 && got[2] == 0 && f.tail->prev == &it[3].link);
    fifo_remove(&f, &it[1].link);
    fifo_remove(&f, &it[3].link);
    fifo_remove(&f, &it[0].link);
    CHECK(f.count == 0 && f.head == NULL && f.tail == NULL);
}
