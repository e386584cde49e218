/* access: CIDR rules for both families (a v4 rule matches a v4 peer seen on
 * a dual-stack socket), deny winning over allow, the password file's first
 * line, and the wrong-password limiter's window, lockout and /64 grouping.
 * Also tls_fingerprint_parse, the one pure function of tls.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "addr.h"
#include "check.h"
#include "tls.h"

static int matches(const char *rule, ipkey k)
{
    cidr c;
    char err[160];
    return cidr_parse(rule, &c, err, sizeof err) == 0 && cidr_match(&c, &k);
}

static void test_cidr(void)
{
    static const struct {
        const char *rule, *addr;
        int v6, match;
    } t[] = {
        {"10.0.0.0/8", "10.200.3.4", 0, 1},
        {"10.0.0.0/8", "11.0.0.1", 0, 0},
        {"10.1.2.3/8", "10.9.9.9", 0, 1}, /* host bits are cleared */
        {"192.0.2.7", "192.0.2.7", 0, 1},
        {"192.0.2.7", "192.0.2.8", 0, 0},
        {"192.0.2.0/25", "192.0.2.127", 0, 1},
        {"192.0.2.0/25", "192.0.2.128", 0, 0},
        {"0.0.0.0/0", "203.0.113.9", 0, 1},
        {"0.0.0.0/0", "2001:db8::1", 1, 0}, /* every IPv4, no IPv6 */
        {"127.0.0.0/8", "::ffff:127.0.0.5", 1, 1}, /* v4 seen on a :: socket */
        {"::1", "::1", 1, 1},
        {"::1/128", "::2", 1, 0},
        {"2001:db8::/32", "2001:db8:ffff::1", 1, 1},
        {"2001:db8::/32", "2001:db9::1", 1, 0},
        {"fd00::/8", "fdff::1", 1, 1},
        {"::/0", "10.0.0.1", 0, 1}, /* the whole key space */
        {"2001:db8::/33", "2001:db8:8000::1", 1, 0},
        {"2001:db8::/33", "2001:db8:7fff::1", 1, 1},
        {"192.0.2.1/0", "10.0.0.1", 0, 1}, /* the edges of the range */
        {"192.0.2.1/32", "192.0.2.1", 0, 1},
        {"::1/128", "::1", 1, 1},
        {"2001:db8::/10", "2001:db8::1", 1, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ipkey k = t[i].v6 ? v6(t[i].addr) : v4(t[i].addr);
        CHECKF(matches(t[i].rule, k) == t[i].match, "%s ~ %s", t[i].rule, t[i].addr);
    }
    static const char *const bad[] = {
        "", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0/8", "host.example", "10.0.0.0/-1",
        "/8", "1.2.3.4/8x",
        /* Garbage strtol would have taken: signs, spaces, leading zeros. */
        "/-0", "/0x", "1.2.3.4/", "/ 8", "1.2.3.4/-0", "::/-0", "1.2.3.4/+8", "1.2.3.4/ 8",
        "1.2.3.4/\t8", "1.2.3.4/\n8", "1.2.3.4/08", "::/0128", "1.2.3.4/00", "1.2.3.4/8 ",
        "1.2.3.4/8/8", "::/1280", "1.2.3.4/4294967328", "::/", "1.2.3.4//8", " 1.2.3.4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cidr c;
        char err[160] = "";
        CHECKF(cidr_parse(bad[i], &c, err, sizeof err) < 0 && err[0], "\"%s\" refused", bad[i]);
    }
}

static void test_acl(void)
{
    acl a = {0};
    char err[160];
    CHECK(acl_permits(&a, &(ipkey){{0}})); /* no rules: everyone */
    CHECK(acl_add(&a, 0, "10.0.0.0/8", err, sizeof err) == 0);
    ipkey in10 = v4("10.1.1.1"), other = v4("192.0.2.1"), six = v6("::1");
    CHECK(!acl_permits(&a, &in10));
    CHECK(acl_permits(&a, &other) && acl_permits(&a, &six)); /* deny only: the rest may */
    CHECK(acl_add(&a, 1, "10.0.0.0/8", err, sizeof err) == 0);
    CHECK(acl_add(&a, 1, "::1", err, sizeof err) == 0);
    CHECK(!acl_permits(&a, &in10)); /* deny wins over an allow */
    CHECK(!acl_permits(&a, &other)); /* allow rules: only those */
    CHECK(acl_permits(&a, &six));
    CHECK(acl_add(&a, 1, "bogus", err, sizeof err) < 0 && strstr(err, "bogus"));
    CHECK(a.nallow == 2 && a.ndeny == 1);
    acl_free(&a);
    CHECK(a.allow == NULL && a.nallow == 0);
}

static int write_file(const char *path, const char *text, size_t len, int mode)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(text, 1, len, f);
    fclose(f);
    return chmod(path, (mode_t)mode);
}

