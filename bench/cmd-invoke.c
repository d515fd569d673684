/* SPDX-License-Identifier: MIT */
/* cmd-invoke.c: `fcstart invoke NAME`: pass our stdio to a pre-warmed
 * sandbox through the daemon (SCM_RIGHTS) and exit with the function's
 * status. The response goes from the function straight to our stdout. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/mman.h>
#include <yajl/yajl_tree.h>

#include "commands.h"
#include "fcpool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fcstart invoke [--socket PATH] NAME [--data @FILE | --data - | --data TEXT]\n"
		"                      [--env K=V]... [--verbose]\n"
		"  The request is the function's stdin (empty without --data), the response its\n"
		"  stdout; the exit status is the function's (125: fcstart error, 124: timeout).\n");
}

/* An fd reading TEXT from its start (memfd, any size). */
static int text_fd(const char *text)
{
	int fd = memfd_create("fcstart-data", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fc_write_all(fd, text, strlen(text)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

int cmd_invoke(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 'S' }, { "data", required_argument, NULL, 'd' },
		{ "env", required_argument, NULL, 'e' },    { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	    { 0 }
	};
	const char *sock = NULL, *data = NULL;
	bool verbose = false;
	struct fc_buf b = { 0 };
	size_t nenv = 0;
	int c;
	fc_buf_printf(&b, "{\"op\":\"invoke\",\"env\":[");
	while ((c = getopt_long(argc, argv, "+hv", lo, NULL)) != -1) {
		switch (c) {
		case 'S': sock = optarg; break;
		case 'd': data = optarg; break;
		case 'v': verbose = true; break;
		case 'e':
			if (!strchr(optarg, '=')) {
				fprintf(stderr, "fcstart invoke: --env `%s`: expected KEY=VALUE\n", optarg);
				return 125;
			}
			if (nenv++)
				fc_buf_printf(&b, ",");
			fc_buf_json_string(&b, optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 125;
		}
	}
	/* flags may also follow NAME */
	const char *name = NULL;
	for (; optind < argc; optind++) {
		if (!name && argv[optind][0] != '-') {
			name = argv[optind];
			continue;
		}
		int k = optind;
		if (FC_STREQ(argv[k], "--data") && k + 1 < argc)
			data = argv[++optind];
		else if (FC_STREQ(argv[k], "--env") && k + 1 < argc) {
			if (nenv++)
				fc_buf_printf(&b, ",");
			fc_buf_json_string(&b, argv[++optind]);
		} else if (FC_STREQ(argv[k], "--socket") && k + 1 < argc)
			sock = argv[++optind];
		else if (FC_STREQ(argv[k], "--verbose") || FC_STREQ(argv[k], "-v"))
			verbose = true;
		else {
			usage(stderr);
			return 125;
		}
	}
	if (!name) {
		usage(stderr);
		return 125;
	}
	fc_buf_printf(&b, "],\"name\":");
	fc_buf_json_string(&b, name);
	fc_buf_printf(&b, "}");

	_cleanup_close_ int in = -1;
	if (!data) {
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	} else if (FC_STREQ(data, "-")) {
		in = fcntl(0, F_DUPFD_CLOEXEC, 3);
	} else if (data[0] == '@') {
		in = open(data + 1, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			fprintf(stderr, "fcstart invoke: --data `%s`: %s\n", data + 1, strerror(errno));
			free(b.data);
			return 125;
		}
	} else {
		in = text_fd(data);
	}
	if (in < 0) {
		fprintf(stderr, "fcstart invoke: request data: %s\n", strerror(-in > 0 ? -in : errno));
		free(b.data);
		return 125;
	}
	struct fc_error *e = NULL;
	_cleanup_close_ int fd = fcpool_connect(sock, &e);
	int fds[3] = { in, 1, 2 };
	if (fd < 0 || fcpool_send(fd, b.data, fds, 3, &e) < 0) {
		free(b.data);
		fprintf(stderr, "fcstart invoke: %s\n", e ? e->msg : "failed");
		fc_error_free(e);
		return 125;
	}
	free(b.data);
	close(TAKE_FD(in));
	for (;;) {
		char *reply = NULL;
		if (fcpool_recv(fd, &reply, &e) < 0) {
			fprintf(stderr, "fcstart invoke `%s`: the daemon closed the connection\n", name);
			fc_error_free(e);
			return 125;
		}
		yajl_val v = yajl_tree_parse(reply, NULL, 0);
		const char *pok[] = { "ok", NULL }, *pev[] = { "event", NULL }, *perr[] = { "error", NULL };
		const char *pst[] = { "status", NULL }, *pto[] = { "timeout", NULL };
		yajl_val ok = v ? yajl_tree_get(v, pok, yajl_t_any) : NULL;
		yajl_val ev = v ? yajl_tree_get(v, pev, yajl_t_string) : NULL;
		if (!ok || !YAJL_IS_TRUE(ok)) {
			yajl_val er = v ? yajl_tree_get(v, perr, yajl_t_string) : NULL;
			fprintf(stderr, "fcstart invoke `%s`: %s\n", name, er ? YAJL_GET_STRING(er) : reply);
			yajl_tree_free(v);
			free(reply);
			return 125;
		}
		if (verbose)
			fprintf(stderr, "fcstart invoke: %s\n", reply);
		const char *evs = ev ? YAJL_GET_STRING(ev) : NULL;
		if (evs && FC_STREQ(evs, "exit")) {
			yajl_val st = yajl_tree_get(v, pst, yajl_t_number);
			yajl_val to = yajl_tree_get(v, pto, yajl_t_any);
			int rc = st && YAJL_IS_INTEGER(st) ? (int)YAJL_GET_INTEGER(st) : 125;
			if (to && YAJL_IS_TRUE(to)) {
				fprintf(stderr, "fcstart invoke `%s`: timed out\n", name);
				rc = 124;
			}
			yajl_tree_free(v);
			free(reply);
			return rc;
		}
		yajl_tree_free(v);
		free(reply);
	}
}
