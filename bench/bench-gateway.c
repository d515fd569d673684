/* SPDX-License-Identifier: MIT */
/* bench-gateway.c: `fcstart bench gateway`: an HTTP function (a static HTTP
 * server, tests/lib/fwatchdog `serve`, in the busybox image) behind fcstart's
 * OpenFaaS gateway, side by side in one run with the same function under
 * Docker and the same nginx in front: the time to the first byte of the
 * answer through the unix-socket invoke (the baseline of the gateway's
 * overhead), through the gateway to a warm instance and to a never-used
 * sandbox, through nginx to the gateway and to a warm Docker container, and
 * `docker run` per request; then the throughput at concurrency C with hey
 * (the gateway, nginx to the gateway, nginx to the warm container). Warm
 * paths go in rounds, each round in a random order; a private daemon, a
 * private dockerd and nginx are started here and stopped after. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bench-gateway.h"
#include "bench.h"
#include "fcpool.h"
#include "fcsnap.h"

static const char gateway_usage[] =
    "usage: fcstart bench gateway [--watchdog PATH] [-n N] [--cold N] [--rounds R]\n"
    "                             [--load N] [--concurrency C] [--no-docker] [--no-nginx]\n"
    "  --watchdog PATH  a static HTTP server to put in the function's image: tests/lib/\n"
    "                   fwatchdog of a build (default: $FCSTART_WATCHDOG, else the build\n"
    "                   tree's, next to this fcstart)\n"
    "  -n N             first-byte samples of each warm path (default 500)\n"
    "  --cold N         samples of a never-used sandbox, and of docker run (default 20)\n"
    "  --rounds R       rounds the warm samples are split in (default 5)\n"
    "  --load N         requests of each hey run (default 10000); 0: no load\n"
    "  --concurrency C  hey's concurrency (default 50)\n";

enum path {
	P_API,        /* unix-socket invoke: a connected socket to the instance */
	P_GW,         /* the gateway, kept-alive connection */
	P_NGX_GW,     /* nginx -> the gateway */
	P_NGX_DOCKER, /* nginx -> a warm Docker container */
	P_WARM_N,
	P_GW_COLD = P_WARM_N, /* the gateway, a never-used sandbox */
	P_DOCKER_RUN,         /* docker run per request */
	P_N,
};
static const char *const path_names[P_N] = {
    "invoke (unix socket), warm instance", "gateway, warm instance",
    "nginx -> gateway, warm instance",     "nginx -> docker, warm container",
    "gateway, never-used sandbox",         "docker run per request"};

struct load {
	const char *name;
	bool ran;
	double rps, p50, p99;
	long ok, errors;
	char *note;
};

struct gstate {
	int n, cold, rounds, load, conc;
	bool docker, nginx;
	const char *watchdog;
	char *dir, *root, *sock, *store, *self, *image;
	pid_t daemon, nginx_pid;
	int port, nport, dport;
	double *v[P_N];
	size_t nv[P_N];
	char *err[P_N];
	struct load l[3];
	struct bench_engine eng;
	bool eng_up, container;
	char load0[64], load1[64];
};

/* ---- HTTP on a kept-alive connection -------------------------------------------------- */

