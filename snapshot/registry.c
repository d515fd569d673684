/* SPDX-License-Identifier: MIT */
/* registry.c: the client side of the OCI distribution API (v2) with libcurl:
 * finding the endpoint (mirrors, https or plain http), authentication
 * (anonymous, Bearer tokens from WWW-Authenticate, basic; the credentials of
 * a Docker config.json), manifests, small blobs, and layer blobs streamed
 * into a pipe with Range resumes, retries with backoff and timeouts.
 *
 * Credentials and tokens only go to libcurl's auth options (never into a
 * header we build), so libcurl keeps them from hosts a redirect leads to;
 * no message carries them. Every body has a size bound.
 *
 * libcurl is loaded (dlopen) at the first pull, not linked: with its TLS,
 * HTTP/2, IDN, LDAP, SSH and Kerberos libraries it would double the
 * libraries every `fcstart` start maps, for the one verb that talks to a
 * registry. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#define CURL_DISABLE_TYPECHECK /* the calls go through pointers (below) */
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "fc-version.h"
#include "snap-private.h"

#define ERRBODY_MAX (4u << 10)
#define TOKEN_MAX   (1u << 20)
#define CONFIG_MAX  (4u << 20)
#define MAX_CANDS   8

struct endpoint {
	char *host;   /* host[:port]: what insecure-registries, certs.d and auths name */
	char *prefix; /* "" or a mirror's path, no trailing '/' */
	bool mirror;
};

struct snap_reg {
	struct endpoint cand[MAX_CANDS];
	size_t n_cand, cur;
	char *repo; /* library/alpine */
	char *base; /* https://host:port[/prefix] in use */
	bool https, verify;
	char *cainfo, *cert, *key;
	unsigned retries, connect_s, stall_s;
	volatile int *cancel;
	const struct snap_reg_opts *opts; /* the caller's, for the life of r */
	char *docker_config;
	/* auth, shared by the threads of a pull */
	pthread_mutex_t lock;
	char *user, *pass; /* basic credentials for the endpoint's host */
	bool have_creds, identity_only;
	char *token;   /* Bearer token */
	bool basic;    /* the registry asked for basic auth */
	unsigned gen;  /* bumped whenever the auth changes */
	CURLSH *share; /* connections, DNS and TLS sessions */
	pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
};

struct xfer {
	struct snap_reg *r;
	CURL *c;
	long status;
	char *www_auth, *ctype, *retry_after, *content_range;
	bool body_started;
	/* collected body (manifests, tokens), at most max bytes */
	struct fc_buf body;
	size_t max;
	bool too_big;
	/* error body of a non-2xx answer */
	struct fc_buf ebody;
	/* streaming: bytes go to fd; off is what was delivered */
	int fd;
	uint64_t off, size, skip;
	int sink_err; /* -errno from the sink */
	bool overflow;
	void (*progress)(void *data, uint64_t bytes, bool retrying);
	void *pdata;
	char errbuf[CURL_ERROR_SIZE];
};

#define CURL_FUNCS(X)                                                                              \
	X(curl_global_init)                                                                        \
	X(curl_easy_init)                                                                          \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_reset)                                                                         \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_easy_escape)                                                                        \
	X(curl_free)                                                                               \
	X(curl_share_init)                                                                         \
	X(curl_share_setopt)                                                                       \
	X(curl_share_cleanup)                                                                      \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)

static struct {
#define X(f) __typeof__(f) *f;
	CURL_FUNCS(X)
#undef X
} cu;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_load_error[200];

static void curl_init_once(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(curl_load_error, sizeof(curl_load_error),
		         "load libcurl (Debian's libcurl4): %s", dlerror());
		return;
	}
