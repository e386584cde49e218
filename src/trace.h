/* trace.h - every socket-related system call hichat makes, and, when asked
 * (--trace), each one printed as strace prints it:
 *
 *   socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 3
 *   connect(3, {sa_family=AF_INET, sin_port=htons(6666), ...}, 16) = -1 ECONNREFUSED (...)
 *
 * The wrappers make the call, then (if tracing) print it with its real
 * arguments and result; errno is what the call left. Strings are shown as
 * strace shows them by default: at most 32 bytes, C escapes, octal for the
 * rest. The rest of a line that begins "/pass " shows as ***, however the
 * line is cut into calls: each descriptor's place in its line is kept (one
 * byte per descriptor, while tracing). This module prints by design: it is
 * the one place that does. */
#ifndef HICHAT_TRACE_H
#define HICHAT_TRACE_H

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Starts tracing to fd (kept open by the caller); -1 stops. */
void trace_to(int fd);
/* Where tracing goes, or -1. */
int trace_fd(void);

int trace_socket(int domain, int type, int protocol);
int trace_bind(int fd, const struct sockaddr *sa, socklen_t len);
int trace_listen(int fd, int backlog);
int trace_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags);
int trace_connect(int fd, const struct sockaddr *sa, socklen_t len);
int trace_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int trace_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int trace_getsockname(int fd, struct sockaddr *sa, socklen_t *len);
int trace_getpeername(int fd, struct sockaddr *sa, socklen_t *len);
ssize_t trace_read(int fd, void *buf, size_t n);
ssize_t trace_write(int fd, const void *buf, size_t n);
ssize_t trace_writev(int fd, const struct iovec *iov, int cnt);
ssize_t trace_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len);
ssize_t trace_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
                     socklen_t len);
int trace_shutdown(int fd, int how);
int trace_close(int fd);
/* ioctl(fd, FIONREAD or SIOCOUTQ, &n): bytes to read, or not yet sent/acked. */
int trace_ioctl_int(int fd, unsigned long req, int *n);
int trace_poll(struct pollfd *p, nfds_t n, int timeout);
int trace_epoll_create1(int flags);
int trace_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev);
int trace_epoll_wait(int ep, struct epoll_event *ev, int max, int timeout);

#endif