static void test_password(void)
{
    char path[] = "/tmp/hichat-unit-pw-XXXXXX", err[300];
    int fd = mkstemp(path), loose = -1;
    CHECK(fd >= 0);
    close(fd);
    write_file(path, "open sesame\r\nsecond line\n", 25, 0600);
    char *p = password_load(path, &loose, err, sizeof err);
    CHECK(p && strcmp(p, "open sesame") == 0 && loose == 0); /* spaces kept, CR dropped */
    free(p);
    write_file(path, "nolf", 4, 0644);
    p = password_load(path, &loose, err, sizeof err);
    CHECK(p && strcmp(p, "nolf") == 0 && loose == 1);
    free(p);
    write_file(path, "\nx\n", 3, 0600);
    CHECK(!password_load(path, &loose, err, sizeof err) && strstr(err, "empty"));
    static char big[PASSWORD_MAX + 10];
    memset(big, 'a', sizeof big);
    write_file(path, big, sizeof big, 0600);
    CHECK(!password_load(path, &loose, err, sizeof err) && strstr(err, "longer than"));
    write_file(path, big, PASSWORD_MAX, 0600); /* exactly the limit */
    p = password_load(path, &loose, err, sizeof err);
    CHECK(p && strlen(p) == PASSWORD_MAX);
    free(p);
    unlink(path);
    CHECK(!password_load(path, &loose, err, sizeof err) && strstr(err, "ENOENT"));

    CHECK(password_eq("abc", 3, "abc", 3));
    CHECK(!password_eq("abc", 3, "abd", 3));
    CHECK(!password_eq("abc", 3, "abc ", 4));
    CHECK(!password_eq("", 0, "a", 1));
}

static void test_authlimit(void)
{
    authlimit *t = authlimit_new();
    ipkey a = v4("192.0.2.1"), b = v4("192.0.2.2");
    ipkey h1 = v6("2001:db8:1:2::1"), h2 = v6("2001:db8:1:2:ffff::9"), h3 = v6("2001:db8:1:3::1");
    uint64_t now = 1000000;

    CHECK(authlimit_locked(t, &a, now) == 0);
    for (int i = 1; i < AUTH_FAILS_MAX; i++)
        CHECKF(authlimit_fail(t, &a, now + (uint64_t)i) == 0, "fail %d", i);
    uint64_t left = authlimit_fail(t, &a, now + AUTH_FAILS_MAX);
    CHECK(left == AUTH_LOCK_MS);
    CHECK(authlimit_locked(t, &a, now + AUTH_FAILS_MAX + 1000) == AUTH_LOCK_MS - 1000);
    CHECK(authlimit_locked(t, &b, now) == 0); /* another address is not touched */
    CHECK(authlimit_locked(t, &a, now + AUTH_FAILS_MAX + AUTH_LOCK_MS) == 0); /* it ends */

    /* Failures spread wider than the window never add up. */
    uint64_t at = now;
    for (int i = 0; i < 3 * AUTH_FAILS_MAX; i++, at += AUTH_WINDOW_MS)
        CHECK(authlimit_fail(t, &b, at) == 0);

    /* One IPv6 host's /64 is one address for the limit. */
    for (int i = 0; i < AUTH_FAILS_MAX / 2; i++)
        authlimit_fail(t, &h1, now);
    for (int i = 0; i < AUTH_FAILS_MAX / 2; i++)
        authlimit_fail(t, &h2, now);
    CHECK(authlimit_locked(t, &h1, now) > 0 && authlimit_locked(t, &h2, now) > 0);
    CHECK(authlimit_locked(t, &h3, now) == 0);

    /* A flood of addresses evicts, but memory stays what it was. */
    for (unsigned i = 0; i < 100000; i++) {
        char s[32];
        snprintf(s, sizeof s, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        ipkey k = v4(s);
        authlimit_fail(t, &k, now);
    }
    authlimit_free(t);
}

static void test_fingerprint_parse(void)
{
    static const char canon[] = "5E:A5:73:2D:BA:FD:76:F2:49:8A:C3:3F:B8:B0:71:A5:8F:48:C2:EF:72:75:"
                                "B0:84:D7:DC:73:87:CD:E1:D0:DC";
    char out[TLS_FPLEN];
    CHECK(tls_fingerprint_parse(canon, out) == 0 && strcmp(out, canon) == 0);
    CHECK(tls_fingerprint_parse("sha256:5ea5732dbafd76f2498ac33fb8b071a58f48c2ef7275b084d7dc7387cde1d0dc",
                                out) == 0 &&
          strcmp(out, canon) == 0);
    CHECK(tls_fingerprint_parse("5ea5732dbafd76f2498ac33fb8b071a58f48c2ef7275b084d7dc7387cde1d0d",
                                out) < 0); /* 63 digits */
    CHECK(tls_fingerprint_parse("5ea5732dbafd76f2498ac33fb8b071a58f48c2ef7275b084d7dc7387cde1d0dc0",
                                out) < 0); /* 65 */
    CHECK(tls_fingerprint_parse("5ea5732dbafd76f2498ac33fb8b071a58f48c2ef7275b084d7dc7387cde1d0dg",
                                out) < 0);
    CHECK(tls_fingerprint_parse("", out) < 0);
}

void test_access(void)
{
    test_cidr();
    test_acl();
    test_password();
    test_authlimit();
    test_fingerprint_parse();
}