#define X(f)                                                                                       \
	if (!(*(void **)&cu.f = dlsym(h, #f))) {                                                   \
		snprintf(curl_load_error, sizeof(curl_load_error), "libcurl lacks " #f);           \
		dlclose(h);                                                                        \
		return;                                                                            \
	}
	CURL_FUNCS(X)
#undef X
	if (cu.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		snprintf(curl_load_error, sizeof(curl_load_error), "curl_global_init failed");
}

#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#define curl_easy_init      cu.curl_easy_init
#define curl_easy_setopt    cu.curl_easy_setopt
#define curl_easy_perform   cu.curl_easy_perform
#define curl_easy_getinfo   cu.curl_easy_getinfo
#define curl_easy_reset     cu.curl_easy_reset
#define curl_easy_cleanup   cu.curl_easy_cleanup
#define curl_easy_strerror  cu.curl_easy_strerror
#define curl_easy_escape    cu.curl_easy_escape
#define curl_free           cu.curl_free
#define curl_share_init     cu.curl_share_init
#define curl_share_setopt   cu.curl_share_setopt
#define curl_share_cleanup  cu.curl_share_cleanup
#define curl_slist_append   cu.curl_slist_append
#define curl_slist_free_all cu.curl_slist_free_all

static void free_secret(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* ---- small helpers ----------------------------------------------------- */

static void cut_line(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
}

/* host part of host[:port] / [v6]:port, into out */
static void host_only(const char *hp, char *out, size_t len)
{
	if (hp[0] == '[') {
		const char *e = strchr(hp, ']');
		size_t n = e ? (size_t)(e - hp - 1) : strlen(hp + 1);
		snprintf(out, len, "%.*s", (int)n, hp + 1);
		return;
	}
	const char *c = strrchr(hp, ':');
	size_t n = c ? (size_t)(c - hp) : strlen(hp);
	snprintf(out, len, "%.*s", (int)n, hp);
}

static bool is_loopback(const char *hp)
{
	char h[256];
	host_only(hp, h, sizeof(h));
	if (strcasecmp(h, "localhost") == 0)
		return true;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* "10.0.0.0/8" against the host when it is an IP literal */
static bool cidr_match(const char *cidr, const char *hp)
{
	char net[64], h[256];
	const char *sl = strchr(cidr, '/');
	if (!sl || (size_t)(sl - cidr) >= sizeof(net))
		return false;
	snprintf(net, sizeof(net), "%.*s", (int)(sl - cidr), cidr);
	char *end;
	long bits = strtol(sl + 1, &end, 10);
	if (*end || bits < 0)
		return false;
	host_only(hp, h, sizeof(h));
	unsigned char a[16], b[16];
	size_t alen;
	if (inet_pton(AF_INET, net, a) == 1 && inet_pton(AF_INET, h, b) == 1)
		alen = 4;
	else if (inet_pton(AF_INET6, net, a) == 1 && inet_pton(AF_INET6, h, b) == 1)
		alen = 16;
	else
		return false;
	if ((size_t)bits > alen * 8)
		return false;
	for (size_t i = 0; i < alen && bits > 0; i++, bits -= 8) {
		unsigned mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
		if ((a[i] & mask) != (b[i] & mask))
			return false;
	}
	return true;
}

/* strip "http://" / "https://" and anything from the first '/' */
static char *url_host(const char *u)
{
	if (strncasecmp(u, "https://", 8) == 0)
		u += 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		u += 7;
	return fc_strndup(u, strcspn(u, "/"));
}

static bool is_insecure(const struct snap_reg_opts *o, const char *hp)
{
	char *const *lists[2] = {o->conf ? o->conf->insecure : NULL, (char *const *)o->insecure};
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			const char *e = lists[l][i];
			if (strchr(e, '/') && !strstr(e, "://") && cidr_match(e, hp))
				return true;
			_cleanup_free_ char *h = url_host(e);
			if (strcasecmp(h, hp) == 0)
				return true;
		}
	return false;
}

static void sleep_backoff(struct snap_reg *r, unsigned attempt, const char *retry_after)
{
	long ms = 250L << (attempt < 5 ? attempt : 5);
	if (ms > 4000)
		ms = 4000;
	if (retry_after && *retry_after) {
		long s = strtol(retry_after, NULL, 10);
		if (s > 0 && s <= 10)
			ms = s * 1000;
	}
	for (long t = 0; t < ms && !(r->cancel && *r->cancel); t += 50) {
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* ---- credentials (config.json) -------------------------------------------- */

/* the keys Docker files Docker Hub's credentials under */
static bool hub_key(const char *h)
{
	return FC_STREQ(h, "index.docker.io") || FC_STREQ(h, "docker.io") ||
	       FC_STREQ(h, "registry-1.docker.io");
}

static int b64_creds(const char *auth, char **user, char **pass)
{
	size_t n = strlen(auth);
	if (n == 0 || n % 4 || n > 16384)
		return -EINVAL;
	unsigned char *out = fc_malloc(n / 4 * 3 + 1);
	int len = EVP_DecodeBlock(out, (const unsigned char *)auth, (int)n);
	if (len < 0) {
		free(out);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (n >= 1 && auth[n - 1] == '=')
		len--;
	if (n >= 2 && auth[n - 2] == '=')
		len--;
	out[len] = 0;
	char *colon = memchr(out, ':', (size_t)len);
	int r = -EINVAL;
	if (colon && strlen((char *)out) == (size_t)len) {
		*user = fc_strndup((char *)out, (size_t)(colon - (char *)out));
		*pass = fc_strdup(colon + 1);
		r = 0;
	}
	explicit_bzero(out, (size_t)len);
	free(out);
	return r;
}

static int load_creds(struct snap_reg *r, const char *host, struct fc_error **err)
{
	free_secret(&r->user);
	free_secret(&r->pass);
	r->have_creds = r->identity_only = false;
	_cleanup_free_ char *dir = NULL;
	if (r->docker_config)
		dir = fc_strdup(r->docker_config);
	else if (getenv("DOCKER_CONFIG") && *getenv("DOCKER_CONFIG"))
		dir = fc_strdup(getenv("DOCKER_CONFIG"));
	else if (getenv("HOME") && *getenv("HOME"))
		dir = fc_asprintf("%s/.docker", getenv("HOME"));
	if (!dir)
		return 0;
	_cleanup_free_ char *path = fc_asprintf("%s/config.json", dir);
	char *buf = NULL;
	size_t len = 0;
	struct fc_error *e = NULL;
	int rr = fc_read_file_at(AT_FDCWD, path, &buf, &len, CONFIG_MAX, &e);
	if (rr == -ENOENT || rr == -ENOTDIR) {
		fc_error_free(e);
		return 0;
	}
	if (rr < 0) {
		*err = e;
		return fc_error_wrap(err, "docker config");
	}
	struct snap_cred *c = NULL;
	size_t n = 0;
	rr = snap_parse_docker_auths(buf, len, &c, &n, err);
	explicit_bzero(buf, len);
	free(buf);
	if (rr < 0) {
		snap_creds_free(c, n);
		return fc_error_wrap(err, "`%s`", path);
	}
	bool hub = hub_key(host);
	for (size_t i = 0; i < n && !r->have_creds; i++) {
		_cleanup_free_ char *k = url_host(c[i].key);
		if (!(strcasecmp(k, host) == 0 || (hub && hub_key(k))))
			continue;
		if (c[i].auth && *c[i].auth) {
			if (b64_creds(c[i].auth, &r->user, &r->pass) < 0) {
				rr = fc_error_relay(err, EINVAL,
				                    "`%s`: auths[\"%s\"].auth is not the base64 of "
				                    "user:password",
				                    path, c[i].key);
				break;
			}
			r->have_creds = true;
		} else if (c[i].user && c[i].pass) {
			r->user = fc_strdup(c[i].user);
			r->pass = fc_strdup(c[i].pass);
			r->have_creds = true;
		} else if (c[i].identity_token) {
			r->identity_only = true;
		}
	}
	snap_creds_free(c, n);
	return rr < 0 ? rr : 0;
}

/* ---- transfers ----------------------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *p)
{
	(void)h;
	(void)a;
	struct snap_reg *r = p;
	pthread_mutex_lock(&r->share_lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *p)
{
	(void)h;
	struct snap_reg *r = p;
	pthread_mutex_unlock(&r->share_lock[d]);
}

static void xfer_reset(struct xfer *x)
{
	x->status = 0;
	free(x->www_auth);
	free(x->ctype);
	free(x->retry_after);
	free(x->content_range);
	x->www_auth = x->ctype = x->retry_after = x->content_range = NULL;
	x->body_started = false;
	x->body.len = 0;
	x->ebody.len = 0;
	x->too_big = x->overflow = false;
	x->sink_err = 0;
	x->skip = 0;
	x->errbuf[0] = 0;
}

static void xfer_free(struct xfer *x)
{
	xfer_reset(x);
	free(x->body.data);
	free(x->ebody.data);
	if (x->c)
		curl_easy_cleanup(x->c);
	x->c = NULL;
}

static size_t on_header(char *p, size_t size, size_t n, void *data)
{
	struct xfer *x = data;
	size_t len = size * n;
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or a 100): forget the last one */
		free(x->www_auth);
		free(x->ctype);
		free(x->retry_after);
		free(x->content_range);
		x->www_auth = x->ctype = x->retry_after = x->content_range = NULL;
		return len;
	}
	static const struct {
		const char *name;
		size_t off;
	} keep[] = {
	    {"www-authenticate:", offsetof(struct xfer, www_auth)},
	    {"content-type:", offsetof(struct xfer, ctype)},
	    {"retry-after:", offsetof(struct xfer, retry_after)},
	    {"content-range:", offsetof(struct xfer, content_range)},
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(keep); i++) {
		size_t kl = strlen(keep[i].name);
		if (len > kl && strncasecmp(p, keep[i].name, kl) == 0 && len < 8192) {
			char **slot = (char **)((char *)x + keep[i].off);
			const char *v = p + kl;
			while (v < p + len && (*v == ' ' || *v == '\t'))
				v++;
			/* the first challenge is the one we answer */
			if (!*slot) {
				*slot = fc_strndup(v, (size_t)(p + len - v));
				cut_line(*slot);
			}
		}
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct xfer *x = data;
	size_t len = size * n;
	long st = 0;
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &st);
	if (st < 200 || st >= 300) {
		if (x->ebody.len < ERRBODY_MAX)
			fc_buf_append(
			    &x->ebody, p,
			    len < ERRBODY_MAX - x->ebody.len ? len : ERRBODY_MAX - x->ebody.len);
		return len;
	}
	if (x->fd < 0) {
		if (x->body.len + len > x->max) {
			x->too_big = true;
			return 0;
		}
		fc_buf_append(&x->body, p, len);
		return len;
	}
	if (!x->body_started) {
		x->body_started = true;
		/* the server sent the whole blob although a range was asked */
		if (st == 200)
			x->skip = x->off;
	}
	if (x->skip) {
		size_t k = len < x->skip ? len : (size_t)x->skip;
		x->skip -= k;
		p += k;
		len -= k;
		if (!len)
			return size * n;
	}
	if (x->off + len > x->size) {
		x->overflow = true;
		return 0;
	}
	int w = fc_write_all(x->fd, p, len);
	if (w < 0) {
		x->sink_err = w;
		return 0;
	}
	x->off += len;
	if (x->progress)
		x->progress(x->pdata, x->off, false);
	return size * n;
}

static int on_xferinfo(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	struct xfer *x = data;
	return x->r->cancel && *x->r->cancel ? 1 : 0;
}

static void xfer_init(struct xfer *x, struct snap_reg *r, int fd)
{
	memset(x, 0, sizeof(*x));
	x->r = r;
	x->fd = fd;
	x->c = curl_easy_init();
	if (!x->c)
		abort();
}

/* Options of every request to the registry (and its token server). */
static void xfer_setup(struct xfer *x, const char *url, const char *accept,
                       struct curl_slist **hdrs)
{
	struct snap_reg *r = x->r;
	CURL *c = x->c;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fcstart/" FC_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* a registry reached over https does not redirect us to plain http */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, r->https ? "https" : "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)r->connect_s);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)r->stall_s);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L << 10);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
	if (r->cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, r->cainfo);
	if (r->cert && r->key) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, r->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, r->key);
	}
	curl_easy_setopt(c, CURLOPT_SHARE, r->share);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	if (accept) {
		_cleanup_free_ char *h = fc_asprintf("Accept: %s", accept);
		*hdrs = curl_slist_append(*hdrs, h);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	}
}

