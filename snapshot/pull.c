/* SPDX-License-Identifier: MIT */
/* pull.c: an image from a registry into the store, each layer unpacked while
 * it downloads.
 *
 * The reference is resolved to one platform's manifest (through an index
 * when there is one), its config read and checked, then the layers the store
 * lacks are fetched in parallel, largest first. For each, a thread streams
 * the blob into a pipe (registry.c: resumes with Range, retries); the layer's
 * own thread unpacks from the pipe (unpack.c: decompress, tar, io_uring
 * writes), hashing the blob and the diff_id on the way and copying the blob
 * into the staging dir. A layer is kept only when its size, blob digest and
 * diff_id all match; the commit (stage.c) renames everything into place and
 * records the name last, so a failed pull leaves the store as it was. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "snap-private.h"

#define MANIFEST_MAX   (4u << 20) /* as Docker's and distribution's limit */
#define CONFIG_MAX     (8u << 20)
#define INDEX_DEPTH    4
#define DEFAULT_JOBS   4
#define DEFAULT_LAYERS 500
#define PIPE_SIZE      (1 << 20)

struct layer_prog {
	enum fcsnap_layer_state state;
	uint64_t bytes, t0, last;
};

struct pull {
	struct fcsnap_store *s;
	const struct fcsnap_pull_opts *o;
	const char *refstr;
	struct snap_reg *reg;
	int stagefd;
	struct snap_job *jobs;
	size_t n;
	size_t *order; /* jobs by blob size, largest first */
	struct layer_prog *lp;
	struct snap_limits lim;
	volatile int cancel;
	pthread_mutex_t lock;
	size_t next;
	int first_err;
	struct fc_error *err;
	unsigned fetched;
	uint64_t bytes;
};

void fcsnap_pull_result_clear(struct fcsnap_pull_result *r)
{
	free(r->name);
	free(r->manifest_digest);
	memset(r, 0, sizeof(*r));
}

static const char *host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__i386__)
	return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "amd64";
#endif
}

/* ---- progress ----------------------------------------------------------- */

static void report_locked(struct pull *P, size_t i, bool force)
{
	if (!P->o->progress)
		return;
	struct layer_prog *l = &P->lp[i];
	uint64_t now = fc_now_ns();
	if (!force && now - l->last < 100000000ull)
		return;
	l->last = now;
	double secs = (double)(now - l->t0) / 1e9;
	struct fcsnap_pull_progress p = {
	    .layer = (unsigned)i + 1,
	    .layers = (unsigned)P->n,
	    .digest = P->jobs[i].want_digest,
	    .state = l->state,
	    .bytes = l->bytes,
	    .total = (uint64_t)P->jobs[i].want_size,
	    .rate = secs > 0 && l->t0 ? (double)l->bytes / secs : 0,
	};
	P->o->progress(&p, P->o->progress_data);
}

static void set_state(struct pull *P, size_t i, enum fcsnap_layer_state st)
{
	pthread_mutex_lock(&P->lock);
	P->lp[i].state = st;
	if (st == FCSNAP_LAYER_DOWNLOADING && !P->lp[i].t0)
		P->lp[i].t0 = fc_now_ns();
	report_locked(P, i, true);
	pthread_mutex_unlock(&P->lock);
}

struct dl {
	struct pull *P;
	size_t i;
	int wfd;
	int ret;
	struct fc_error *err;
};

static void on_bytes(void *data, uint64_t bytes, bool retrying)
{
	struct dl *d = data;
	struct pull *P = d->P;
	pthread_mutex_lock(&P->lock);
	struct layer_prog *l = &P->lp[d->i];
	l->bytes = bytes;
	enum fcsnap_layer_state st = retrying ? FCSNAP_LAYER_RETRYING : FCSNAP_LAYER_DOWNLOADING;
	bool changed = l->state != st;
	l->state = st;
	report_locked(P, d->i, changed);
	pthread_mutex_unlock(&P->lock);
}

/* ---- one layer ------------------------------------------------------------- */

