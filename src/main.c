/* main.c - the command line: parse, validate, dispatch. The only place that
 * decides the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "hello.h"
#include "server.h"
#include "text.h"
#include "trace.h"
#include "util.h"

#ifndef HICHAT_VERSION
#define HICHAT_VERSION "0.1"
#endif

enum { EXIT_USAGE = 2 };

static const char usage_main[] =
    "usage: hichat serve [options]          run a chat server\n"
    "       hichat connect HOST[:PORT] [options]   join a chat\n"
    "       hichat hello HOST[:PORT] [options]     is a server there? (hello/hi)\n"
    "       hichat --help | --version\n"
    "\n"
    "hichat is a chat server and its client in one program. Plain nc and\n"
    "telnet are clients too: nc localhost " DEFAULT_PORT ".\n"
    "Run 'hichat serve --help' or 'hichat connect --help' for their options,\n"
    "and see hichat(1).\n";

static const char usage_serve[] =
    "usage: hichat serve [options]\n"
    "\n"
    "Runs a chat room. Lines typed on this terminal go to the room as --nick;\n"
    "room traffic is printed on stdout, log lines (\"listening on ADDR:PORT\",\n"
    "connects, disconnects) on stderr. SIGINT/SIGTERM: members are told, queued\n"
    "output is flushed for up to 2 s, exit 0.\n"
    "\n"
    "  -b, --bind ADDR        address to listen on (default " DEFAULT_BIND "; :: is\n"
    "                         every IPv6 and IPv4 address)\n"
    "  -p, --port PORT        TCP port, 0 for any free one (default " DEFAULT_PORT ")\n"
    "  -n, --nick NAME        the server console's nick (default " DEFAULT_SERVER_NICK ")\n"
    "      --unix PATH        also listen on a Unix-domain socket at PATH (a stale\n"
    "                         socket file is replaced; the file's permissions,\n"
    "                         0777 less the umask, say who may connect)\n"
    "      --no-tcp           do not listen on TCP (with --unix or --udp)\n"
    "      --udp              also a UDP room on the same address and port: nc -u\n"
    "                         works; always plaintext. A new address gets at most\n"
    "                         as many bytes as it sent until it sends back its\n"
    "                         token (/join TOKEN): no amplification\n"
    "      --udp-timeout S    forget a UDP peer silent this long (default 120)\n"
    "      --announce-max N   tell the room of joins and leaves only while it has\n"
    "                         at most N members (default 1000; 0: always); in a\n"
    "                         crowd they would drown the talk, and /who still tells\n"
    "\n"
    "Limits (a client crossing one is told why, and nobody else notices):\n"
    "      --max-clients N    most connections at once (default: the descriptor\n"
    "                         limit less a reserve of 32)\n"
    "      --max-per-ip N     most connections from one address (default 64;\n"
    "                         0: no limit)\n"
    "      --max-line BYTES   longest line accepted (default 4096; 64-1048576)\n"
    "      --max-queue BYTES  output queued for one client before it is dropped\n"
    "                         as too slow (default 1048576; 4096-1073741824)\n"
    "      --msg-rate N       lines per second per client, beyond which its lines\n"
    "                         are held back (default 10; 0: no limit)\n"
    "      --msg-burst N      lines a client may send at once, as in a paste\n"
    "                         (default 20)\n"
    "      --flood-timeout S  seconds a client may be held back without a break\n"
    "                         before it is disconnected for flooding (default 10)\n"
    "      --line-timeout S   seconds to finish a line once begun (default 30;\n"
    "                         0: none)\n"
    "      --keepalive S      idle seconds before TCP keepalive probes; a dead\n"
    "                         peer is dropped after 3 more (default 60; 0: off)\n"
    "      --user-timeout S   seconds sent data may stay unacknowledged before\n"
    "                         the peer counts as gone (default 30; 0: the\n"
    "                         kernel's, about 15 minutes)\n"
    "\n"
    "On the console, /stats shows counters; SIGUSR1 logs them on stderr.\n"
    "      --trace[=FILE]     print every socket system call as strace would\n"
    "                         (to FILE, or stderr)\n"
    "  -h, --help             this help\n";

static const char usage_connect[] =
    "usage: hichat connect HOST[:PORT] [options]\n"
    "       hichat connect --unix PATH [options]\n"
    "\n"
    "Joins the chat at HOST (default port " DEFAULT_PORT "; IPv6 as [::1]:PORT). On a\n"
    "terminal it is full screen: messages, a status line and your input line\n"
    "(type /help there for the keys). Otherwise it works like nc: stdin lines\n"
    "are sent, received lines are printed, and EOF on stdin half-closes.\n"
    "Exit status: 0 when the server closes or you quit, 1 on a network error,\n"
    "2 on a usage error.\n"
    "\n"
    "  -n, --nick NAME        ask for this nick on joining\n"
    "      --unix PATH        connect to the Unix-domain socket at PATH\n"
    "  -u, --udp              chat over UDP (hichat serve --udp): each line one\n"
    "                         datagram; joins with the server's token by itself\n"
    "      --no-tui           on a terminal, the plain line mode instead of the\n"
    "                         full screen (also chosen when TERM is unknown)\n"
    "  -r, --reconnect        when the connection is lost, dial again after 1, 2,\n"
    "                         4 ... 30 s and ask for the same nick (not with --udp)\n"
    "      --trace[=FILE]     print every socket system call as strace would\n"
    "                         (to FILE, or stderr)\n"
    "  -h, --help             this help\n";

static const char usage_hello[] =
    "usage: hichat hello HOST[:PORT] [options]\n"
    "       hichat hello --unix PATH [options]\n"
    "\n"
    "The course's hello/hi as a probe: connects, says /hello, waits for the\n"
    "server's \"* hi\", prints the round-trip time and leaves (nobody in the room\n"
    "is told). Exit status 0 when it answered; 1 when it did not, naming the\n"
    "errno (ECONNREFUSED, ETIMEDOUT, ...); 2 on a usage error. For scripts:\n"
    "  hichat hello localhost && echo up\n"
    "\n"
    "      --unix PATH        probe the Unix-domain socket at PATH\n"
    "  -t, --timeout MS       give up after MS milliseconds (default 5000)\n"
    "      --trace[=FILE]     print every socket system call as strace would\n"
    "  -h, --help             this help\n";

static int usage_error(const char *usage, const char *what)
{
    fprintf(stderr, "hichat: %s\n\n%s", what, usage);
    return EXIT_USAGE;
}

static int num_opt(const char *name, const char *val, long long min, long long max, long long *out)
{
    const char *why;
    if (parse_num(val, min, max, out, &why) == 0)
        return 0;
    fprintf(stderr, "hichat: %s %s: %s (allowed %lld-%lld)\n", name, val, why, min, max);
    return -1;
}

/* --trace[=FILE]: strace-style lines of every socket call, to FILE or stderr. */
static int trace_opt(const char *file)
{
    int fd = STDERR_FILENO;
    if (file && *file) {
        fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
        if (fd < 0) {
            fprintf(stderr, "hichat: --trace=%s: %s (%s)\n", file, errno_name(errno),
                    strerror(errno));
            return -1;
        }
    }
    trace_to(fd);
    return 0;
}

