/* SPDX-License-Identifier: MIT */
/* fuzz-gateway: the OpenFaaS gateway's HTTP request path (prewarm/gateway.c
 * with the real libmicrohttpd, auth.c, proto.c and the daemon's loop) over a
 * fake daemon (fake-daemon.c), without a network: each input is an HTTP
 * request written into one end of a socketpair whose other end the gateway
 * serves. Up to the marker "@@RESPONSE@@", the input is the request; after
 * it, what the HTTP function's instance answers the gateway's relay.
 *
 * Checked: the gateway answers with a well-formed status line, or closes; it
 * never hangs; no control operation (deploy, remove, scale) reaches the
 * daemon unless the request carries the gateway's credentials; no crash,
 * leak or undefined behaviour. */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fake-daemon.h"
#include "frontends.h"
#include "fuzz.h"

#define CREDS      "admin:s3cret"
#define CREDS_B64  "YWRtaW46czNjcmV0" /* base64 of CREDS: in every authorized request */
#define MARKER     "@@RESPONSE@@"
#define MAX_BODY   16384
#define IDLE_NS    (10 * 1000000ULL)
#define DEADLINE_S 10

static char *auth_dir, *auth_path;

static void cleanup(void)
{
	unlink(auth_path);
	rmdir(auth_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	signal(SIGPIPE, SIG_IGN);
	fc_log_open(NULL, FC_LOG_TEXT, FC_LOG_ERROR);
	const char *tmp = getenv("TMPDIR");
	auth_dir = fc_asprintf("%s/fcstart-fuzz-gateway.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(auth_dir), "mkdtemp %s", auth_dir);
	auth_path = fc_asprintf("%s/basic-auth", auth_dir);
	atexit(cleanup);
	FUZZ_CHECK(fc_write_file_atomic_at(AT_FDCWD, auth_path, CREDS "\n", strlen(CREDS) + 1, 0600,
	                                   NULL) == 0,
	           "write %s", auth_path);
	return 0;
}

struct client {
	struct loop *l;
	int fd;
	struct fc_buf resp;
	bool eof, closed_write;
	uint64_t last_activity, deadline;
};

/* The whole response is there: headers and Content-Length bytes of body. */
static bool response_complete(const struct fc_buf *b)
{
	const char *end = b->data ? memmem(b->data, b->len, "\r\n\r\n", 4) : NULL;
	if (!end)
		return false;
	size_t head = (size_t)(end - b->data) + 4;
	_cleanup_free_ char *h = fc_strndup(b->data, head);
	for (char *p = h; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	const char *cl = strstr(h, "\r\ncontent-length:");
	if (!cl)
		return false; /* until the connection closes */
	return b->len - head >= strtoull(cl + 17, NULL, 10);
}

static void on_client(void *data, short revents)
{
	struct client *c = data;
	char buf[65536];
	ssize_t n;
	while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
		fc_buf_append(&c->resp, buf, (size_t)n);
		c->last_activity = fc_now_ns();
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    (revents & (POLLHUP | POLLERR))) {
		c->eof = true;
		loop_stop(c->l);
	} else if (response_complete(&c->resp)) {
		loop_stop(c->l);
	}
}

static int before(void *data, uint64_t now)
{
	return 2;
}

/* A request the gateway waits on (incomplete, or its body still to come)
 * gets the end of the client's writing once nothing happened for a while:
 * then the gateway must finish or close. */
static void after(void *data, uint64_t now)
{
	struct client *c = data;
	if (now > c->deadline) {
		loop_stop(c->l);
		return;
	}
	if (!c->closed_write && now - c->last_activity > IDLE_NS) {
		shutdown(c->fd, SHUT_WR);
		c->closed_write = true;
	}
}

static void check_status_line(const struct fc_buf *b)
{
	if (!b->len)
		return; /* closed without an answer: a request it could not read */
	FUZZ_CHECK(b->len >= 13 && memcmp(b->data, "HTTP/1.", 7) == 0 &&
	               (b->data[7] == '0' || b->data[7] == '1') && b->data[8] == ' ' &&
	               b->data[9] >= '1' && b->data[9] <= '9' && b->data[10] >= '0' &&
	               b->data[10] <= '9' && b->data[11] >= '0' && b->data[11] <= '9' &&
	               b->data[12] == ' ',
	           "the gateway's answer does not start with a status line: %.*s",
	           (int)(b->len < 80 ? b->len : 80), b->data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loop *l = loop_new();
	struct daemon *daemon_fake = fake_daemon_new(l); /* functions echo and web, nothing else */
	const char *marker = memmem(data, size, MARKER, strlen(MARKER));
	size_t req_len = marker ? (size_t)(marker - (const char *)data) : size;
	if (req_len > 100000)
		req_len = 100000; /* the socket holds it before the gateway reads */
	if (marker) {
		size_t off = req_len + strlen(MARKER);
		size_t len = size - off;
		fake_daemon_http_response(daemon_fake, data + off, len > 100000 ? 100000 : len);
	}

	struct fcpool_serve_opts o = {.basic_auth_file = auth_path, .max_body = MAX_BODY};
	struct gateway *g = NULL;
	struct fc_error *err = NULL;
	FUZZ_CHECK(gateway_start(daemon_fake, l, &o, &g, &err) == 0, "gateway_start: %s",
	           err ? err->msg : "?");
	int sp[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0, "socketpair");
	FUZZ_CHECK(fc_write_all(sp[0], data, req_len) == 0, "write the request");
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	FUZZ_CHECK(gateway_add_connection(g, sp[1], &err) == 0, "add connection: %s",
	           err ? err->msg : "?");
	struct client c = {.l = l,
	                   .fd = sp[0],
	                   .last_activity = fc_now_ns(),
	                   .deadline = fc_now_ns() + DEADLINE_S * 1000000000ULL};
	struct loop_watch *w = loop_watch(l, sp[0], POLLIN, on_client, &c);
	loop_hook(l, before, after, &c);
	FUZZ_CHECK(loop_run(l, &err) == 0, "loop: %s", err ? err->msg : "?");
	FUZZ_CHECK(c.eof || response_complete(&c.resp) || fc_now_ns() <= c.deadline,
	           "the gateway neither answered nor closed within %d s", DEADLINE_S);
	loop_unhook(l, &c);
	loop_unwatch(w);
	close(sp[0]); /* the client leaves: what is left of the request ends */
	gateway_stop(g);
	loop_free(l);

	check_status_line(&c.resp);
	if (fake_daemon_controls(daemon_fake))
		FUZZ_CHECK(memmem(data, req_len, CREDS_B64, strlen(CREDS_B64)),
		           "a control operation reached the daemon without the credentials");
	fake_daemon_free(daemon_fake);
	if (getenv("FC_FUZZ_VERBOSE"))
		fprintf(stderr, "gateway: %.*s\n", (int)(c.resp.len < 200 ? c.resp.len : 200),
		        c.resp.data ? c.resp.data : "(closed without an answer)");
	free(c.resp.data);
	return 0;
}