static int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* A loopback port no socket holds now (the kernel's pick), other than
 * avoid1 and avoid2: the bench's servers bind it next. A fixed range met
 * ports in use now and then (nginx "did not listen" in a CI run). */
static int free_port(int avoid1, int avoid2)
{
	for (int tries = 0; tries < 16; tries++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof(a);
		int port = -1;
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
			port = ntohs(a.sin_port);
		close(fd);
		if (port > 0 && port != avoid1 && port != avoid2)
			return port;
	}
	return 30000 + (int)(bench_seed() % 10000); /* as before */
}

/* GET path on *fd (connected again when closed): ms to the first byte of
 * the answer; the whole answer is read (Content-Length). *cold: the
 * answer's X-Fcstart-Start said cold. */
static int http_get(int *fd, int port, const char *path, double *ms, bool *cold)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (*fd < 0 && (*fd = tcp_connect(port)) < 0)
			return *fd;
		char req[512];
		int rl =
		    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
		uint64_t t0 = fc_now_ns();
		if (fc_write_all(*fd, req, (size_t)rl) < 0) {
			close(*fd);
			*fd = -1;
			continue;
		}
		char buf[16384];
		size_t len = 0;
		double first = -1;
		ssize_t want = -1;
		for (;;) {
			ssize_t r = read(*fd, buf + len, sizeof(buf) - len - 1);
			if (r <= 0)
				break;
			if (first < 0)
				first = bench_ms_since(t0);
			len += (size_t)r;
			buf[len] = 0;
			char *end = strstr(buf, "\r\n\r\n");
			if (end && want < 0) {
				char *cl = strcasestr(buf, "\r\nContent-Length:");
				want =
				    (ssize_t)(end + 4 - buf) + (cl && cl < end ? atol(cl + 17) : 0);
			}
			if (want >= 0 && (ssize_t)len >= want)
				break;
			if (len == sizeof(buf) - 1)
				return -EMSGSIZE;
		}
		if (first < 0 || want < 0 || (ssize_t)len < want) {
			close(*fd);
			*fd = -1;
			if (first >= 0)
				return -EPROTO;
			continue; /* the connection had closed: once more on a new one */
		}
		if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
			return -EPROTO;
		*ms = first;
		if (cold)
			*cold = strstr(buf, "X-Fcstart-Start: cold") != NULL;
		return 0;
	}
	return -ECONNRESET;
}

/* ---- the daemon, its function ---------------------------------------------------------- */

static bool fn_running(struct gstate *g, unsigned *running, unsigned *waiting)
{
	struct fcpool_fn_list l;
	bool found = false;
	if (fcpool_client_stats(g->sock, &l, NULL) < 0)
		return false;
	for (size_t i = 0; i < l.n; i++)
		if (FC_STREQ(l.fns[i].spec.name, "fn")) {
			*running = l.fns[i].running;
			*waiting = l.fns[i].waiting;
			found = true;
		}
	fcpool_fn_list_clear(&l);
	return found;
}

static int start_daemon(struct gstate *g, struct fc_error **err)
{
	_cleanup_free_ char *log = fc_asprintf("%s/serve.log", g->dir);
	_cleanup_free_ char *http = fc_asprintf("127.0.0.1:%d", g->port);
	char *argv[] = {
	    g->self,          "serve", "--root",  g->root, "--store", g->store, "--socket", g->sock,
	    "--idle-timeout", "1s",    "--queue", "1000",  "--http",  http,     NULL};
	pid_t pid = bench_spawn_daemon(argv, log);
	if (pid < 0)
		return fc_error_set(err, -pid, "start fcstart serve");
	g->daemon = pid;
	for (int i = 0; i < 1000; i++) {
		if (fcpool_client_ping(g->sock, NULL) == 0)
			return 0;
		usleep(10000);
	}
	return fc_error_set(err, ETIMEDOUT, "the daemon did not answer (see %s)", log);
}

/* ---- the paths -------------------------------------------------------------------------- */

static void add_sample(struct gstate *g, enum path p, double ms)
{
	g->v[p] = fc_realloc(g->v[p], (g->nv[p] + 1) * sizeof(double));
	g->v[p][g->nv[p]++] = ms;
}

static void path_error(struct gstate *g, enum path p, const char *what, int r)
{
	if (!g->err[p])
		g->err[p] = fc_asprintf("%s: %s", what, strerror(-r));
}

