/* Unit test runner: every suite, then "unit: N passed, N failed". Each
 * check counts one; a suite prints "ok SUITE (N checks)" when all pass. */
#include <stdio.h>

#include "check.h"

int check_passed, check_failed;
const char *check_suite;

static void run(const char *name, void (*fn)(void))
{
    int failed = check_failed, passed = check_passed;
    check_suite = name;
    fn();
    if (check_failed == failed)
        printf("ok unit/%s (%d checks)\n", name, check_passed - passed);
}

int main(void)
{
    run("frame", test_frame);
    run("buf", test_buf);
    run("outq", test_outq);
    run("text", test_text);
    run("room", test_room);
    run("chat", test_chat);
    run("connector", test_connector);
    run("loop", test_loop);
    run("ipcount", test_ipcount);
    run("access", test_access);
    run("histo", test_histo);
    run("edit", test_edit);
    run("roster", test_roster);
    run("session", test_session);
    run("trace", test_trace);
    run("fifo", test_fifo);
    run("ratelimit", test_ratelimit);
    run("transport", test_transport);
    printf("unit: %d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