/* The registry's credentials on the request, as libcurl options: libcurl
 * sends them to this host only, never to where a redirect leads. */
static unsigned set_auth(struct xfer *x)
{
	struct snap_reg *r = x->r;
	pthread_mutex_lock(&r->lock);
	unsigned gen = r->gen;
	if (r->token) {
		curl_easy_setopt(x->c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(x->c, CURLOPT_XOAUTH2_BEARER, r->token);
	} else if (r->basic && r->have_creds) {
		curl_easy_setopt(x->c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(x->c, CURLOPT_USERNAME, r->user);
		curl_easy_setopt(x->c, CURLOPT_PASSWORD, r->pass);
	}
	pthread_mutex_unlock(&r->lock);
	return gen;
}

static bool retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_COULDNT_RESOLVE_HOST:
		return true;
	default:
		return false;
	}
}

static bool retryable_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* "Bearer realm="...",service="...",scope="..."": the value of key */
static char *challenge_param(const char *ch, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = ch; (p = strcasestr(p, key));) {
		bool start = p == ch || p[-1] == ' ' || p[-1] == ',';
		p += kl;
		if (!start || *p != '=')
			continue;
		p++;
		if (*p == '"') {
			p++;
			const char *e = strchr(p, '"');
			return e ? fc_strndup(p, (size_t)(e - p)) : NULL;
		}
		return fc_strndup(p, strcspn(p, ", "));
	}
	return NULL;
}