/* One GET / through the unix-socket API: invoke to the first byte. */
static int api_once(struct gstate *g, double *ms)
{
	struct fcpool_invoke_args a = {.name = "fn", .stdio = {-1, -1, -1}};
	struct fcpool_event ev;
	struct fc_error *e = NULL;
	uint64_t t0 = fc_now_ns();
	_cleanup_close_ int fd = fcpool_client_invoke(g->sock, &a, &e);
	if (fd < 0 || fcpool_client_event(fd, &ev, &e) < 0 || ev.kind != FCPOOL_EV_CONNECTED) {
		fc_error_free(e);
		return -EIO;
	}
	_cleanup_close_ int tcp = ev.sock;
	fcntl(tcp, F_SETFL, fcntl(tcp, F_GETFL) & ~O_NONBLOCK);
	static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	struct bench_output o;
	int r = fc_write_all(tcp, req, sizeof(req) - 1);
	if (r >= 0)
		r = bench_read_output(tcp, t0, 10000, 0, &o);
	if (r < 0 || o.first_ms < 0 || strncmp(o.buf, "HTTP/1.1 200", 12) != 0)
		return -EIO;
	*ms = o.first_ms;
	return 0;
}

/* k samples of warm path p. */
static void warm(struct gstate *g, enum path p, int k, int *conn)
{
	for (int i = 0; i < k && !bench_stop; i++) {
		double ms = 0;
		int r;
		switch (p) {
		case P_API:
			r = api_once(g, &ms);
			break;
		case P_GW:
			r = http_get(&conn[p], g->port, "/function/fn", &ms, NULL);
			break;
		case P_NGX_GW:
			r = http_get(&conn[p], g->nport, "/function/fn", &ms, NULL);
			break;
		default:
			r = http_get(&conn[p], g->nport, "/docker/", &ms, NULL);
			break;
		}
		if (r < 0) {
			path_error(g, p, "a request failed", r);
			return;
		}
		add_sample(g, p, ms);
	}
}

/* One sample of a never-used sandbox: the instances of the function idle
 * out (--idle-timeout 1s), a waiting sandbox is there; then a request. */
static void cold_once(struct gstate *g)
{
	uint64_t end = fc_now_ns() + 15000000000ULL;
	unsigned running = 1, waiting = 0;
	while (fc_now_ns() < end && !bench_stop &&
	       (!fn_running(g, &running, &waiting) || running != 0 || waiting < 1))
		bench_sleep_ms(20, &bench_stop);
	if (running || !waiting) {
		path_error(g, P_GW_COLD, "the instances did not idle out", -ETIMEDOUT);
		return;
	}
	int fd = -1;
	double ms;
	bool cold = false;
	int r = http_get(&fd, g->port, "/function/fn", &ms, &cold);
	if (fd >= 0)
		close(fd);
	if (r < 0 || !cold)
		path_error(g, P_GW_COLD, "a request failed (or was not cold): %s",
		           r < 0 ? r : -EIO);
	else
		add_sample(g, P_GW_COLD, ms);
}

/* docker run per request: run the container, then the first byte of its
 * answer, from the start of `docker run`. */
