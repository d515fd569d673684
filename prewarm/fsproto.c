/* SPDX-License-Identifier: MIT */
/* fsproto.c: the daemon <-> fork server messages, the sandbox directories and
 * ids, a sandbox's loopback (fsproto.h). */
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>

#include "fsproto.h"

int fs_send(int fd, const struct fs_msg *m, int pass_fd, bool nonblock)
{
	return fs_send2(fd, m, pass_fd, -1, nonblock);
}

int fs_send2(int fd, const struct fs_msg *m, int pass_fd, int pass_fd2, bool nonblock)
{
	size_t len = offsetof(struct fs_msg, text) + strnlen(m->text, sizeof(m->text) - 1) + 1;
	struct iovec iov = {.iov_base = (void *)m, .iov_len = len};
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass_fd >= 0) {
		int fds[2] = {pass_fd, pass_fd2};
		size_t n = pass_fd2 >= 0 ? 2 : 1;
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

ssize_t fs_recv(int fd, struct fs_msg *m, int *pass_fd)
{
	return fs_recv2(fd, m, pass_fd, NULL);
}

ssize_t fs_recv2(int fd, struct fs_msg *m, int *pass_fd, int *pass_fd2)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	memset(m, 0, sizeof(*m));
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = u.buf,
	                    .msg_controllen = sizeof(u.buf)};
	*pass_fd = -1;
	if (pass_fd2)
		*pass_fd2 = -1;
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int fds[4];
			memcpy(fds, CMSG_DATA(c), k * sizeof(int));
			for (size_t i = 0; i < k; i++) {
				if (*pass_fd < 0)
					*pass_fd = fds[i];
				else if (pass_fd2 && *pass_fd2 < 0)
					*pass_fd2 = fds[i];
				else
					close(fds[i]);
			}
		}
	m->id[sizeof(m->id) - 1] = 0;
	m->fn[sizeof(m->fn) - 1] = 0;
	m->text[sizeof(m->text) - 1] = 0;
	return n;
}

char *sandbox_prefix(const char *root)
{
	_cleanup_free_ char *real = realpath(root, NULL);
	const char *s = real ? real : root;
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return fc_asprintf("fcs-%08x-", h);
}

void sandbox_dir_remove(const char *root, const char *id)
{
	_cleanup_free_ char *dir = fc_asprintf("%s/sandboxes/%s", root, id);
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", dir);
	umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW);
	umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW);
	struct fc_error *e = NULL;
	fc_rm_rf_at(AT_FDCWD, dir, &e);
	fc_error_free(e);
}

/* Bring lo up in the sandbox's network namespace (the runtime leaves it
 * down): functions reach themselves on 127.0.0.1, nothing else. */
int fs_loopback_up(pid_t pid, struct fc_error **err)
{
	_cleanup_free_ char *p = fc_asprintf("/proc/%d/ns/net", (int)pid);
	_cleanup_close_ int ns = open(p, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ns < 0 || self < 0)
		return fc_error_set(err, errno, "open `%s`", p);
	if (setns(ns, CLONE_NEWNET) < 0)
		return fc_error_set(err, errno, "setns `%s`", p);
	int r = 0, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = fc_error_set(err, errno, "loopback of `%s`", p);
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = fc_error_set(err, errno, "bring up the loopback of `%s`", p);
	}
	if (fd >= 0)
		close(fd);
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* cannot go on in the wrong namespace */
	return r;
}