static const char *curl_text(const struct xfer *x, CURLcode cc)
{
	return x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
}

/* Get a token from the realm of a Bearer challenge. Under r->lock. */
static int fetch_token(struct snap_reg *r, const char *challenge, struct fc_error **err)
{
	_cleanup_free_ char *realm = challenge_param(challenge, "realm");
	_cleanup_free_ char *service = challenge_param(challenge, "service");
	_cleanup_free_ char *scope = challenge_param(challenge, "scope");
	if (!realm ||
	    (strncasecmp(realm, "https://", 8) != 0 && strncasecmp(realm, "http://", 7) != 0))
		return fc_error_relay(err, EPROTO,
		                      "registry %s: the Bearer challenge names no http(s) realm",
		                      r->cand[r->cur].host);
	struct xfer x;
	xfer_init(&x, r, -1);
	x.max = TOKEN_MAX;
	CURL *esc = x.c;
	_cleanup_free_ char *def_scope = fc_asprintf("repository:%s:pull", r->repo);
	char *s1 = service ? curl_easy_escape(esc, service, 0) : NULL;
	char *s2 = curl_easy_escape(esc, scope ? scope : def_scope, 0);
	_cleanup_free_ char *url =
	    fc_asprintf("%s%s%s%s%sscope=%s", realm, strchr(realm, '?') ? "&" : "?",
	                s1 ? "service=" : "", s1 ? s1 : "", s1 ? "&" : "", s2);
	curl_free(s1);
	curl_free(s2);
	struct curl_slist *h = NULL;
	xfer_setup(&x, url, "application/json", &h);
	/* credentials go to the token server over https, or on the registry's
	 * own host (another port of it) */
	_cleanup_free_ char *rh = url_host(realm);
	char h1[256], h2[256];
	host_only(rh, h1, sizeof(h1));
	host_only(r->cand[r->cur].host, h2, sizeof(h2));
	bool send =
	    r->have_creds && (strncasecmp(realm, "https://", 8) == 0 || strcasecmp(h1, h2) == 0);
	if (send) {
		curl_easy_setopt(x.c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(x.c, CURLOPT_USERNAME, r->user);
		curl_easy_setopt(x.c, CURLOPT_PASSWORD, r->pass);
	}
	int ret = 0;
	for (unsigned attempt = 0;; attempt++) {
		xfer_reset(&x);
		CURLcode cc = curl_easy_perform(x.c);
		curl_easy_getinfo(x.c, CURLINFO_RESPONSE_CODE, &x.status);
		if (cc == CURLE_OK && x.status == 200) {
			fc_buf_append(&x.body, "", 1);
			char *tok = NULL;
			ret = snap_parse_token(x.body.data, x.body.len - 1, &tok, err);
			explicit_bzero(x.body.data, x.body.len);
			if (ret < 0) {
				fc_error_wrap(err, "token server %s", rh);
				break;
			}
			free_secret(&r->token);
			r->token = tok;
			r->gen++;
			break;
		}
		if (attempt < r->retries && ((cc != CURLE_OK && retryable(cc)) ||
		                             (cc == CURLE_OK && retryable_status(x.status)))) {
			sleep_backoff(r, attempt, x.retry_after);
			continue;
		}
		if (cc == CURLE_ABORTED_BY_CALLBACK)
			ret = fc_error_relay(err, ECANCELED, "cancelled");
		else if (cc != CURLE_OK)
			ret = fc_error_relay(err, EHOSTUNREACH, "token server %s: %s", rh,
			                     curl_text(&x, cc));
		else if (x.status == 401 || x.status == 403)
			ret = fc_error_relay(
			    err, EACCES,
			    "registry %s: authentication failed: the token server %s "
			    "answered %ld %s",
			    r->cand[r->cur].host, rh, x.status,
			    send            ? "to the credentials of the docker config"
			    : r->have_creds ? "(credentials not sent: the token server "
			                      "is not https)"
			                    : "without credentials (none in the docker "
			                      "config for this registry)");
		else
			ret =
			    fc_error_relay(err, EPROTO, "token server %s: HTTP %ld", rh, x.status);
		break;
	}
	if (x.body.data)
		explicit_bzero(x.body.data, x.body.len);
	curl_slist_free_all(h);
	xfer_free(&x);
	return ret;
}

/* Answer a 401: a new token, or basic auth. gen is the auth generation the
 * request was sent with (another thread may have renewed it meanwhile). */
static int reauth(struct snap_reg *r, const char *challenge, unsigned gen, struct fc_error **err)
{
	int ret = 0;
	pthread_mutex_lock(&r->lock);
	if (r->gen != gen) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	if (challenge && strncasecmp(challenge, "Bearer", 6) == 0) {
		ret = fetch_token(r, challenge, err);
	} else if (challenge && strncasecmp(challenge, "Basic", 5) == 0) {
		if (!r->have_creds)
			ret = fc_error_relay(
			    err, EACCES,
			    "registry %s: authentication required and no credentials "
			    "for it in the docker config%s",
			    r->cand[r->cur].host,
			    r->identity_only ? " (an identity token is not supported)" : "");
		else if (r->basic)
			ret = fc_error_relay(
			    err, EACCES,
			    "registry %s: authentication failed: the credentials of the "
			    "docker config were refused",
			    r->cand[r->cur].host);
		else {
			r->basic = true;
			r->gen++;
		}
	} else {
		ret = fc_error_relay(err, EACCES, "registry %s: 401 Unauthorized with %s challenge",
		                     r->cand[r->cur].host, challenge ? "an unknown" : "no");
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* What a non-2xx answer means, for a message. */
static int status_error(struct xfer *x, const char *what, struct fc_error **err)
{
	_cleanup_free_ char *t =
	    x->ebody.len ? snap_reg_error_text(x->ebody.data, x->ebody.len) : NULL;
	int e = x->status == 404                       ? ENOENT
	        : x->status == 401 || x->status == 403 ? EACCES
	        : x->status == 429 || x->status >= 500 ? EAGAIN
	                                               : EPROTO;
	const char *why = x->status == 404   ? "not found"
	                  : x->status == 401 ? "unauthorized (the credentials were refused)"
	                  : x->status == 403 ? "forbidden"
	                  : x->status == 429 ? "too many requests"
	                                     : "failed";
	return fc_error_relay(err, e, "%s: %s (HTTP %ld%s%s)", what, why, x->status, t ? ", " : "",
	                      t ? t : "");
}

/* One request with retries: the body collected into x->body (x->fd < 0).
 * Returns the final HTTP status (2xx) or -errno with *err. */
static int request(struct xfer *x, const char *url, const char *accept, const char *what,
                   struct fc_error **err)
{
	struct snap_reg *r = x->r;
	bool reauthed = false;
	for (unsigned attempt = 0;;) {
		struct curl_slist *h = NULL;
		xfer_setup(x, url, accept, &h);
		xfer_reset(x);
		unsigned gen = set_auth(x);
		CURLcode cc = curl_easy_perform(x->c);
		curl_slist_free_all(h);
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->status);
		if (r->cancel && *r->cancel)
			return fc_error_relay(err, ECANCELED, "%s: cancelled", what);
		if (x->too_big)
			return fc_error_relay(err, EFBIG, "%s: larger than %zu bytes", what,
			                      x->max);
		if (cc == CURLE_OK && x->status == 401 && !reauthed) {
			reauthed = true;
			if (reauth(r, x->www_auth, gen, err) < 0)
				return fc_error_wrap(err, "%s", what);
			continue;
		}
		bool again = cc != CURLE_OK ? retryable(cc) : retryable_status(x->status);
		if (again && attempt < r->retries) {
			sleep_backoff(r, attempt++, x->retry_after);
			continue;
		}
		if (cc != CURLE_OK)
			return fc_error_relay(
			    err, cc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EHOSTUNREACH,
			    "%s: %s%s", what, curl_text(x, cc), attempt ? " (after retries)" : "");
		if (x->status < 200 || x->status >= 300)
			return status_error(x, what, err);
		return (int)x->status;
	}
}

/* ---- endpoints ------------------------------------------------------------- */

static void tls_files(struct snap_reg *r, const struct snap_reg_opts *o, const char *host)
{
	free(r->cainfo);
	free(r->cert);
	free(r->key);
	r->cainfo = r->cert = r->key = NULL;
	const char *dirs[3] = {o->conf ? o->conf->certs_dir : NULL, "/etc/fcstart/certs.d",
	                       "/etc/docker/certs.d"};
	for (size_t i = 0; i < 3; i++) {
		if (!dirs[i] || strchr(host, '/'))
			continue;
		_cleanup_free_ char *ca = fc_asprintf("%s/%s/ca.crt", dirs[i], host);
		_cleanup_free_ char *cert = fc_asprintf("%s/%s/client.cert", dirs[i], host);
		_cleanup_free_ char *key = fc_asprintf("%s/%s/client.key", dirs[i], host);
		bool found = false;
		if (access(ca, R_OK) == 0) {
			r->cainfo = TAKE_PTR(ca);
			found = true;
		}
		if (access(cert, R_OK) == 0 && access(key, R_OK) == 0) {
			r->cert = TAKE_PTR(cert);
			r->key = TAKE_PTR(key);
			found = true;
		}
		if (found)
			return;
	}
}

/* GET /v2/ of candidate i over https and, where allowed, http: the endpoint
 * answers (200, or 401 with a challenge, which is answered here). */
static int ping(struct snap_reg *r, const struct snap_reg_opts *o, size_t i, struct fc_error **err)
{
	struct endpoint *ep = &r->cand[i];
	bool insecure = is_insecure(o, ep->host);
	bool loop = is_loopback(ep->host);
	r->cur = i;
	tls_files(r, o, ep->host);
	pthread_mutex_lock(&r->lock);
	free_secret(&r->token);
	r->basic = false;
	r->gen++;
	pthread_mutex_unlock(&r->lock);
	int ret = load_creds(r, ep->host, err);
	if (ret < 0)
		return ret;
	struct xfer x;
	xfer_init(&x, r, -1);
	x.max = 64 << 10;
	for (int scheme = 0; scheme < 2; scheme++) {
		r->https = scheme == 0;
		r->verify = r->https && !insecure;
		if (!r->https && !insecure && !loop)
			break;
		free(r->base);
		r->base =
		    fc_asprintf("%s://%s%s", r->https ? "https" : "http", ep->host, ep->prefix);
		_cleanup_free_ char *url = fc_asprintf("%s/v2/", r->base);
		CURLcode cc = CURLE_OK;
		for (unsigned attempt = 0;; attempt++) {
			struct curl_slist *h = NULL;
			xfer_setup(&x, url, NULL, &h);
			xfer_reset(&x);
			cc = curl_easy_perform(x.c);
			curl_slist_free_all(h);
			curl_easy_getinfo(x.c, CURLINFO_RESPONSE_CODE, &x.status);
			if (r->cancel && *r->cancel) {
				xfer_free(&x);
				return fc_error_relay(err, ECANCELED, "cancelled");
			}
			bool again = cc != CURLE_OK ? retryable(cc) : retryable_status(x.status);
			if (!again || attempt >= r->retries)
				break;
			sleep_backoff(r, attempt, x.retry_after);
		}
		/* a plain-http server on a port we tried https on */
		if (r->https && cc == CURLE_SSL_CONNECT_ERROR && (insecure || loop))
			continue;
		if (cc != CURLE_OK) {
			ret = fc_error_relay(
			    err,
			    cc == CURLE_PEER_FAILED_VERIFICATION ? EPERM
			    : cc == CURLE_OPERATION_TIMEDOUT     ? ETIMEDOUT
			                                         : EHOSTUNREACH,
			    "registry %s%s: %s%s", r->base, ep->mirror ? " (mirror)" : "",
			    curl_text(&x, cc),
			    cc == CURLE_PEER_FAILED_VERIFICATION
			        ? " (add its CA as certs.d/HOST/ca.crt, or list it in "
			          "insecure-registries)"
			    : cc == CURLE_SSL_CONNECT_ERROR && !insecure
			        ? " (if it speaks plain http: --insecure-registry HOST, or "
			          "insecure-registries in the registry config)"
			        : "");
			break;
		}
		if (x.status == 401) {
			/* what the registry wants: answered now, used by every request */
			unsigned gen;
			pthread_mutex_lock(&r->lock);
			gen = r->gen;
			pthread_mutex_unlock(&r->lock);
			if (x.www_auth && strncasecmp(x.www_auth, "Bearer", 6) == 0)
				ret = reauth(r, x.www_auth, gen, err);
			else if (x.www_auth && strncasecmp(x.www_auth, "Basic", 5) == 0 &&
			         r->have_creds) {
				pthread_mutex_lock(&r->lock);
				r->basic = true;
				r->gen++;
				pthread_mutex_unlock(&r->lock);
			}
			/* no credentials for basic auth: the first request says so */
			break;
		}
		if (x.status == 200)
			break;
		ret =
		    fc_error_relay(err, EPROTO,
		                   "registry %s%s: /v2/ answered HTTP %ld: not an OCI distribution "
		                   "(v2) registry",
		                   r->base, ep->mirror ? " (mirror)" : "", x.status);
		break;
	}
	xfer_free(&x);
	return ret;
}

int snap_reg_open(const struct snap_reg_opts *o, struct snap_reg **out, struct fc_error **err)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_load_error[0])
		return fc_error_relay(err, ENOSYS, "%s", curl_load_error);
	struct snap_reg *r = fc_calloc(1, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&r->share_lock[i], NULL);
	r->share = curl_share_init();
	if (!r->share)
		abort();
	curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(r->share, CURLSHOPT_USERDATA, r);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	r->repo = fc_strdup(o->ref->path);
	r->retries = o->retries;
	r->connect_s = o->connect_timeout_s ? o->connect_timeout_s : 30;
	r->stall_s = o->stall_timeout_s ? o->stall_timeout_s : 60;
	r->cancel = o->cancel;
	r->opts = o;
	r->docker_config = o->docker_config ? fc_strdup(o->docker_config) : NULL;
	bool hub = FC_STREQ(o->ref->domain, "docker.io");
	for (size_t i = 0; hub && o->conf && o->conf->mirrors && o->conf->mirrors[i]; i++) {
		const char *m = o->conf->mirrors[i];
		if (r->n_cand + 1 >= MAX_CANDS)
			break;
		if (strncasecmp(m, "https://", 8) != 0 && strncasecmp(m, "http://", 7) != 0) {
			int ret = fc_error_relay(err, EINVAL,
			                         "registry-mirrors: `%s` is not an http(s) URL", m);
			snap_reg_free(r);
			return ret;
		}
		struct endpoint *ep = &r->cand[r->n_cand++];
		ep->host = url_host(m);
		const char *path = strchr(m + (m[4] == 's' ? 8 : 7), '/');
		ep->prefix = fc_strdup(path ? path : "");
		size_t pl = strlen(ep->prefix);
		while (pl && ep->prefix[pl - 1] == '/')
			ep->prefix[--pl] = 0;
		ep->mirror = true;
	}
	struct endpoint *up = &r->cand[r->n_cand++];
	up->host = fc_strdup(hub ? "registry-1.docker.io" : o->ref->domain);
	up->prefix = fc_strdup("");
	int ret = -EHOSTUNREACH;
	struct fc_error *first = NULL;
	for (size_t i = 0; i < r->n_cand; i++) {
		struct fc_error *e = NULL;
		ret = ping(r, o, i, &e);
		if (ret >= 0) {
			fc_error_free(first);
			first = NULL;
			break;
		}
		if (!first)
			first = e;
		else
			fc_error_free(e);
		if (ret == -ECANCELED)
			break;
	}
	if (ret < 0) {
		*err = first;
		snap_reg_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

void snap_reg_free(struct snap_reg *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_cand; i++) {
		free(r->cand[i].host);
		free(r->cand[i].prefix);
	}
	if (r->share)
		curl_share_cleanup(r->share);
	for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&r->share_lock[i]);
	pthread_mutex_destroy(&r->lock);
	free_secret(&r->user);
	free_secret(&r->pass);
	free_secret(&r->token);
	free(r->repo);
	free(r->base);
	free(r->cainfo);
	free(r->cert);
	free(r->key);
	free(r->docker_config);
	free(r);
}

