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

#include "chat.h"
#include "client.h"
#include "hello.h"
#include "server.h"
#include "text.h"
#include "tls.h"
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
    "Rooms (everyone starts in the default room; /join #NAME makes more):\n"
    "      --default-room NAME  the room everyone is in on connecting (default\n"
    "                         " DEFAULT_ROOM "; # and 1-32 letters, digits, - _ .)\n"
    "      --max-rooms N      most rooms on the server (default 1000)\n"
    "      --max-rooms-per-member N\n"
    "                         most rooms one member may be in (default 32)\n"
    "\n"
    "Limits (a client crossing one is told why, and nobody else notices):\n"
    "      --max-clients N    most connections at once (default: the descriptor\n"
    "                         limit less a reserve of 32)\n"
    "      --max-per-ip N     most connections from one address (default 64;\n"
    "                         0: no limit); an IPv6 address counts as its /64\n"
    "      --max-line BYTES   longest line accepted (default 4096; 64-1048576)\n"
    "      --max-queue BYTES  output queued for one client: past it its rooms wait,\n"
    "                         and one that stops reading is dropped\n"
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
    "Security (see docs/security.md). By default only this machine can connect\n"
    "(" DEFAULT_BIND "); serving the network in plaintext without a password is\n"
    "warned about. Every address listened on is printed.\n"
    "      --tls-cert FILE    serve TLS (1.2 and up) on the TCP port with this PEM\n"
    "                         certificate chain; clients: connect --tls\n"
    "      --tls-key FILE     its PEM private key (default: in --tls-cert's file)\n"
    "      --tls-self-signed[=FILE]\n"
    "                         serve TLS with a key and self-signed certificate made\n"
    "                         once and kept in FILE (default\n"
    "                         ~/.config/hichat/selfsigned.pem); prints the SHA-256\n"
    "                         fingerprint that clients pin with --tls-fingerprint\n"
    "      --tls-client-ca FILE  require client certificates signed by a CA in FILE\n"
    "      --password-file FILE  members must first send the password on FILE's\n"
    "                         first line (/pass PASSWORD); a wrong one waits 1 s,\n"
    "                         3 end the connection, 10 in a minute lock the address\n"
    "                         (an IPv6 /64) out for a minute\n"
    "      --allow CIDR       only these addresses may connect (repeatable; IPv4 or\n"
    "                         IPv6: 10.0.0.0/8, fd00::/8, 192.0.2.7)\n"
    "      --deny CIDR        these may not (repeatable; wins over --allow). Both\n"
    "                         are checked before anything is allocated\n"
    "The Unix socket and UDP stay plaintext; UDP cannot be combined with TLS or a\n"
    "password (a datagram room has no handshake or login).\n"
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
    "Exit status: 0 when you leave (/quit, end of input, Ctrl-C) or the server\n"
    "shuts down; 1 when the server disconnects you (\"hichat: disconnected by the\n"
    "server: REASON\" on stderr, REASON its last \"! ...\" line), on a refusal or a\n"
    "network error; 2 on a usage error.\n"
    "\n"
    "  -n, --nick NAME        ask for this nick on joining\n"
    "      --unix PATH        connect to the Unix-domain socket at PATH\n"
    "  -u, --udp              chat over UDP (hichat serve --udp): each line one\n"
    "                         datagram; joins with the server's token by itself\n"
    "      --no-tui           on a terminal, the plain line mode instead of the\n"
    "                         full screen (also chosen when TERM is unknown)\n"
    "  -r, --reconnect        when the connection is lost, dial again after 1, 2,\n"
    "                         4 ... 30 s and ask for the same nick (not with --udp)\n"
    "      --tls              speak TLS; the server's certificate must be signed by\n"
    "                         a system CA (or --tls-ca) for HOST, be pinned, or be\n"
    "                         the one remembered for HOST:PORT in\n"
    "                         ~/.config/hichat/known_hosts (a change is refused)\n"
    "      --tls-ca FILE      trust the CAs in FILE instead of the system's\n"
    "      --tls-fingerprint SHA256\n"
    "                         accept exactly the certificate with this SHA-256\n"
    "                         fingerprint (as serve --tls-self-signed prints it),\n"
    "                         and remember it for HOST:PORT\n"
    "      --tls-insecure     accept any certificate (warned: anyone on the path\n"
    "                         can read and change the chat)\n"
    "      --tls-cert FILE    show this client certificate (PEM)\n"
    "      --tls-key FILE     its private key (default: in --tls-cert's file)\n"
    "      --password-file FILE  the room's password, on FILE's first line; without\n"
    "                         it you are asked on the terminal (not echoed)\n"
    "The --tls options imply --tls. UDP is always plaintext: not with --udp.\n"
    "      --trace[=FILE]     print every socket system call as strace would\n"
    "                         (to FILE, or stderr)\n"
    "  -h, --help             this help\n";