static void *downloader(void *arg)
{
	struct dl *d = arg;
	struct snap_job *j = &d->P->jobs[d->i];
	/* a write to the pipe after the unpack gave up fails with EPIPE here
	 * instead of killing the process */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_setname_np(pthread_self(), "fcsnap-fetch");
	d->ret = snap_reg_stream(d->P->reg, j->want_digest, (uint64_t)j->want_size, d->wfd,
	                         on_bytes, d, &d->err);
	close(d->wfd);
	d->wfd = -1;
	if (d->ret == 0) /* every byte is in: the unpack finishes what the pipe holds */
		set_state(d->P, d->i, FCSNAP_LAYER_VERIFYING);
	/* a SIGPIPE left pending for this thread goes with it */
	struct timespec zero = {0, 0};
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	return NULL;
}

/* After a failed unpack: the rest of the blob into the staged copy, so the
 * digest of everything the registry sent can be named. */
static void drain(int rfd, int tee)
{
	char *buf = fc_malloc(1 << 16);
	for (;;) {
		ssize_t n = read(rfd, buf, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || fc_write_all(tee, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
}

static int do_layer(struct pull *P, size_t i, struct fc_error **err)
{
	struct snap_job *j = &P->jobs[i];
	const char *dhex = fcsnap_digest_hex(j->diff_id);
	char blobname[64], layername[100], got[80] = "", bdig[80] = "";
	snprintf(blobname, sizeof(blobname), "layerblob-%zu", i);
	snprintf(layername, sizeof(layername), "layer-%s", dhex);
	snprintf(j->digest, sizeof(j->digest), "%s", j->want_digest);
	j->size = (uint64_t)j->want_size;
	if (j->reuse_layer || j->dup) {
		/* the store has the layer (or this image has it twice): nothing to
		 * fetch; its blob is recorded under the digest the manifest names */
		set_state(P, i, FCSNAP_LAYER_EXISTS);
		return 0;
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fc_error_set(err, errno, "layer %zu: pipe", i + 1);
	(void)fcntl(pfd[1], F_SETPIPE_SZ, PIPE_SIZE); /* smaller is fine */
	_cleanup_close_ int rfd = pfd[0];
	struct dl d = {.P = P, .i = i, .wfd = pfd[1]};
	_cleanup_close_ int tee =
	    openat(P->stagefd, blobname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (tee < 0) {
		close(pfd[1]);
		return fc_error_set(err, errno, "layer %zu: create staged blob", i + 1);
	}
	j->blob_staged = true;
	if (mkdirat(P->stagefd, layername, 0755) < 0) {
		close(pfd[1]);
		return fc_error_set(err, errno, "layer %zu: create staging dir", i + 1);
	}
	_cleanup_close_ int dfd = openat(P->stagefd, layername, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		close(pfd[1]);
		return fc_error_set(err, errno, "layer %zu: open staging dir", i + 1);
	}
	set_state(P, i, FCSNAP_LAYER_DOWNLOADING);
	pthread_t th;
	if (pthread_create(&th, NULL, downloader, &d) != 0) {
		close(pfd[1]);
		return fc_error_relay(err, EAGAIN, "layer %zu: start the download thread", i + 1);
	}
	uint64_t bsize = 0;
	struct fc_error *ue = NULL;
	int r = snap_unpack_layer(rfd, j->comp, dfd, &P->lim, !P->o->no_uring, NULL, got, tee, bdig,
	                          &bsize, &ue);
	if (r < 0 && !P->cancel)
		drain(rfd, tee);
	close(TAKE_FD(rfd)); /* a download still running stops with EPIPE */
	pthread_join(th, NULL);
	int ret = 0;
	_cleanup_free_ char *what = fc_asprintf("layer %zu (blob %s)", i + 1, j->want_digest);
	if (d.ret < 0 && !(d.ret == -EPIPE && r < 0)) {
		/* the download failed: that is the story, not the broken stream */
		ret = d.ret;
		*err = TAKE_PTR(d.err);
		fc_error_wrap(err, "layer %zu", i + 1);
	} else if (r < 0) {
		/* a corrupt blob shows up as a broken stream: name the digest */
		char full[80];
		int h = -1;
		_cleanup_close_ int again = openat(P->stagefd, blobname, O_RDONLY | O_CLOEXEC);
		uint64_t fsz = 0;
		if (d.ret == 0 && again >= 0)
			h = snap_hash_fd(again, full, &fsz);
		if (h == 0 && fsz == (uint64_t)j->want_size && !FC_STREQ(full, j->want_digest)) {
			ret = fc_error_relay(
			    err, EINVAL, "%s: digest mismatch: content is %s, descriptor says %s",
			    what, full, j->want_digest);
		} else {
			ret = r;
			*err = TAKE_PTR(ue);
			fc_error_wrap(err, "%s, diff_id %s", what, j->diff_id);
		}
	} else if (bsize != (uint64_t)j->want_size) {
		ret = fc_error_relay(err, EINVAL, "%s: %llu bytes, its descriptor says %lld", what,
		                     (unsigned long long)bsize, (long long)j->want_size);
	} else if (!FC_STREQ(bdig, j->want_digest)) {
		ret = fc_error_relay(err, EINVAL,
		                     "%s: digest mismatch: content is %s, descriptor says %s", what,
		                     bdig, j->want_digest);
	} else if (!FC_STREQ(got, j->diff_id)) {
		ret = fc_error_relay(err, EINVAL,
		                     "%s: diff_id mismatch: content is %s, the config says %s",
		                     what, got, j->diff_id);
	}
	fc_error_free(ue);
	fc_error_free(d.err);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&P->lock);
	P->fetched++;
	P->bytes += bsize;
	pthread_mutex_unlock(&P->lock);
	set_state(P, i, FCSNAP_LAYER_DONE);
	return 0;
}

static void *worker(void *arg)
{
	struct pull *P = arg;
	for (;;) {
		pthread_mutex_lock(&P->lock);
		size_t k = P->next++;
		bool stop = P->first_err != 0;
		pthread_mutex_unlock(&P->lock);
		if (stop || k >= P->n)
			return NULL;
		size_t i = P->order[k];
		struct fc_error *e = NULL;
		if (do_layer(P, i, &e) < 0) {
			pthread_mutex_lock(&P->lock);
			if (!P->first_err && !(P->cancel && fc_error_code(e) == -ECANCELED)) {
				P->first_err = fc_error_code(e);
				P->err = TAKE_PTR(e);
				P->cancel = 1; /* the other layers stop */
			}
			pthread_mutex_unlock(&P->lock);
			fc_error_free(e);
		}
	}
}

/* ---- manifests ------------------------------------------------------------- */

static bool is_schema1(int sv, const char *mt)
{
	return sv == 1 || (mt && strstr(mt, "distribution.manifest.v1"));
}

/* The manifest for the platform: through indexes (nested up to INDEX_DEPTH). */
static int resolve(struct pull *P, const struct fcsnap_ref *ref, const char *platform, char **mbuf,
                   char *mdigest, struct fc_error **err)
{
	_cleanup_free_ char *want = fc_strdup(ref->digest ? ref->digest : ref->tag);
	int64_t want_size = -1;
	for (int depth = 0; depth <= INDEX_DEPTH; depth++) {
		_cleanup_free_ char *buf = NULL, *ctype = NULL, *mt = NULL;
		_cleanup_free_ char *label =
		    depth ? fc_asprintf("manifest %s", want) : fc_strdup("the manifest");
		size_t len = 0;
		char dg[80];
		int r = snap_reg_manifest(P->reg, want, MANIFEST_MAX, &buf, &len, &ctype, dg, err);
		if (r < 0)
			return r;
		if (want_size >= 0 && (int64_t)len != want_size)
			return fc_error_relay(err, EINVAL, "%s: %zu bytes, the index says %lld",
			                      label, len, (long long)want_size);
		if (strlen(buf) != len)
			return fc_error_relay(err, EINVAL, "%s: not a JSON document (NUL byte)",
			                      label);
		int sv = -1;
		int kind = snap_doc_head(buf, len, &sv, &mt, err);
		if (kind < 0 && *err)
			return fc_error_wrap(err, "%s", label);
		const char *media = mt ? mt : ctype;
		if (is_schema1(sv, media) || is_schema1(sv, ctype))
			return fc_error_relay(
			    err, EPROTONOSUPPORT,
			    "%s is Docker image manifest schema 1, which is "
			    "not supported (deprecated since 2017, removed from "
			    "Docker 20.10): push the image again with a current tool",
			    label);
		if (kind == 2) {
			struct snap_index ix;
			if (snap_parse_index(buf, &ix, err) < 0) {
				snap_index_clear(&ix);
				return fc_error_wrap(err, "%s (an index)", label);
			}
			const struct snap_desc *pick = NULL;
			for (size_t i = 0; i < ix.n && !pick; i++)
				if (snap_platform_match(&ix.m[i], platform))
					pick = &ix.m[i];
			if (!pick) {
				_cleanup_free_ char *have = NULL;
				struct fc_buf b = {0};
				for (size_t i = 0; i < ix.n && i < 16; i++)
					if (ix.m[i].os && ix.m[i].arch)
						fc_buf_printf(&b, "%s%s/%s%s%s", b.len ? ", " : "",
						              ix.m[i].os, ix.m[i].arch,
						              ix.m[i].variant ? "/" : "",
						              ix.m[i].variant ? ix.m[i].variant
						                              : "");
				have = b.data;
				r = fc_error_relay(
				    err, ENOENT,
				    "no manifest for platform %s in the index%s%s (it has: %s)",
				    platform, depth ? " " : "", depth ? want : "",
				    have ? have : "no platforms");
				snap_index_clear(&ix);
				return r;
			}
			free(want);
			want = fc_strdup(pick->digest);
			want_size = pick->size;
			snap_index_clear(&ix);
			continue;
		}
		if (kind != 1)
			return fc_error_relay(err, EPROTONOSUPPORT,
			                      "%s: neither an image manifest nor an index "
			                      "(mediaType `%s`)",
			                      label, media ? media : "none");
		if (media && !FC_STREQ(media, "application/vnd.oci.image.manifest.v1+json") &&
		    !FC_STREQ(media, "application/vnd.docker.distribution.manifest.v2+json") &&
		    !FC_STREQ(media, "application/json"))
			return fc_error_relay(err, EPROTONOSUPPORT,
			                      "%s: unsupported media type `%s`", label, media);
		snprintf(mdigest, 80, "%s", dg);
		*mbuf = TAKE_PTR(buf);
		return 0;
	}
	return fc_error_relay(err, ELOOP, "index nesting deeper than %d levels", INDEX_DEPTH);
}

static bool foreign_layer(const char *mt)
{
	return mt && (strstr(mt, "foreign") || strstr(mt, "nondistributable"));
}

/* The layers of the manifest, checked against the config. */
static int plan(struct pull *P, const char *mbuf, const char *mdigest, char *cdigest,
                struct snap_config_doc *cfg, struct fc_error **err)
{
	struct snap_manifest m;
	int r = snap_parse_manifest(mbuf, &m, err);
	if (r < 0) {
		snap_manifest_clear(&m);
		return fc_error_wrap(err, "manifest %s", mdigest);
	}
	unsigned max = P->o->max_layers ? P->o->max_layers : DEFAULT_LAYERS;
	const char *cmt = m.config.media_type;
	if (m.n_layers > max)
		r = fc_error_relay(err, E2BIG,
		                   "manifest %s lists %zu layers, more than the %u allowed",
		                   mdigest, m.n_layers, max);
	else if (m.n_layers == 0)
		r = fc_error_relay(err, EINVAL, "manifest %s has no layers", mdigest);
	else if (cmt && !FC_STREQ(cmt, "application/vnd.oci.image.config.v1+json") &&
	         !FC_STREQ(cmt, "application/vnd.docker.container.image.v1+json"))
		r = fc_error_relay(err, EPROTONOSUPPORT,
		                   "manifest %s is not a container image: its config is `%s`",
		                   mdigest, cmt);
	for (size_t i = 0; r >= 0 && i < m.n_layers; i++) {
		const struct snap_desc *l = &m.layers[i];
		if (foreign_layer(l->media_type))
			r = fc_error_relay(
			    err, EPROTONOSUPPORT,
			    "layer %zu (blob %s) is a foreign layer (`%s`): its content "
			    "is not in the registry (Windows base layers); not supported",
			    i + 1, l->digest, l->media_type);
		else if (fcsnap_layer_compression(l->media_type) < 0)
			r = fc_error_relay(err, EPROTONOSUPPORT,
			                   "layer %zu (blob %s): unsupported media type `%s`",
			                   i + 1, l->digest, l->media_type ? l->media_type : "");
		else if ((uint64_t)l->size > P->lim.max_size)
			r = fc_error_relay(
			    err, EFBIG,
			    "layer %zu (blob %s): %lld bytes, more than the layer limit", i + 1,
			    l->digest, (long long)l->size);
	}
	_cleanup_free_ char *cbuf = NULL;
	if (r >= 0)
		r = snap_reg_blob(P->reg, m.config.digest, m.config.size, CONFIG_MAX, &cbuf, err);
	if (r >= 0 &&
	    fc_json_check_depth(cbuf, strlen(cbuf), FC_JSON_MAX_DEPTH, "image config", err) < 0)
		r = fc_error_code(*err);
	if (r >= 0 && (r = snap_parse_config(cbuf, cfg, err)) < 0)
		fc_error_wrap(err, "config %s", m.config.digest);
	if (r >= 0 && cfg->n_diff_ids != m.n_layers)
		r = fc_error_relay(err, EINVAL,
		                   "manifest %s has %zu layers but its config lists %zu diff_ids",
		                   mdigest, m.n_layers, cfg->n_diff_ids);
	if (r >= 0) {
		snprintf(cdigest, 80, "%s", m.config.digest);
		_cleanup_free_ char *name = fc_asprintf("blob-%s", fcsnap_digest_hex(cdigest));
		r = fc_write_file_atomic_at(P->stagefd, name, cbuf, strlen(cbuf), 0600, err);
	}
	if (r >= 0) {
		P->jobs = fc_calloc(m.n_layers + 1, sizeof(*P->jobs));
		for (size_t i = 0; i < m.n_layers; i++) {
			struct snap_job *j = &P->jobs[P->n++];
			j->lockfd = -1;
			j->comp = fcsnap_layer_compression(m.layers[i].media_type);
			j->want_digest = fc_strdup(m.layers[i].digest);
			j->want_size = m.layers[i].size;
			j->media_type = fc_strdup(m.layers[i].media_type);
			j->diff_id = fc_strdup(cfg->diff_ids[i]);
		}
	}
	snap_manifest_clear(&m);
	return r;
}

static int cmp_size(const void *a, const void *b, void *arg)
{
	const struct snap_job *jobs = arg;
	int64_t x = jobs[*(const size_t *)a].want_size, y = jobs[*(const size_t *)b].want_size;
	return x > y ? -1 : x < y;
}

/* ---- the registries config ----------------------------------------------------- */

static int load_conf(const struct fcsnap_pull_opts *o, struct snap_reg_conf *c,
                     struct fc_error **err)
{
	memset(c, 0, sizeof(*c));
	const char *path = o->config;
	bool must = path != NULL;
	if (!path && getenv("FCSTART_REGISTRY_CONFIG") && *getenv("FCSTART_REGISTRY_CONFIG")) {
		path = getenv("FCSTART_REGISTRY_CONFIG");
		must = true;
	}
	if (!path)
		path = "/etc/fcstart/registries.json";
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct fc_error *e = NULL;
	int r = fc_read_file_at(AT_FDCWD, path, &buf, &len, 1 << 20, &e);
	if (r == -ENOENT && !must) {
		fc_error_free(e);
		return 0;
	}
	if (r < 0) {
		*err = e;
		return fc_error_wrap(err, "registry config");
	}
	if (snap_parse_reg_conf(buf, len, c, err) < 0)
		return fc_error_wrap(err, "`%s`", path);
	return 0;
}

/* ---- the pull ---------------------------------------------------------------- */

int fcsnap_pull(struct fcsnap_store *s, const char *refstr, const struct fcsnap_pull_opts *opts,
                struct fcsnap_pull_result *res, struct fc_error **err)
{
	static const struct fcsnap_pull_opts defaults = {0};
	static unsigned counter;
	struct pull P = {.s = s, .o = opts ? opts : &defaults, .refstr = refstr, .stagefd = -1};
	struct fcsnap_ref ref = {0};
	struct snap_reg_conf conf = {0};
	struct snap_config_doc cfg = {0};
	_cleanup_free_ char *name = NULL, *mbuf = NULL, *stage = NULL, *platform = NULL;
	char mdigest[80] = "", cdigest[80] = "";
	int lk = -1, r;
	pthread_mutex_init(&P.lock, NULL);
	P.lim.max_size = P.o->max_layer_size ? P.o->max_layer_size : (64ull << 30);
	P.lim.max_entries = 4000000;
	P.lim.max_path = 4096;
	if (res)
		memset(res, 0, sizeof(*res));

	if ((r = fcsnap_ref_parse(refstr, &ref, err)) < 0)
		goto out;
	name = P.o->name ? fc_strdup(P.o->name) : fcsnap_ref_string(&ref);
	if (!snap_valid_name(name)) {
		r = fc_error_relay(err, EINVAL, "invalid image name `%s`", name);
		goto out;
	}
	platform = P.o->platform ? fc_strdup(P.o->platform) : fc_asprintf("linux/%s", host_arch());
	if ((r = load_conf(P.o, &conf, err)) < 0)
		goto out;
	struct snap_reg_opts ro = {
	    .ref = &ref,
	    .conf = &conf,
	    .insecure = P.o->insecure,
	    .docker_config = P.o->docker_config,
	    .retries = P.o->retries ? P.o->retries : 4,
	    .connect_timeout_s = P.o->connect_timeout_s,
	    .stall_timeout_s = P.o->stall_timeout_s,
	    .cancel = &P.cancel,
	};
	if ((r = snap_reg_open(&ro, &P.reg, err)) < 0)
		goto out;
	if ((r = resolve(&P, &ref, platform, &mbuf, mdigest, err)) < 0)
		goto out;

	/* the store: shared lock, a staging dir of our own */
	if ((lk = r = snap_lock_shared(s, err)) < 0)
		goto out;
	stage = fc_asprintf("tmp/stage-%d-%u-%llx", (int)getpid(),
	                    __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST),
	                    (unsigned long long)fc_now_ns());
	if (mkdirat(s->dirfd, stage, 0700) < 0 ||
	    (P.stagefd = openat(s->dirfd, stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = fc_error_set(err, errno, "create staging dir `%s/%s`", fcsnap_store_path(s),
		                 stage);
		goto out;
	}
	{
		_cleanup_free_ char *mname = fc_asprintf("blob-%s", fcsnap_digest_hex(mdigest));
		if ((r = fc_write_file_atomic_at(P.stagefd, mname, mbuf, strlen(mbuf), 0600, err)) <
		    0)
			goto out;
	}
	if ((r = plan(&P, mbuf, mdigest, cdigest, &cfg, err)) < 0)
		goto out;
	if ((r = snap_lock_layers(s, P.jobs, P.n, err)) < 0)
		goto out;

	/* the layers, largest first, jobs at a time */
	P.lp = fc_calloc(P.n, sizeof(*P.lp));
	P.order = fc_calloc(P.n, sizeof(*P.order));
	for (size_t i = 0; i < P.n; i++)
		P.order[i] = i;
	qsort_r(P.order, P.n, sizeof(*P.order), cmp_size, P.jobs);
	pthread_mutex_lock(&P.lock);
	for (size_t i = 0; i < P.n; i++)
		report_locked(&P, i, true);
	pthread_mutex_unlock(&P.lock);
	unsigned jobs = P.o->jobs ? P.o->jobs : DEFAULT_JOBS;
	if (jobs > 16)
		jobs = 16;
	if (jobs > P.n)
		jobs = (unsigned)P.n;
	struct snap_writeback wb;
	snap_writeback_start(&wb, P.stagefd);
	pthread_t th[16];
	unsigned started = 0;
	for (; started < jobs; started++)
		if (pthread_create(&th[started], NULL, worker, &P) != 0)
			break;
	if (started == 0)
		worker(&P);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	snap_writeback_stop(&wb);
	if (P.first_err) {
		*err = TAKE_PTR(P.err);
		r = P.first_err;
		goto out;
	}
	r = snap_commit(s, P.stagefd, P.jobs, P.n, name, mdigest, cdigest, err);
	if (r >= 0 && res) {
		res->name = fc_strdup(name);
		res->manifest_digest = fc_strdup(mdigest);
		res->layers = (unsigned)P.n;
		res->fetched = P.fetched;
		res->bytes = P.bytes;
	}
out:
	if (r < 0)
		fc_error_wrap(err, "pull `%s`", refstr);
	fc_error_free(P.err);
	for (size_t i = 0; i < P.n; i++) {
		free(P.jobs[i].want_digest);
		free(P.jobs[i].media_type);
		free(P.jobs[i].diff_id);
		if (P.jobs[i].lockfd >= 0)
			close(P.jobs[i].lockfd);
	}
	free(P.jobs);
	free(P.lp);
	free(P.order);
	if (P.stagefd >= 0)
		close(P.stagefd);
	if (stage)
		fc_rm_rf_at(s->dirfd, stage, NULL);
	if (lk >= 0)
		snap_unlock(lk);
	snap_reg_free(P.reg);
	snap_config_doc_clear(&cfg);
	snap_reg_conf_clear(&conf);
	fcsnap_ref_clear(&ref);
	pthread_mutex_destroy(&P.lock);
	return r < 0 ? r : 0;
}

/* ---- deploy by reference ------------------------------------------------------ */

int fcsnap_pull_policy_parse(const char *s)
{
	if (!s)
		return -EINVAL;
	if (!strcasecmp(s, "missing") || !strcasecmp(s, "ifnotpresent"))
		return FCSNAP_PULL_MISSING;
	if (!strcasecmp(s, "always"))
		return FCSNAP_PULL_ALWAYS;
	if (!strcasecmp(s, "never"))
		return FCSNAP_PULL_NEVER;
	return -EINVAL;
}

int fcsnap_image_get_ref(struct fcsnap_store *s, const char *ref, enum fcsnap_pull_policy policy,
                         const struct fcsnap_pull_opts *opts, struct fcsnap_image **out,
                         struct fc_error **err)
{
	struct fc_error *e = NULL;
	/* a name in the store as given ("fn-a", or a full reference) */
	if (policy != FCSNAP_PULL_ALWAYS) {
		int r = fcsnap_image_get(s, ref, out, &e);
		if (r >= 0 || r != -ENOENT) {
			if (r < 0)
				*err = e;
			else
				fc_error_free(e);
			return r;
		}
		fc_error_free(e);
		e = NULL;
	}
	struct fcsnap_ref pr;
	int r = fcsnap_ref_parse(ref, &pr, &e);
	if (r < 0) {
		/* neither a stored name nor a reference */
		fc_error_free(e);
		return fc_error_relay(err, ENOENT,
		                      "image `%s` is not in store `%s`, and is no image reference "
		                      "to pull",
		                      ref, fcsnap_store_path(s));
	}
	_cleanup_free_ char *name = fcsnap_ref_string(&pr);
	fcsnap_ref_clear(&pr);
	if (policy != FCSNAP_PULL_ALWAYS) {
		r = fcsnap_image_get(s, name, out, &e);
		if (r >= 0 || r != -ENOENT) {
			if (r < 0)
				*err = e;
			else
				fc_error_free(e);
			return r;
		}
		fc_error_free(e);
		e = NULL;
		if (policy == FCSNAP_PULL_NEVER)
			return fc_error_relay(err, ENOENT,
			                      "image `%s`%s%s%s is not in store `%s`, and the pull "
			                      "policy is never",
			                      ref, FC_STREQ(ref, name) ? "" : " (",
			                      FC_STREQ(ref, name) ? "" : name,
			                      FC_STREQ(ref, name) ? "" : ")", fcsnap_store_path(s));
	}
	struct fcsnap_pull_opts o = opts ? *opts : (struct fcsnap_pull_opts){0};
	o.name = name;
	if ((r = fcsnap_pull(s, ref, &o, NULL, err)) < 0)
		return r;
	return fcsnap_image_get(s, name, out, err);
}