const char *snap_reg_base(const struct snap_reg *r)
{
	return r->base;
}

static const char manifest_accept[] = "application/vnd.oci.image.index.v1+json, "
                                      "application/vnd.docker.distribution.manifest.list.v2+json, "
                                      "application/vnd.oci.image.manifest.v1+json, "
                                      "application/vnd.docker.distribution.manifest.v2+json";

static void sha256_of(const void *p, size_t n, char *out)
{
	struct snap_hash h;
	snap_hash_init(&h);
	snap_hash_update(&h, p, n);
	snap_hash_final(&h, out);
}

static int manifest_once(struct snap_reg *r, const char *ref, size_t max, char **body, size_t *len,
                         char **ctype, char *digest, struct fc_error **err)
{
	_cleanup_free_ char *what = fc_asprintf("manifest %s of %s at %s", ref, r->repo, r->base);
	_cleanup_free_ char *url = fc_asprintf("%s/v2/%s/manifests/%s", r->base, r->repo, ref);
	struct xfer x;
	xfer_init(&x, r, -1);
	x.max = max;
	int ret = request(&x, url, manifest_accept, what, err);
	if (ret >= 0) {
		sha256_of(x.body.data ? x.body.data : "", x.body.len, digest);
		if (strncmp(ref, "sha256:", 7) == 0 && !FC_STREQ(ref, digest))
			ret = fc_error_relay(err, EINVAL, "%s: digest mismatch: content is %s",
			                     what, digest);
	}
	if (ret >= 0) {
		*len = x.body.len;
		fc_buf_append(&x.body, "", 1);
		*body = TAKE_PTR(x.body.data);
		*ctype = TAKE_PTR(x.ctype);
	}
	xfer_free(&x);
	return ret < 0 ? ret : 0;
}

