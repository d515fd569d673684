/* SPDX-License-Identifier: MIT */
/* notify.c: sd_notify through fcrun, as runc does it. With NOTIFY_SOCKET in
 * fcrun's environment (systemd's Type=notify, or an engine's), create and
 * run give the container <state>/notify bound read-only at /run/notify and
 * NOTIFY_SOCKET=/run/notify/notify.sock; run and start listen there (a
 * datagram socket) and pass the container's READY=... on to the host's
 * NOTIFY_SOCKET, followed by MAINPID=<pid> (the container's init, or fcrun
 * itself when it stays in the foreground), once. */
#include "cli.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

const char *fc_notify_host(void)
{
	const char *h = getenv("NOTIFY_SOCKET");
	return h && *h ? h : NULL;
}

int fc_notify_listen(const char *root, const char *id, struct fc_notify *n)
{
	n->fd = -1;
	n->host = fc_notify_host();
	if (!n->host)
		return 0;
	_cleanup_free_ char *path = fc_asprintf("%s/%s/notify/notify.sock", root, id);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return fc_cli_failf("notify socket `%s`: path too long", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0777) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return fc_cli_failf("notify socket `%s`: %s", path, strerror(e));
	}
	n->fd = fd;
	return 0;
}

/* Send a datagram to the host's NOTIFY_SOCKET ('@' names an abstract one). */
static void to_host(const char *host, const char *msg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(host);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, host, len);
	if (host[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)!sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	              (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
}

bool fc_notify_read(struct fc_notify *n, pid_t mainpid)
{
	char buf[4096];
	ssize_t len;
	while ((len = recv(n->fd, buf, sizeof(buf) - 1, 0)) > 0 || (len < 0 && errno == EINTR)) {
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* as runc: a datagram that starts with READY= */
		if (strncmp(buf, "READY=", 6) != 0)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		_cleanup_free_ char *ready = fc_asprintf("%s\n", buf);
		_cleanup_free_ char *main = fc_asprintf("MAINPID=%d\n", (int)mainpid);
		to_host(n->host, ready);
		to_host(n->host, main);
		fc_notify_close(n);
		return true;
	}
	return false;
}

void fc_notify_wait(struct fc_notify *n, int pidfd, pid_t mainpid)
{
	while (n->fd >= 0) {
		struct pollfd p[2] = {{.fd = n->fd, .events = POLLIN},
		                      {.fd = pidfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if ((p[0].revents & POLLIN) && fc_notify_read(n, mainpid))
			break;
		if (p[1].revents)
			break; /* the container is gone before it was ready */
	}
	fc_notify_close(n);
}

void fc_notify_close(struct fc_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
