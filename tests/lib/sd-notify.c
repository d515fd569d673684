/* SPDX-License-Identifier: MIT */
/* sd-notify MESSAGE: send MESSAGE as one datagram to $NOTIFY_SOCKET, as
 * sd_notify(3) does ('@' names an abstract socket). A test helper, linked
 * statically by the test that copies it into a container's rootfs. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (argc != 2 || !path || !*path || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: NOTIFY_SOCKET=PATH sd-notify MESSAGE\n");
		return 2;
	}
	size_t len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&sa,
	                     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		perror("sd-notify");
		return 1;
	}
	close(fd);
	return 0;
}