int snap_reg_manifest(struct snap_reg *r, const char *ref, size_t max, char **body, size_t *len,
                      char **ctype, char *digest, struct fc_error **err)
{
	int ret = manifest_once(r, ref, max, body, len, ctype, digest, err);
	/* a mirror that lacks the image or fails: the next mirror, then the
	 * registry itself, as Docker does (everything is checked by digest, so
	 * endpoints may change between documents) */
	while (ret < 0 && ret != -ECANCELED && r->cand[r->cur].mirror && r->cur + 1 < r->n_cand) {
		struct fc_error *e = NULL;
		if (ping(r, r->opts, r->cur + 1, &e) < 0) {
			fc_error_free(*err);
			*err = e;
			continue; /* ping moved r->cur on */
		}
		fc_error_free(*err);
		*err = NULL;
		ret = manifest_once(r, ref, max, body, len, ctype, digest, err);
	}
	return ret;
}

int snap_reg_blob(struct snap_reg *r, const char *digest, int64_t size, size_t max, char **body,
                  struct fc_error **err)
{
	_cleanup_free_ char *what = fc_asprintf("blob %s of %s at %s", digest, r->repo, r->base);
	if (size < 0 || (uint64_t)size > max)
		return fc_error_relay(err, EFBIG, "%s: %lld bytes is more than the %zu allowed",
		                      what, (long long)size, max);
	_cleanup_free_ char *url = fc_asprintf("%s/v2/%s/blobs/%s", r->base, r->repo, digest);
	struct xfer x;
	xfer_init(&x, r, -1);
	x.max = (size_t)size;
	int ret = request(&x, url, NULL, what, err);
	char got[80];
	if (ret >= 0) {
		sha256_of(x.body.data ? x.body.data : "", x.body.len, got);
		if (x.body.len != (size_t)size)
			ret = fc_error_relay(err, EINVAL, "%s: %zu bytes, its descriptor says %lld",
			                     what, x.body.len, (long long)size);
		else if (!FC_STREQ(got, digest))
			ret = fc_error_relay(
			    err, EINVAL, "%s: digest mismatch: content is %s, descriptor says %s",
			    what, got, digest);
	}
	if (ret >= 0) {
		fc_buf_append(&x.body, "", 1);
		*body = TAKE_PTR(x.body.data);
	}
	xfer_free(&x);
	return ret < 0 ? ret : 0;
}

