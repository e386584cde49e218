/* replay.c - runs a fuzz harness on saved inputs without libFuzzer, so the
 * corpus and the regressions replay with any compiler under ASan + UBSan.
 *
 *   replay [--no-fork] PATH...
 *
 * Each PATH is an input file or a directory whose files (not its dot files)
 * are inputs, in name order. Each input runs in a child process of its own,
 * with a time limit, so a crash, an abort() from an invariant, a sanitizer
 * report or a leak (LeakSanitizer runs at the child's exit) fails that input
 * and the rest still run. The last line is "NAME: N passed, M failed", NAME
 * being this program's name; the exit status is 1 if any failed. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

/* An input that takes longer than this has hung (inputs take milliseconds). */
#define INPUT_SECONDS 20
/* Inputs are small; a larger file is refused rather than read. */
#define INPUT_MAX (16 * 1024 * 1024)

static int passed, failed, forking = 1;

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf)
            abort(); /* out of memory: nothing to replay with */
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= INPUT_MAX)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    int bad = ferror(f) || n >= INPUT_MAX;
    fclose(f);
    if (bad) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    /* An exact-size copy, as libFuzzer gives, so reads past the end are
     * caught. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact)
        abort();
    memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

static void run_one(const char *path)
{
    size_t len = 0;
    uint8_t *data = slurp(path, &len);
    if (!data) {
        fprintf(stderr, "FAIL %s: cannot read: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    if (!forking) {
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        passed++;
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "FAIL %s: fork: %s\n", path, strerror(errno));
        free(data);
        failed++;
        return;
    }
    if (pid == 0) {
        alarm(INPUT_SECONDS);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        exit(0); /* exit, not _exit: LeakSanitizer checks here */
    }
    free(data);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        passed++;
        return;
    }
    failed++;
    if (WIFSIGNALED(st))
        fprintf(stderr, "FAIL %s: %s%s\n", path, strsignal(WTERMSIG(st)),
                WTERMSIG(st) == SIGALRM ? " (hung)" : "");
    else
        fprintf(stderr, "FAIL %s: exit status %d\n", path, WEXITSTATUS(st));
}

static int skip_name(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "FAIL %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_one(path);
        return;
    }
    struct dirent **names;
    int n = scandir(path, &names, skip_name, alphasort);
    if (n < 0) {
        fprintf(stderr, "FAIL %s: %s\n", path, strerror(errno));
        failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
        char *full = malloc(len);
        if (!full)
            abort();
        snprintf(full, len, "%s/%s", path, names[i]->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            run_one(full);
        free(full);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-fork") == 0) {
            forking = 0;
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: %s [--no-fork] FILE|DIR...\n", name);
            return 0;
        }
        run_path(argv[i]);
    }
    printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed ? 1 : 0;
}