static const char usage_hello[] =
    "usage: hichat hello HOST[:PORT] [options]\n"
    "       hichat hello --unix PATH [options]\n"
    "\n"
    "The course's hello/hi as a probe: connects, says /hello, waits for the\n"
    "server's \"*** hi\", prints the round-trip time and leaves (nobody in the room\n"
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
        {"default-room", required_argument, NULL, 8},
        {"max-rooms", required_argument, NULL, 9},
        {"max-rooms-per-member", required_argument, NULL, 10},
        {"tls-cert", required_argument, NULL, 1},
        {"tls-key", required_argument, NULL, 2},
        {"tls-self-signed", optional_argument, NULL, 3},
        {"tls-client-ca", required_argument, NULL, 4},
        {"password-file", required_argument, NULL, 5},
        {"allow", required_argument, NULL, 6},
        {"deny", required_argument, NULL, 7},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    server_opts o;
    char port[8], err[160], lobby[ROOM_NAME_SIZE + 1];
    long long v;
    int ch, rc;

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
        case 8:
            /* As in /join, the # may be left out. */
            if (optarg[0] == W_ROOM_PREFIX) {
                o.default_room = optarg;
            } else {
                snprintf(lobby, sizeof lobby, "%c%s", W_ROOM_PREFIX, optarg);
                o.default_room = lobby;
            }
            break;
        case 9:
            if (num_opt("--max-rooms", optarg, 1, 1000000, &v) < 0)
                return EXIT_USAGE;
            o.max_rooms = (long)v;
            break;
        case 10:
            if (num_opt("--max-rooms-per-member", optarg, 1, 100000, &v) < 0)
                return EXIT_USAGE;
            o.max_joined = (long)v;
            break;
        case 1: o.tls_cert = optarg; break;
        case 2: o.tls_key = optarg; break;
        case 3: o.tls_self_signed = optarg ? optarg : ""; break;
        case 4: o.tls_client_ca = optarg; break;
        case 5: o.password_file = optarg; break;
        case 6:
        case 7:
            if (acl_add(&o.acl, ch == 6, optarg, err, sizeof err) < 0) {
                fprintf(stderr, "hichat: --%s: %s\n", ch == 6 ? "allow" : "deny", err);
                acl_free(&o.acl);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            acl_free(&o.acl);
            fputs(usage_serve, stdout);
            return 0;
        default:
            acl_free(&o.acl);
            fprintf(stderr, "\n%s", usage_serve);
            return EXIT_USAGE;
        }
    }
    const char *bad = NULL;
    int tls = o.tls_cert || o.tls_self_signed;
    if (optind < argc)
        bad = "serve takes no arguments besides options";
    else if (room_name_invalid(o.default_room, strlen(o.default_room)))
        bad = "--default-room: a room name is # and 1-32 letters, digits, - _ or .";
    else if (!o.tcp && !o.unix_path && !o.udp)
        bad = "--no-tcp leaves nothing to listen on; add --unix PATH or --udp";
    else if (o.tls_cert && o.tls_self_signed)
        bad = "--tls-cert and --tls-self-signed both name the certificate; choose one";
    else if ((o.tls_key || o.tls_client_ca) && !tls)
        bad = "--tls-key and --tls-client-ca need --tls-cert (or --tls-self-signed)";
    else if (tls && !o.tcp)
        bad = "TLS is served on the TCP port, and --no-tcp turns it off";
    else if (o.udp && (tls || o.password_file))
        bad = "--udp is always plaintext and has no login: it cannot be combined with "
              "TLS or --password-file (it would let anyone around both)";
    if (bad) {
        acl_free(&o.acl);
        return usage_error(usage_serve, bad);
    }
    rc = server_run(&o);
    acl_free(&o.acl);
    return rc;
}

static int cmd_connect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nick", required_argument, NULL, 'n'},
        {"trace", optional_argument, NULL, 'X'},
        {"unix", required_argument, NULL, 'U'},
        {"udp", no_argument, NULL, 'u'},
        {"no-tui", no_argument, NULL, 'T'},
        {"reconnect", no_argument, NULL, 'r'},
        {"tls", no_argument, NULL, 1},
        {"tls-ca", required_argument, NULL, 2},
        {"tls-insecure", no_argument, NULL, 3},
        {"tls-fingerprint", required_argument, NULL, 4},
        {"tls-cert", required_argument, NULL, 5},
        {"tls-key", required_argument, NULL, 6},
        {"password-file", required_argument, NULL, 7},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    client_opts o = {0};
    char fp[TLS_FPLEN];
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
        case 1: o.tls = 1; break;
        case 2: o.tls = 1, o.tls_ca = optarg; break;
        case 3: o.tls = 1, o.tls_insecure = 1; break;
        case 4:
            if (tls_fingerprint_parse(optarg, fp) < 0) {
                fprintf(stderr,
                        "hichat: --tls-fingerprint %s: not a SHA-256 fingerprint (64 "
                        "hex digits, colons allowed)\n",
                        optarg);
                return EXIT_USAGE;
            }
            o.tls = 1, o.tls_fingerprint = fp;
            break;
        case 5: o.tls = 1, o.tls_cert = optarg; break;
        case 6: o.tls = 1, o.tls_key = optarg; break;
        case 7: o.password_file = optarg; break;
        case 'h': fputs(usage_connect, stdout); return 0;
        default: fprintf(stderr, "\n%s", usage_connect); return EXIT_USAGE;
        }
    }
    if (o.udp && o.reconnect)
        return usage_error(usage_connect, "--reconnect is for streams: UDP has no connection "
                                          "to lose (the client keeps itself joined)");
    if (o.udp && o.tls)
        return usage_error(usage_connect, "UDP is always plaintext: --tls cannot be used with "
                                          "--udp");
    if (o.unix_path && o.tls)
        return usage_error(usage_connect, "--tls is for TCP: a server's Unix socket is local "
                                          "and plaintext");
    if (o.tls_insecure && o.tls_fingerprint)
        return usage_error(usage_connect, "--tls-insecure and --tls-fingerprint contradict "
                                          "each other");
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
