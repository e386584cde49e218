/* buf: the cap holds exactly, appends are all or nothing, consumption from
 * the front keeps the rest intact, and an emptied buffer owns no memory. */
#include <string.h>

#include "buf.h"
#include "check.h"

void test_buf(void)
{
    buf b;
    buf_init(&b, 10);
    CHECK(buf_len(&b) == 0 && b.data == NULL);
    CHECK(buf_append(&b, "hello", 5) == 0);
    CHECK(buf_append(&b, "world", 5) == 0);
    CHECK(buf_len(&b) == 10 && memcmp(buf_data(&b), "helloworld", 10) == 0);
    CHECK(buf_append(&b, "!", 1) == -1);
    CHECK(buf_len(&b) == 10);
    buf_consume(&b, 3);
    CHECK(buf_len(&b) == 7 && memcmp(buf_data(&b), "loworld", 7) == 0);
    CHECK(buf_append(&b, "abcd", 4) == -1);
    CHECK(buf_append(&b, "abc", 3) == 0);
    CHECK(buf_len(&b) == 10 && memcmp(buf_data(&b), "loworldabc", 10) == 0);
    CHECK(b.cap <= 10);
    buf_consume(&b, 10);
    CHECK(buf_len(&b) == 0 && b.data == NULL && b.cap == 0);
    CHECK(buf_append(&b, "", 0) == 0 && b.data == NULL);

    /* Growth keeps content through every size, one byte at a time. */
    buf big;
    buf_init(&big, 100000);
    int ok = 1;
    for (int i = 0; i < 100000; i++) {
        char c = (char)('a' + i % 26);
        if (buf_append(&big, &c, 1) < 0)
            ok = 0;
        if (i % 7 == 6) { /* consume from the front now and then */
            if (buf_data(&big)[0] != (char)('a' + (i - (int)buf_len(&big) + 1) % 26))
                ok = 0;
            buf_consume(&big, 1);
        }
    }
    CHECK(ok);
    CHECK(buf_append(&big, "x", 1) == 0);
    buf_clear(&big);
    CHECK(big.data == NULL);
    buf_clear(&b);
}