static void docker_run_once(struct gstate *g, int i)
{
	_cleanup_free_ char *port = fc_asprintf("port=%d", g->dport + 1);
	_cleanup_free_ char *name = fc_asprintf("fcbench-gw-run-%d", i);
	char *argv[] = {g->eng.docker,
	                "--host",
	                g->eng.docker_host,
	                "run",
	                "-d",
	                "--rm",
	                "--name",
	                name,
	                "--network",
	                "host",
	                "-e",
	                port,
	                "-e",
	                "listen=127.0.0.1",
	                "fcbench/gw:latest",
	                NULL};
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.timeout_s = 60;
	uint64_t t0 = fc_now_ns();
	int r = bench_exec(&x);
	if (r < 0 || x.status != 0) {
		struct fc_error *e = NULL;
		bench_exec_error(&x, &e, "docker run");
		if (!g->err[P_DOCKER_RUN])
			g->err[P_DOCKER_RUN] = fc_strdup(e ? e->msg : "docker run failed");
		fc_error_free(e);
		return;
	}
	double ms = -1;
	int fd = -1;
	while (bench_ms_since(t0) < 20000 && !bench_stop) {
		if (http_get(&fd, g->dport + 1, "/", &ms, NULL) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
		usleep(500);
	}
	if (fd >= 0)
		close(fd);
	if (ms >= 0)
		add_sample(g, P_DOCKER_RUN, bench_ms_since(t0)); /* to the answer */
	else if (!g->err[P_DOCKER_RUN])
		g->err[P_DOCKER_RUN] = fc_strdup("the container did not answer within 20 s");
	char *rm[] = {g->eng.docker, "--host", g->eng.docker_host, "rm", "-f", name, NULL};
	bench_exec_quiet(rm, 60, NULL);
}

/* ---- load with hey ----------------------------------------------------------------------- */

static void load(struct gstate *g, struct load *l, int port, const char *path)
{
	_cleanup_free_ char *hey = bench_find_in_path("hey");
	if (!hey) {
		l->note = fc_strdup("hey is missing (apt-get install hey)");
		return;
	}
	_cleanup_free_ char *n = fc_asprintf("%d", g->load), *c = fc_asprintf("%d", g->conc);
	_cleanup_free_ char *url = fc_asprintf("http://127.0.0.1:%d%s", port, path);
	_cleanup_free_ char *outp = fc_asprintf("%s/hey.out", g->dir);
	_cleanup_close_ int out = open(outp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char *argv[] = {hey, "-n", n, "-c", c, url, NULL};
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.out = out;
	x.timeout_s = 600;
	x.stop = &bench_stop;
	if (out < 0 || bench_exec(&x) < 0 || x.status != 0) {
		l->note = fc_strdup("hey failed");
		return;
	}
	_cleanup_free_ char *text = NULL;
	if (fc_read_file_at(AT_FDCWD, outp, &text, NULL, 1 << 20, NULL) < 0)
		return;
	l->ran = true;
	const char *s;
	if ((s = strstr(text, "Requests/sec:")))
		l->rps = atof(s + 13);
	if ((s = strstr(text, "50% in ")))
		l->p50 = atof(s + 7) * 1000;
	if ((s = strstr(text, "99% in ")))
		l->p99 = atof(s + 7) * 1000;
	/* "[200]\t10000 responses", and an "Error distribution" when any */
	for (s = text; (s = strchr(s, '[')); s++) {
		int code;
		long cnt;
		if (sscanf(s, "[%d]%*[ \t]%ld responses", &code, &cnt) == 2) {
			if (code == 200)
				l->ok += cnt;
			else
				l->errors += cnt;
		} else if (sscanf(s, "[%ld]", &cnt) == 1 && strstr(text, "Error distribution") &&
		           s > strstr(text, "Error distribution")) {
			l->errors += cnt;
		}
	}
	if (l->ok + l->errors < g->load)
		l->errors += g->load - l->ok - l->errors; /* not answered at all */
}

/* ---- the report ---------------------------------------------------------------------------- */

static void report(struct gstate *g)
{
	struct bench_summary sum[P_N];
	printf("fcstart bench gateway: an HTTP function (fwatchdog serve in the busybox image),\n"
	       "first byte of the answer in ms, warm paths in %d rounds in random order;\n"
	       "load average %s at the start, %s at the end\n\n",
	       g->rounds, g->load0, g->load1);
	printf("| path | n | p50 | p95 | p99 |\n| --- | ---: | ---: | ---: | ---: |\n");
	for (int p = 0; p < P_N; p++) {
		bench_summarise(g->v[p], g->nv[p], &sum[p]);
		if (g->nv[p])
			printf("| %s | %zu | %.3f | %.3f | %.3f |\n", path_names[p], sum[p].n,
			       sum[p].median, sum[p].p95, sum[p].p99);
		else
			printf("| %s | 0 | | | |\n", path_names[p]);
		if (g->err[p])
			printf("|   (%s) | | | | |\n", g->err[p]);
	}
	printf("\n| load: hey -n %d -c %d | requests/s | p50 ms | p99 ms | errors |\n"
	       "| --- | ---: | ---: | ---: | ---: |\n",
	       g->load, g->conc);
	for (int i = 0; i < 3; i++) {
		if (!g->l[i].name)
			continue;
		if (g->l[i].ran)
			printf("| %s | %.0f | %.2f | %.2f | %ld |\n", g->l[i].name, g->l[i].rps,
			       g->l[i].p50, g->l[i].p99, g->l[i].errors);
		else
			printf("| %s | | | | (%s) |\n", g->l[i].name,
			       g->l[i].note ? g->l[i].note : "not run");
	}
	printf("\nagainst the targets:\n");
	if (g->nv[P_API] && g->nv[P_GW]) {
		double over = sum[P_GW].median - sum[P_API].median;
		printf("- the gateway's overhead over the unix-socket invoke, p50: %.3f ms (%.3f - "
		       "%.3f): %s (target <= 0.3 ms)\n",
		       over, sum[P_GW].median, sum[P_API].median, over <= 0.3 ? "met" : "missed");
	}
	for (int i = 0; i < 3; i++)
		if (g->l[i].ran && i < 2)
			printf(
			    "- %s: %.0f requests/s: %s (target >= 5,000 on 2 cores); %ld errors at "
			    "concurrency %d: %s\n",
			    g->l[i].name, g->l[i].rps, g->l[i].rps >= 5000 ? "met" : "missed",
			    g->l[i].errors, g->conc, g->l[i].errors ? "missed" : "met");
	if (g->nv[P_GW_COLD] && g->nv[P_DOCKER_RUN])
		printf("- a never-used sandbox through the gateway against docker run per request, "
		       "p50: %.1f against %.1f ms (%.0fx)\n",
		       sum[P_GW_COLD].median, sum[P_DOCKER_RUN].median,
		       sum[P_DOCKER_RUN].median / sum[P_GW_COLD].median);
}

/* ---- the command --------------------------------------------------------------------------- */

static void loadavg(char *out, size_t len)
{
	_cleanup_free_ char *t = NULL;
	snprintf(out, len, "?");
	if (fc_read_file_at(AT_FDCWD, "/proc/loadavg", &t, NULL, 4096, NULL) >= 0)
		snprintf(out, len, "%.*s", (int)strcspn(t, " "), t);
}

static char *default_watchdog(const char *self)
{
	const char *env = getenv("FCSTART_WATCHDOG");
	if (env && *env)
		return fc_strdup(env);
	_cleanup_free_ char *dir = fc_strdup(self);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	char *p = fc_asprintf("%s/../tests/lib/fwatchdog", dir); /* a build tree */
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static int start_nginx(struct gstate *g, struct fc_error **err)
{
	_cleanup_free_ char *conf = fc_asprintf("%s/nginx.conf", g->dir);
	_cleanup_free_ char *text = fc_asprintf(
	    "daemon off;\nworker_processes 2;\npid %s/nginx.pid;\nerror_log %s/nginx-error.log;\n"
	    "events { worker_connections 4096; }\nhttp {\n access_log off;\n"
	    " client_body_temp_path %s/ngx-body;\n proxy_temp_path %s/ngx-proxy;\n"
	    /* as contrib/nginx/fcstart.conf */
	    " upstream fcstart { server 127.0.0.1:%d; keepalive 64; }\n"
	    " upstream docker { server 127.0.0.1:%d; keepalive 64; }\n"
	    " server {\n  listen 127.0.0.1:%d;\n  client_max_body_size 50m;\n"
	    "  proxy_http_version 1.1;\n  proxy_set_header Connection \"\";\n"
	    "  proxy_read_timeout 300s;\n  proxy_send_timeout 300s;\n  proxy_buffering off;\n"
	    "  proxy_request_buffering off;\n"
	    "  location / { proxy_pass http://fcstart; }\n"
	    "  location /docker/ { proxy_pass http://docker/; }\n }\n}\n",
	    g->dir, g->dir, g->dir, g->dir, g->port, g->dport, g->nport);
	int r = fc_write_file_atomic_at(AT_FDCWD, conf, text, strlen(text), 0600, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *log = fc_asprintf("%s/nginx.log", g->dir);
	char *argv[] = {"/usr/sbin/nginx", "-p", g->dir, "-c", conf, NULL};
	pid_t pid = bench_spawn_daemon(argv, log);
	if (pid < 0)
		return fc_error_set(err, -pid, "start nginx");
	g->nginx_pid = pid;
	for (int i = 0; i < 500; i++) {
		int fd = tcp_connect(g->nport);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			g->nginx_pid = -1;
			_cleanup_free_ char *tail = bench_file_tail(log, 600);
			return fc_error_set(err, ECHILD, "nginx exited at its start (port %d): %s",
			                    g->nport, tail ? tail : "no log");
		}
		usleep(10000);
	}
	_cleanup_free_ char *tail = bench_file_tail(log, 600);
	return fc_error_set(err, ETIMEDOUT, "nginx did not listen on port %d: %s", g->nport,
	                    tail ? tail : "no log");
}

static int start_docker(struct gstate *g, struct fc_error **err)
{
	_cleanup_free_ char *edir = fc_asprintf("%s/engine", g->dir);
	int r = bench_engine_init(&g->eng, edir, NULL, NULL, "fcbench", err);
	if (r >= 0) {
		g->eng.stop = &bench_stop;
		g->eng_up = true;
		r = bench_engine_start(&g->eng, true, err);
	}
	char *loadv[] = {g->eng.docker, "--host", g->eng.docker_host, "load", "-i", g->image, NULL};
	if (r >= 0)
		r = bench_exec_quiet(loadv, 120, err);
	_cleanup_free_ char *port = fc_asprintf("port=%d", g->dport);
	char *run[] = {g->eng.docker,
	               "--host",
	               g->eng.docker_host,
	               "run",
	               "-d",
	               "--name",
	               "fcbench-gw-warm",
	               "--network",
	               "host",
	               "-e",
	               port,
	               "-e",
	               "listen=127.0.0.1",
	               "fcbench/gw:latest",
	               NULL};
	if (r >= 0)
		r = bench_exec_quiet(run, 60, err);
	if (r >= 0)
		g->container = true;
	return r;
}

int bench_gateway_cmd(int argc, char **argv)
{
	static const struct option lo[] = {{"watchdog", required_argument, NULL, 'w'},
	                                   {"cold", required_argument, NULL, 'c'},
	                                   {"rounds", required_argument, NULL, 'r'},
	                                   {"load", required_argument, NULL, 'l'},
	                                   {"concurrency", required_argument, NULL, 'C'},
	                                   {"no-docker", no_argument, NULL, 'D'},
	                                   {"no-nginx", no_argument, NULL, 'N'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	struct gstate g = {.n = 500,
	                   .cold = 20,
	                   .rounds = 5,
	                   .load = 10000,
	                   .conc = 50,
	                   .docker = true,
	                   .nginx = true,
	                   .daemon = -1,
	                   .nginx_pid = -1};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w':
			g.watchdog = optarg;
			break;
		case 'n':
			if (bench_parse_int("gateway", "-n", optarg, 1, &g.n) < 0)
				return 2;
			break;
		case 'c':
			if (bench_parse_int("gateway", "--cold", optarg, 0, &g.cold) < 0)
				return 2;
			break;
		case 'r':
			if (bench_parse_int("gateway", "--rounds", optarg, 1, &g.rounds) < 0)
				return 2;
			break;
		case 'l':
			if (bench_parse_int("gateway", "--load", optarg, 0, &g.load) < 0)
				return 2;
			break;
		case 'C':
			if (bench_parse_int("gateway", "--concurrency", optarg, 1, &g.conc) < 0)
				return 2;
			break;
		case 'D':
			g.docker = false;
			break;
		case 'N':
			g.nginx = false;
			break;
		case 'h':
			fputs(gateway_usage, stdout);
			return 0;
		default:
			fputs(gateway_usage, stderr);
			return 2;
		}
	}
	if (optind < argc || getuid() != 0) {
		fprintf(stderr, optind < argc ? "%s" : "fcstart bench gateway: needs root\n",
		        optind < argc ? gateway_usage : "");
		return optind < argc ? 2 : 1;
	}
	if (!(g.self = bench_self_exe())) {
		fprintf(stderr, "fcstart bench gateway: cannot find this fcstart binary: %s\n",
		        strerror(errno));
		return 1;
	}
	_cleanup_free_ char *wd = g.watchdog ? fc_strdup(g.watchdog) : default_watchdog(g.self);
	if (!wd) {
		fprintf(stderr,
		        "fcstart bench gateway: needs a static HTTP server for the function: "
		        "--watchdog PATH (tests/lib/fwatchdog of a build)\n");
		return 1;
	}
	if (g.nginx && access("/usr/sbin/nginx", X_OK) < 0) {
		fprintf(stderr, "fcstart bench gateway: no nginx (apt-get install nginx-light): "
		                "its paths are left out\n");
		g.nginx = false;
	}
	if (g.docker && bench_engine_missing(true)) {
		fprintf(stderr, "fcstart bench gateway: no %s: Docker's paths are left out\n",
		        bench_engine_missing(true));
		g.docker = false;
	}
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *tmpl =
	    fc_asprintf("%s/fcstart-bench-gateway.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "fcstart bench gateway: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	g.dir = TAKE_PTR(tmpl);
	chmod(g.dir, 0711); /* the sandboxes' roots pass through */
	g.root = fc_asprintf("%s/root", g.dir);
	g.sock = fc_asprintf("%s/api.sock", g.dir);
	g.store = fc_asprintf("%s/store", g.dir);
	g.image = fc_asprintf("%s/gw.tar", g.dir);
	uint64_t seed = bench_seed();
	g.port = free_port(-1, -1);
	g.nport = free_port(g.port, -1);
	g.dport = free_port(g.port, g.nport);
	loadavg(g.load0, sizeof(g.load0));
	struct bench_session session;
	bench_session_begin(&session, false);
	int rc = 1, conn[P_WARM_N] = {-1, -1, -1, -1};
	struct fc_error *e = NULL;
	struct fcsnap_store *store = NULL;
	struct fcsnap_import_opts io = {.name = "gw"};
	struct bench_image_extra x = {.file = wd,
	                              .dest = "usr/bin/fwatchdog",
	                              .cmd_json = "[\"fwatchdog\",\"serve\"]",
	                              .env_json = "\"port=8080\""};
	if (bench_busybox_image_with(g.image, "fcbench/gw:latest", &x, &e) < 0 ||
	    fcsnap_store_open(g.store, &store, &e) < 0 ||
	    fcsnap_import(store, g.image, &io, NULL, &e) < 0 || start_daemon(&g, &e) < 0) {
		fprintf(stderr, "fcstart bench gateway: %s\n", e ? e->msg : "?");
		goto out;
	}
	struct fcpool_fn_spec spec = {
	    .name = "fn", .image = "gw", .mode = FCPOOL_HTTP, .min = 1, .max = 20};
	if (fcpool_client_deploy(g.sock, &spec, &e) < 0 || (g.nginx && start_nginx(&g, &e) < 0)) {
		fprintf(stderr, "fcstart bench gateway: %s\n", e ? e->msg : "?");
		goto out;
	}
	if (g.docker && start_docker(&g, &e) < 0) {
		fprintf(stderr, "fcstart bench gateway: Docker's paths are left out: %s\n",
		        e ? e->msg : "?");
		fc_error_free(TAKE_PTR(e));
		g.docker = false;
	}
	/* warm-up: an instance started, connections made */
	double ms;
	warm(&g, P_API, 20, conn);
	warm(&g, P_GW, 20, conn);
	if (g.nginx)
		warm(&g, P_NGX_GW, 20, conn);
	if (g.nginx && g.docker)
		for (int i = 0;
		     i < 200 && http_get(&conn[P_NGX_DOCKER], g.nport, "/docker/", &ms, NULL) < 0;
		     i++)
			usleep(10000);
	for (int p = 0; p < P_N; p++) {
		free(g.v[p]);
		g.v[p] = NULL;
		g.nv[p] = 0;
		free(TAKE_PTR(g.err[p]));
	}
	/* the rounds: warm paths in random order, cold samples among them */
	fprintf(stderr, "gateway: %d rounds of %d warm samples per path, %d cold...\n", g.rounds,
	        g.n / g.rounds, g.cold);
	for (int r = 0; r < g.rounds && !bench_stop; r++) {
		size_t idx[P_N] = {0, 1, 2, 3, 4, 5};
		bench_shuffle(idx, P_N, &seed);
		for (size_t k = 0; k < P_N && !bench_stop; k++) {
			enum path p = (enum path)idx[k];
			int cold_n = g.cold / g.rounds + (r < g.cold % g.rounds);
			if (p == P_GW_COLD)
				for (int i = 0; i < cold_n && !bench_stop; i++)
					cold_once(&g);
			else if (p == P_DOCKER_RUN && g.docker)
				for (int i = 0; i < cold_n && !bench_stop; i++)
					docker_run_once(&g, r * 1000 + i);
			else if (p == P_API || p == P_GW || (g.nginx && p == P_NGX_GW) ||
			         (g.nginx && g.docker && p == P_NGX_DOCKER))
				warm(&g, p, g.n / g.rounds, conn);
		}
	}
	for (int p = 0; p < P_WARM_N; p++)
		if (conn[p] >= 0)
			close(conn[p]);
	/* the load */
	if (g.load > 0 && !bench_stop) {
		struct {
			const char *name;
			int port;
			const char *path;
			bool on;
		} runs[3] = {
		    {"gateway, warm HTTP function", g.port, "/function/fn", true},
		    {"nginx -> gateway, warm HTTP function", g.nport, "/function/fn", g.nginx},
		    {"nginx -> docker, warm container", g.nport, "/docker/", g.nginx && g.docker},
		};
		size_t idx[3] = {0, 1, 2};
		bench_shuffle(idx, 3, &seed);
		for (int i = 0; i < 3; i++)
			g.l[i].name = runs[i].on ? runs[i].name : NULL;
		for (size_t k = 0; k < 3 && !bench_stop; k++)
			if (runs[idx[k]].on) {
				fprintf(stderr, "load: %s...\n", runs[idx[k]].name);
				load(&g, &g.l[idx[k]], runs[idx[k]].port, runs[idx[k]].path);
			}
	}
	loadavg(g.load1, sizeof(g.load1));
	report(&g);
	rc = 0;
out:
	bench_stop_pid(&g.nginx_pid, SIGQUIT, 3);
	if (g.container) {
		char *rm[] = {g.eng.docker,      "--host", g.eng.docker_host, "rm", "-f",
		              "fcbench-gw-warm", NULL};
		bench_exec_quiet(rm, 60, NULL);
	}
	if (g.eng_up) {
		bench_engine_stop(&g.eng);
		bench_engine_free(&g.eng);
	}
	bench_stop_pid(&g.daemon, SIGTERM, 3);
	fcsnap_store_free(store);
	fc_error_free(TAKE_PTR(e));
	bench_unmount_under(g.dir);
	if (fc_rm_rf_at(AT_FDCWD, g.dir, &e) < 0)
		fprintf(stderr, "fcstart bench gateway: %s\n", e->msg);
	fc_error_free(e);
	for (int p = 0; p < P_N; p++) {
		free(g.v[p]);
		free(g.err[p]);
	}
	for (int i = 0; i < 3; i++)
		free(g.l[i].note);
	free(g.dir);
	free(g.root);
	free(g.sock);
	free(g.store);
	free(g.self);
	free(g.image);
	return bench_session_end(&session, "gateway", 0, rc);
}
