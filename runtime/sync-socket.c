/* SPDX-License-Identifier: MIT */
/* sync-socket.c: the sync socket between the runtime and a container's init
 * (enum fc_sync_msg in internal.h): one SOCK_SEQPACKET message per step of
 * create, and the start message of a socket wait (fcrun run, the pool's
 * hand-over) with its stdio descriptors by SCM_RIGHTS. */
#include "internal.h"

#include <sys/socket.h>
#include <sys/uio.h>

int fc_sync_send(int fd, uint32_t type, int32_t value, const char *text)
{
	struct fc_sync m = {.type = type, .value = value};
	size_t len = offsetof(struct fc_sync, text);
	if (text) {
		size_t n = strnlen(text, sizeof(m.text) - 1);
		memcpy(m.text, text, n);
		m.text[n] = '\0';
		len += n + 1;
	}
	for (;;) {
		ssize_t r = send(fd, &m, len, MSG_NOSIGNAL);
		if (r >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int fc_sync_recv(int fd, struct fc_sync *m)
{
	bool reset = false;
	for (;;) {
		ssize_t r = recv(fd, m, sizeof(*m), 0);
		if (r < 0 && errno == EINTR)
			continue;
		/* A peer that exits with a message of ours unread leaves us
		 * ECONNRESET, reported before what it sent first (its error
		 * message): the error is consumed, the next recv reads on. */
		if (r < 0 && errno == ECONNRESET && !reset) {
			reset = true;
			continue;
		}
		if (r < 0)
			return -errno;
		if (r < (ssize_t)offsetof(struct fc_sync, text))
			return -EPIPE;
		if (r == (ssize_t)offsetof(struct fc_sync, text))
			m->text[0] = '\0';
		else
			m->text[sizeof(m->text) - 1] = '\0';
		return 0;
	}
}

int fc_sync_send_fds(int fd, uint32_t type, int32_t value, const void *payload, size_t len,
                     const int *fds, size_t nfds)
{
	struct fc_sync m = {.type = type, .value = value};
	char cbuf[CMSG_SPACE(4 * sizeof(int))] = {0};
	if (len > sizeof(m.text) || nfds > 4)
		return -E2BIG;
	if (len)
		memcpy(m.text, payload, len);
	struct iovec iov = {.iov_base = &m, .iov_len = offsetof(struct fc_sync, text) + len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	for (;;) {
		if (sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int fc_sync_recv_fds(int fd, struct fc_sync *m, size_t *len, int *fds, size_t *nfds)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t r;
	size_t max = *nfds;
	*nfds = 0;
	do
		r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r < (ssize_t)offsetof(struct fc_sync, text))
		return -EPIPE;
	*len = (size_t)r - offsetof(struct fc_sync, text);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++) {
			if (*nfds < max)
				fds[(*nfds)++] = in[i];
			else
				close(in[i]);
		}
	}
	return 0;
}
