/* SPDX-License-Identifier: MIT */
/* cmd-invoke.c: `fcstart invoke NAME`: pass our stdio to a pre-warmed
 * sandbox through the daemon (SCM_RIGHTS) and exit with the function's
 * status. The response goes from the function straight to our stdout. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "fcpool-cmd.h"
#include "fcpool.h"

struct http_req {
	const char *path, *method;
	bool include;
	bool has_data;
};

/* Speak HTTP/1.1 on the connected socket the daemon passed us. */
static int http_exchange(int sock, int in, const struct http_req *h, const char *name)
{
	struct fc_buf body = {0};
	int fl = fcntl(sock, F_GETFL);
	if (fl >= 0)
		fcntl(sock, F_SETFL, fl & ~O_NONBLOCK); /* the daemon connected it non-blocking */
	if (h->has_data) {
		char tmp[65536];
		ssize_t n;
		while ((n = read(in, tmp, sizeof(tmp))) > 0)
			fc_buf_append(&body, tmp, (size_t)n);
	}
	const char *method = h->method ? h->method : h->has_data ? "POST" : "GET";
	struct fc_buf req = {0};
	/* HTTP/1.1, the body's length given and the connection never half closed:
	 * Go's servers (the OpenFaaS watchdogs) take a half-close for a client
	 * that left; "Connection: close" ends the answer where the stream does */
	fc_buf_printf(
	    &req,
	    "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: fcstart\r\nConnection: close\r\n",
	    method, h->path ? h->path : "/");
	if (h->has_data)
		fc_buf_printf(&req,
		              "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n",
		              body.len);
	fc_buf_printf(&req, "\r\n");
	if (body.len)
		fc_buf_append(&req, body.data, body.len);
	free(body.data);
	int r = fc_write_all(sock, req.data, req.len);
	free(req.data);
	if (r < 0) {
		fprintf(stderr, "fcstart invoke `%s`: send the request: %s\n", name, strerror(-r));
		return 125;
	}
	struct fc_buf resp = {0};
	char tmp[65536];
	ssize_t n;
	size_t body_off = 0;
	int status = 0;
	bool header_done = false;
	while ((n = read(sock, tmp, sizeof(tmp))) > 0) {
		fc_buf_append(&resp, tmp, (size_t)n);
		if (!header_done) {
			/* CRLF CRLF, or LF LF from a lenient server (CGI output) */
			char *end = memmem(resp.data, resp.len, "\r\n\r\n", 4);
			char *lf = memmem(resp.data, resp.len, "\n\n", 2);
			size_t sep = 4;
			if (lf && (!end || lf < end)) {
				end = lf;
				sep = 2;
			}
			if (!end)
				continue;
			header_done = true;
			body_off = (size_t)(end - resp.data) + sep;
			sscanf(resp.data, "HTTP/%*d.%*d %d", &status);
			size_t from = h->include ? 0 : body_off;
			fc_write_all(1, resp.data + from, resp.len - from);
		} else {
			fc_write_all(1, tmp, (size_t)n);
		}
	}
	if (!header_done) {
		fprintf(stderr, "fcstart invoke `%s`: no HTTP response (%zu bytes)\n", name,
		        resp.len);
		free(resp.data);
		return 125;
	}
	free(resp.data);
	if (status < 200 || status > 299) {
		fprintf(stderr, "fcstart invoke `%s`: HTTP status %d\n", name, status);
		return 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: fcstart invoke [--socket PATH] NAME [--data @FILE | --data - | --data TEXT]\n"
	    "                      [--env K=V]... [--path /P] [--method M] [--include] "
	    "[--verbose]\n"
	    "  Classic functions: the request is the function's stdin (empty without --data),\n"
	    "  the response its stdout; the exit status is the function's (125: fcstart error,\n"
	    "  124: timeout).\n"
	    "  HTTP functions: the data is the body of an HTTP request (POST with --data, else\n"
	    "  GET; --path, default /) sent to the function's 127.0.0.1:8080; the response body\n"
	    "  goes to stdout (--include: with status line and headers); exit status 0 for 2xx,\n"
	    "  1 otherwise.\n");
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

static void strv_push(char ***v, const char *s)
{
	size_t n = fc_strv_len(*v);
	*v = fc_realloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = fc_strdup(s);
	(*v)[n + 1] = NULL;
}

static bool env_ok(const char *kv)
{
	if (strchr(kv, '='))
		return true;
	fprintf(stderr, "fcstart invoke: --env `%s`: expected KEY=VALUE\n", kv);
	return false;
}

int cmd_invoke(int argc, char **argv)
{
	static const struct option lo[] = {{"socket", required_argument, NULL, 'S'},
	                                   {"data", required_argument, NULL, 'd'},
	                                   {"env", required_argument, NULL, 'e'},
	                                   {"verbose", no_argument, NULL, 'v'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {"path", required_argument, NULL, 'p'},
	                                   {"method", required_argument, NULL, 'm'},
	                                   {"include", no_argument, NULL, 'i'},
	                                   {0}};
	struct http_req hr = {0};
	const char *sock = NULL, *data = NULL;
	bool verbose = false;
	_cleanup_strv_ char **env = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+hv", lo, NULL)) != -1) {
		switch (c) {
		case 'S':
			sock = optarg;
			break;
		case 'd':
			data = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'p':
			hr.path = optarg;
			break;
		case 'm':
			hr.method = optarg;
			break;
		case 'i':
			hr.include = true;
			break;
		case 'e':
			if (!env_ok(optarg))
				return 125;
			strv_push(&env, optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 125;
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
			if (!env_ok(argv[++optind]))
				return 125;
			strv_push(&env, argv[optind]);
		} else if (FC_STREQ(argv[k], "--socket") && k + 1 < argc)
			sock = argv[++optind];
		else if (FC_STREQ(argv[k], "--verbose") || FC_STREQ(argv[k], "-v"))
			verbose = true;
		else if (FC_STREQ(argv[k], "--path") && k + 1 < argc)
			hr.path = argv[++optind];
		else if (FC_STREQ(argv[k], "--method") && k + 1 < argc)
			hr.method = argv[++optind];
		else if (FC_STREQ(argv[k], "--include") || FC_STREQ(argv[k], "-i"))
			hr.include = true;
		else {
			usage(stderr);
			return 125;
		}
	}
	if (!name) {
		usage(stderr);
		return 125;
	}

	_cleanup_close_ int in = -1;
	if (!data) {
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	} else if (FC_STREQ(data, "-")) {
		in = fcntl(0, F_DUPFD_CLOEXEC, 3);
	} else if (data[0] == '@') {
		in = open(data + 1, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			fprintf(stderr, "fcstart invoke: --data `%s`: %s\n", data + 1,
			        strerror(errno));
			return 125;
		}
	} else {
		in = text_fd(data);
	}
	if (in < 0) {
		fprintf(stderr, "fcstart invoke: request data: %s\n",
		        strerror(-in > 0 ? -in : errno));
		return 125;
	}
	struct fc_error *e = NULL;
	struct fcpool_invoke_args a = {.name = name, .env = env, .stdio = {in, 1, 2}};
	_cleanup_close_ int fd = fcpool_client_invoke(sock, &a, &e);
	if (fd < 0) {
		fprintf(stderr, "fcstart invoke: %s\n", e ? e->msg : "failed");
		fc_error_free(e);
		return 125;
	}
	hr.has_data = data != NULL;
	for (;;) {
		struct fcpool_event ev;
		int r = fcpool_client_event(fd, &ev, &e);
		if (r < 0) {
			if (r == -ECONNRESET)
				fprintf(stderr,
				        "fcstart invoke `%s`: the daemon closed the connection\n",
				        name);
			else
				fprintf(stderr, "fcstart invoke `%s`: %s\n", name,
				        e ? e->msg : "failed");
			fc_error_free(e);
			return 125;
		}
		if (verbose) {
			struct fc_buf b = {0};
			fcpool_event_json(&ev, &b);
			fprintf(stderr, "fcstart invoke: %s\n", b.data);
			free(b.data);
		}
		if (ev.kind == FCPOOL_EV_CONNECTED) {
			/* an HTTP function: the daemon passed a connected socket */
			int rc = http_exchange(ev.sock, in, &hr, name);
			close(ev.sock);
			return rc; /* closing our connection frees the instance */
		}
		if (ev.kind == FCPOOL_EV_EXIT) {
			if (ev.timeout) {
				fprintf(stderr, "fcstart invoke `%s`: timed out\n", name);
				return 124;
			}
			return ev.status;
		}
	}
}