static int nick_opt(const char *val)
{
    const char *why = text_nick_invalid(val, strlen(val));
    if (!why)
        return 0;
    fprintf(stderr, "hichat: --nick \"%s\": %s\n", val, why);
    return -1;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"port", required_argument, NULL, 'p'},
        {"nick", required_argument, NULL, 'n'},
        {"max-clients", required_argument, NULL, 'C'},
        {"max-line", required_argument, NULL, 'L'},
        {"max-queue", required_argument, NULL, 'Q'},
        {"max-per-ip", required_argument, NULL, 'I'},
        {"msg-rate", required_argument, NULL, 'R'},
        {"msg-burst", required_argument, NULL, 'B'},
        {"line-timeout", required_argument, NULL, 'T'},
        {"keepalive", required_argument, NULL, 'K'},
        {"user-timeout", required_argument, NULL, 'U'},
        {"flood-timeout", required_argument, NULL, 'F'},
        {"trace", optional_argument, NULL, 'X'},
        {"unix", required_argument, NULL, 'u'},
        {"no-tcp", no_argument, NULL, 'N'},
        {"udp", no_argument, NULL, 'D'},
        {"udp-timeout", required_argument, NULL, 'O'},
        {"announce-max", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    server_opts o;
    char port[8];
    long long v;
    int ch;

    server_defaults(&o);
    while ((ch = getopt_long(argc, argv, "+b:p:n:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': o.bind = optarg; break;
        case 'p':
            if (num_opt("--port", optarg, 0, 65535, &v) < 0)
                return EXIT_USAGE;
            snprintf(port, sizeof port, "%lld", v);
            o.port = port;
            break;
        case 'n':
            if (nick_opt(optarg) < 0)
                return EXIT_USAGE;
            o.nick = optarg;
            break;
        case 'C':
            if (num_opt("--max-clients", optarg, 1, 1000000, &v) < 0)
                return EXIT_USAGE;
            o.max_clients = (long)v;
            break;
        case 'L':
            if (num_opt("--max-line", optarg, 64, 1048576, &v) < 0)
                return EXIT_USAGE;
            o.max_line = (size_t)v;
            break;
        case 'Q':
            if (num_opt("--max-queue", optarg, 4096, 1073741824, &v) < 0)
                return EXIT_USAGE;
            o.max_queue = (size_t)v;
            break;
        case 'I':
            if (num_opt("--max-per-ip", optarg, 0, 1000000, &v) < 0)
                return EXIT_USAGE;
            o.max_per_ip = (long)v;
            break;
        case 'R':
            if (num_opt("--msg-rate", optarg, 0, 1000000, &v) < 0)
                return EXIT_USAGE;
            o.msg_rate = (long)v;
            break;
        case 'B':
            if (num_opt("--msg-burst", optarg, 1, 1000000, &v) < 0)
                return EXIT_USAGE;
            o.msg_burst = (long)v;
            break;
        case 'X':
            if (trace_opt(optarg) < 0)
                return EXIT_USAGE;
            break;
        case 'u': o.unix_path = optarg; break;
        case 'N': o.tcp = 0; break;
        case 'D': o.udp = 1; break;
        case 'O':
            if (num_opt("--udp-timeout", optarg, 1, 86400, &v) < 0)
                return EXIT_USAGE;
            o.udp_timeout = (long)v;
            break;
        case 'A':
            if (num_opt("--announce-max", optarg, 0, 1000000, &v) < 0)
                return EXIT_USAGE;
            o.announce_max = (long)v;
            break;
        case 'F':
            if (num_opt("--flood-timeout", optarg, 1, 86400, &v) < 0)
                return EXIT_USAGE;
            o.flood_timeout = (long)v;
            break;
        case 'T':
            if (num_opt("--line-timeout", optarg, 0, 86400, &v) < 0)
                return EXIT_USAGE;
            o.line_timeout = (long)v;
            break;
        case 'K':
            if (num_opt("--keepalive", optarg, 0, 32767, &v) < 0)
                return EXIT_USAGE;
            o.keepalive = (long)v;
            break;
        case 'U':
            if (num_opt("--user-timeout", optarg, 0, 86400, &v) < 0)
                return EXIT_USAGE;
            o.user_timeout = (long)v;
            break;
        case 'h': fputs(usage_serve, stdout); return 0;
        default: fprintf(stderr, "\n%s", usage_serve); return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error(usage_serve, "serve takes no arguments besides options");
    if (!o.tcp && !o.unix_path && !o.udp)
        return usage_error(usage_serve,
                           "--no-tcp leaves nothing to listen on; add --unix PATH or --udp");
    return server_run(&o);
}

static int cmd_connect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nick", required_argument, NULL, 'n'}, {"trace", optional_argument, NULL, 'X'},
        {"unix", required_argument, NULL, 'U'}, {"udp", no_argument, NULL, 'u'},
        {"no-tui", no_argument, NULL, 'T'},     {"reconnect", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    client_opts o = {0};
    int ch;

    /* Options may come before or after HOST. */
    while ((ch = getopt_long(argc, argv, "n:urh", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (nick_opt(optarg) < 0)
                return EXIT_USAGE;
            o.nick = optarg;
            break;
        case 'X':
            if (trace_opt(optarg) < 0)
                return EXIT_USAGE;
            break;
        case 'U': o.unix_path = optarg; break;
        case 'u': o.udp = 1; break;
        case 'T': o.no_tui = 1; break;
        case 'r': o.reconnect = 1; break;
        case 'h': fputs(usage_connect, stdout); return 0;
        default: fprintf(stderr, "\n%s", usage_connect); return EXIT_USAGE;
        }
    }
    if (o.udp && o.reconnect)
        return usage_error(usage_connect, "--reconnect is for streams: UDP has no connection "
                                          "to lose (the client keeps itself joined)");
    if (o.unix_path) {
        if (optind < argc || o.udp)
            return usage_error(usage_connect, "connect takes --unix PATH or HOST[:PORT], not both");
        return client_run(&o);
    }
    if (optind >= argc)
        return usage_error(usage_connect, "connect needs HOST[:PORT]");
    if (optind + 1 < argc)
        return usage_error(usage_connect, "connect takes one HOST[:PORT]");
    o.target = argv[optind];
    return client_run(&o);
}

static int cmd_hello(int argc, char **argv)
{
    static const struct option opts[] = {
        {"unix", required_argument, NULL, 'u'},
        {"timeout", required_argument, NULL, 't'},
        {"trace", optional_argument, NULL, 'X'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hello_opts o = {.timeout_ms = 5000};
    long long v;
    int ch;

    while ((ch = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'u': o.unix_path = optarg; break;
        case 't':
            if (num_opt("--timeout", optarg, 1, 3600000, &v) < 0)
                return EXIT_USAGE;
            o.timeout_ms = (int)v;
            break;
        case 'X':
            if (trace_opt(optarg) < 0)
                return EXIT_USAGE;
            break;
        case 'h': fputs(usage_hello, stdout); return 0;
        default: fprintf(stderr, "\n%s", usage_hello); return EXIT_USAGE;
        }
    }
    if (o.unix_path ? optind != argc : optind + 1 != argc)
        return usage_error(usage_hello, "hello takes one HOST[:PORT], or --unix PATH");
    if (!o.unix_path)
        o.target = argv[optind];
    return hello_run(&o);
}

int main(int argc, char **argv)
{
    /* Widths of CJK and emoji on the terminal come from the locale; hichat
     * speaks UTF-8 whatever it says, so fall back to C.UTF-8. */
    const char *loc = setlocale(LC_CTYPE, "");
    if (!loc || !strstr(loc, "UTF-8"))
        setlocale(LC_CTYPE, "C.UTF-8");
    if (argc < 2) {
        fputs(usage_main, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "connect") == 0)
        return cmd_connect(argc - 1, argv + 1);
    if (strcmp(cmd, "hello") == 0)
        return cmd_hello(argc - 1, argv + 1);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        printf("%s\n%s\n%s\n%s", usage_main, usage_serve, usage_connect, usage_hello);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("hichat %s\n", HICHAT_VERSION);
        return 0;
    }
    fprintf(stderr, "hichat: unknown command \"%s\"\n\n%s", cmd, usage_main);
    return EXIT_USAGE;
}
