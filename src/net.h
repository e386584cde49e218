/* net.h - resolving, listening, accepting and connecting (TCP, IPv4/IPv6).
 *
 * Errors are written into a caller's buffer as "what: ENAME (text) - hint"
 * and errno is preserved; nothing here prints or exits. */
#ifndef HICHAT_NET_H
#define HICHAT_NET_H

#include <stddef.h>
#include <sys/socket.h>

#define NET_ADDRSTRLEN 120 /* "[" v6 "%scope" "]:" port, or "unix:" and a path */
#define NET_ERRLEN     256

/* Splits "HOST", "HOST:PORT", "[V6]:PORT", "[V6]" or a bare IPv6 address into
 * host and port (defport when none is given). Returns 0, or -1 with a reason
 * in err. */
int net_split_hostport(const char *s, const char *defport, char *host, size_t hostsz, char *port,
                       size_t portsz, char *err, size_t errsz);

/* Binds a non-blocking TCP listener on host:port (the first address that
 * works; "::" is dual-stack) with SO_REUSEADDR and the given backlog.
 * Returns the fd, or -1 with err set. */
int net_listen_tcp(const char *host, const char *port, int backlog, char *err, size_t errsz);

/* The addresses of host:port for a TCP connection (freeaddrinfo them), or
 * -1 with err set ("cannot resolve ..."). */
struct addrinfo;
int net_resolve_tcp(const char *host, const char *port, struct addrinfo **res, char *err,
                    size_t errsz);

/* Connects to host:port, trying each address getaddrinfo returns, each for at
 * most timeout_ms. Blocking while it tries (clients call it before their loop
 * starts); returns a connected non-blocking fd, or -1 with err set. */
int net_connect_tcp(const char *host, const char *port, int timeout_ms, char *err, size_t errsz);

/* Binds a non-blocking UDP socket on host:port (the first address that
 * works; "::" is dual-stack). Returns the fd, or -1 with err set. */
int net_bind_udp(const char *host, const char *port, char *err, size_t errsz);

/* A non-blocking UDP socket connected to host:port (so that it hears only
 * from there, and ICMP errors come back as ECONNREFUSED). -1 with err set. */
int net_connect_udp(const char *host, const char *port, char *err, size_t errsz);

/* Binds a non-blocking Unix-domain stream listener at path. A socket file
 * already there is removed only if nothing answers on it (a stale one from a
 * server that died); anything else there is an error. The file gets mode
 * 0777 less the umask: whoever may write it may connect. Returns the fd, or
 * -1 with err set. */
int net_listen_unix(const char *path, int backlog, char *err, size_t errsz);

/* Connects to the Unix-domain stream socket at path; a non-blocking fd, or
 * -1 with err set. */
int net_connect_unix(const char *path, char *err, size_t errsz);

/* accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; the peer's address into *ss and
 * as text into addr (NET_ADDRSTRLEN). Returns the fd or -1 with errno. */
int net_accept(int lfd, struct sockaddr_storage *ss, char *addr);

/* "host:port", or "[host]:port" for an IPv6 address: how hichat names what
 * it binds or connects to in messages. */
void net_target(const char *host, const char *port, char *out, size_t sz);

/* "1.2.3.4:5", "[::1]:5", or "unix:PATH". */
void net_addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t outsz);
/* What `ss -tie` and `lsof -i` would say of a connected socket, as one line
 * of "key=value" fields: local and peer address, state, TCP_INFO (rtt,
 * rttvar, cwnd, retransmits, unacked; TCP only) and the kernel's send and
 * receive queue bytes. */
void net_sock_info(int fd, char *out, size_t outsz);

/* For a listener bound to a wildcard address (0.0.0.0, or :: which takes
 * IPv4 too), every address of this machine's interfaces with its port, as
 * "127.0.0.1:6666, [::1]:6666, ..." into out. Returns how many, or 0 when
 * fd is bound to one address (or getifaddrs fails). */
int net_wildcard_addrs(int fd, char *out, size_t outsz);

/* The local address of fd as text; -1 with errno on failure. */
int net_local_str(int fd, char *out, size_t outsz);

#endif