int snap_reg_stream(struct snap_reg *r, const char *digest, uint64_t size, int fd,
                    void (*progress)(void *data, uint64_t bytes, bool retrying), void *data,
                    struct fc_error **err)
{
	_cleanup_free_ char *what = fc_asprintf("blob %s", digest);
	_cleanup_free_ char *url = fc_asprintf("%s/v2/%s/blobs/%s", r->base, r->repo, digest);
	struct xfer x;
	xfer_init(&x, r, fd);
	x.size = size;
	x.progress = progress;
	x.pdata = data;
	bool reauthed = false;
	int ret = 0;
	unsigned attempt = 0;
	while (x.off < size || size == 0) {
		struct curl_slist *h = NULL;
		xfer_setup(&x, url, NULL, &h);
		xfer_reset(&x);
		char range[48];
		if (x.off) {
			snprintf(range, sizeof(range), "%llu-", (unsigned long long)x.off);
			curl_easy_setopt(x.c, CURLOPT_RANGE, range);
		}
		unsigned gen = set_auth(&x);
		uint64_t before = x.off;
		CURLcode cc = curl_easy_perform(x.c);
		curl_slist_free_all(h);
		curl_easy_getinfo(x.c, CURLINFO_RESPONSE_CODE, &x.status);
		if (r->cancel && *r->cancel) {
			ret = fc_error_relay(err, ECANCELED, "%s: cancelled", what);
			break;
		}
		if (x.sink_err) { /* the unpack stopped reading: it says why */
			ret = fc_error_relay(err, -x.sink_err, "%s: the unpack stopped reading",
			                     what);
			break;
		}
		if (x.overflow) {
			ret =
			    fc_error_relay(err, EINVAL,
			                   "%s: the registry sent more than the %llu bytes of its "
			                   "descriptor",
			                   what, (unsigned long long)size);
			break;
		}
		if (cc == CURLE_OK && x.status == 401 && !reauthed) {
			reauthed = true;
			if ((ret = reauth(r, x.www_auth, gen, err)) < 0) {
				fc_error_wrap(err, "%s", what);
				break;
			}
			continue;
		}
		if (cc == CURLE_OK && x.status == 206 && before) {
			unsigned long long from = 0;
			if (!x.content_range ||
			    sscanf(x.content_range, "bytes %llu-", &from) != 1 || from != before) {
				ret = fc_error_relay(
				    err, EPROTO, "%s: asked for bytes from %llu, got `%s`", what,
				    (unsigned long long)before,
				    x.content_range ? x.content_range : "no Content-Range");
				break;
			}
		}
		bool ok_status = cc == CURLE_OK && (x.status == 200 || x.status == 206);
		if (ok_status && (x.off == size || size == 0)) {
			if (size == 0)
				break;
			continue;
		}
		/* a dropped connection (or a body shorter than the blob): resume */
		bool again = cc != CURLE_OK ? retryable(cc)
		             : ok_status    ? true
		                            : retryable_status(x.status);
		/* a try that brought a MiB or more counts the failures anew; a
		 * server that drops every connection sooner runs out of tries */
		if (x.off - before >= (1u << 20))
			attempt = 0;
		if (again && attempt < r->retries) {
			if (progress)
				progress(data, x.off, true);
			sleep_backoff(r, attempt++, x.retry_after);
			continue;
		}
		if (cc != CURLE_OK)
			ret = fc_error_relay(err, cc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO,
			                     "%s: %s after %llu of %llu bytes%s", what,
			                     curl_text(&x, cc), (unsigned long long)x.off,
			                     (unsigned long long)size,
			                     attempt ? " (retries exhausted)" : "");
		else if (ok_status)
			ret = fc_error_relay(
			    err, EIO, "%s: truncated: the body ended after %llu of %llu bytes",
			    what, (unsigned long long)x.off, (unsigned long long)size);
		else
			ret = status_error(&x, what, err);
		break;
	}
	xfer_free(&x);
	return ret;
}
