/* SPDX-License-Identifier: MIT */
/* bench-coldstart-engines.c: the docker and containerd paths of `fcstart bench
 * coldstart`. Per tier, started on first use from inside the limits' cgroup
 * (as tests/e2e does it): a PRIVATE containerd (root and state on the tier,
 * sockets under the harness's dir, CRI disabled, no TCP listener) and a PRIVATE
 * dockerd on it (data-root on the tier, exec-root, pidfile and unix socket
 * under the harness's dir, no bridge, no iptables). Both are stopped by pid
 * at the end, with the shims of our containerd, and their mounts go with the
 * tier's teardown.
 *
 * The same image: containerd imports the archive as it is (`ctr images
 * import`, which unpacks); dockerd 20.10 loads only docker-archive tarballs, so
 * a copy of an oci-archive gets a docker manifest.json next to its OCI files
 * naming the same compressed blobs (docker decompresses them on load).
 *
 * Scenarios: uncached (image removed, page cache dropped: import + run to the
 * first byte), cached (page cache dropped: run), warm (run). The run is
 * `docker run --rm` / `ctr run --rm` of `/bin/sh -c 'echo ready'`; first_byte
 * runs from its start to the first byte on our pipe (create and start are
 * inside it). docker's containers get the tier's limits with --device-read-bps
 * and friends; ctr has no such flags, so the containerd containers' own reads
 * (busybox's sh) are not limited. */
#include "bench-coldstart.h"

#include <sys/stat.h>

#define CONTAINERD BENCH_CONTAINERD
#define CTR        BENCH_CTR
#define DOCKERD    BENCH_DOCKERD

struct eng_tier {
	struct bench_engine eng; /* dir under the harness's: sockets, exec-root, logs */
	bool eng_init;
	char *docker_tar; /* the docker-loadable copy on the tier */
	char *ctr_image;  /* the name ctr gave the imported image */
	bool failed;
	bool docker_loaded, ctr_loaded;
};

static const char *const run_dirs[] = {"/run/containerd", "/run/containerd/fifo",
                                       "/run/containerd/s", "/run/containerd/runc"};

struct eng_priv {
	char *ns;                          /* our containerd namespace: fcbcs<pid> */
	bool had[FC_ARRAY_SIZE(run_dirs)]; /* which default dirs existed before us */
	struct eng_tier t[CS_NTIERS];
};

static bool is_docker(const struct cs_path *p)
{
	return FC_STREQ(p->name, "docker");
}

static int eng_probe(struct cs_run *R, struct cs_path *p, char **why)
{
	const char *missing = bench_engine_missing(is_docker(p));
	if (missing) {
		*why = fc_asprintf("`%s` is not installed (apt-get install docker.io containerd)",
		                   missing);
		return -ENOENT;
	}
	struct stat st;
	if (stat(R->image_abs, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = fc_strdup("needs the image as an archive file (an OCI layout dir is not "
		                 "loadable by docker/ctr)");
		return -ENOTSUP;
	}
	struct eng_priv *pp = fc_calloc(1, sizeof(*pp));
	_cleanup_free_ char *client = NULL;
	if (is_docker(p) && access(BENCH_DOCKER, X_OK) != 0 &&
	    !(client = bench_find_in_path("docker"))) {
		free(pp);
		*why = fc_asprintf("no docker client (%s, PATH)", BENCH_DOCKER);
		return -ENOENT;
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(run_dirs); i++)
		pp->had[i] = access(run_dirs[i], F_OK) == 0;
	pp->ns = fc_asprintf("fcbcs%d", (int)getpid());
	p->priv = pp;
	p->bin = fc_strdup(is_docker(p) ? DOCKERD : CTR);
	p->version = bench_program_version(is_docker(p) ? DOCKERD : CONTAINERD);
	return 0;
}

static bool eng_has_scenario(const struct cs_path *p, enum cs_scenario sc)
{
	(void)p;
	return sc != CS_POOL;
}

static int start_engines(struct cs_run *R, struct eng_priv *pp, struct cs_tier *t, bool docker,
                         struct fc_error **err)
{
	struct eng_tier *et = &pp->t[t->kind];
	if (!et->eng_init) {
		_cleanup_free_ char *dir =
		    fc_asprintf("%s/%s-%s", R->tiers.workdir, docker ? "docker" : "ctd",
		                cs_tier_names[t->kind]);
		_cleanup_free_ char *root =
		    fc_asprintf("%s/ctd-%s", t->dir, docker ? "docker" : "ctr");
		_cleanup_free_ char *data = fc_asprintf("%s/docker", t->dir);
		int r = bench_engine_init(&et->eng, dir, root, data, pp->ns, err);
		et->eng.stop = &bench_stop;
		et->eng_init = true;
		if (r < 0)
			return r;
	}
	return bench_engine_start(&et->eng, docker, err);
}

/* A copy of the oci-archive with a docker manifest.json naming the same blobs. */
static int docker_archive(struct cs_run *R, struct eng_tier *et, struct cs_tier *t,
                          struct fc_error **err)
{
	static const char script[] =
	    "set -eu\n"
	    "a=$1 out=$2 tag=$3 tmp=$4\n"
	    "mkdir -p \"$tmp\"\n"
	    "if tar -tf \"$a\" | grep -qxE '(\\./)?manifest\\.json'; then cp \"$a\" \"$out\"; exit "
	    "0; "
	    "fi\n"
	    "tar -xf \"$a\" -C \"$tmp\" index.json\n"
	    "m=$(jq -r '.manifests[0].digest' \"$tmp/index.json\" | sed 's/^sha256://')\n"
	    "tar -xf \"$a\" -C \"$tmp\" \"blobs/sha256/$m\"\n"
	    "jq -c --arg tag \"$tag\" '[{Config: (\"blobs/sha256/\" + (.config.digest | "
	    "sub(\"^sha256:\"; \"\"))), RepoTags: [$tag], Layers: [.layers[].digest | "
	    "\"blobs/sha256/\" + sub(\"^sha256:\"; \"\")]}]' \"$tmp/blobs/sha256/$m\" > "
	    "\"$tmp/manifest.json\"\n"
	    "cp \"$a\" \"$out\"\n"
	    "tar -rf \"$out\" -C \"$tmp\" manifest.json\n"
	    "rm -rf \"$tmp\"\n";
	et->docker_tar = fc_asprintf("%s/image-docker.tar", t->dir);
	_cleanup_free_ char *tmp = fc_asprintf("%s/dk-manifest", et->eng.dir);
	char *argv[] = {"/bin/sh",     "-c",       (char *)script,
	                "sh",          t->archive, et->docker_tar,
	                CS_DOCKER_TAG, tmp,        NULL};
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	return cs_exec(R, &x, "make a docker-loadable copy of the image", err);
}

/* One `docker run` or `ctr run` (argv): ms from the spawn to the first byte
 * of its stdout, then to its end and exit (status 0 wanted). */
static int run_first_byte(struct cs_run *R, char *const argv[], double *first,
                          struct fc_error **err)
{
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.out = BENCH_EXEC_PIPE;
	x.stop = &bench_stop;
	int r = cs_exec(R, &x, argv[FC_STREQ(argv[0], CTR) ? 5 : 3], err);
	if (r < 0)
		return r;
	if (x.output.first_ms < 0)
		return fc_error_set(err, ETIMEDOUT, "no output from the container");
	*first = x.output.first_ms;
	return 0;
}

/* A docker-archive of the user's carries its own name (RepoTags): after `docker
 * load -q` (whose output names what it loaded) that name becomes CS_DOCKER_TAG,
 * the only one, so that `docker rmi` of the uncached scenario removes the image. */
static int docker_retag(struct cs_run *R, struct eng_tier *et, const char *loaded,
                        struct fc_error **err)
{
	const char *p = strstr(loaded, "Loaded image: ");
	bool by_id = !p && (p = strstr(loaded, "Loaded image ID: "));
	if (!p)
		return fc_error_set(err, EPROTO, "docker load: no image named in `%s`", loaded);
	p += by_id ? strlen("Loaded image ID: ") : strlen("Loaded image: ");
	_cleanup_free_ char *name = fc_strndup(p, strcspn(p, "\n"));
	if (FC_STREQ(name, CS_DOCKER_TAG) || FC_STREQ(name, "docker.io/library/" CS_DOCKER_TAG))
		return 0;
	char *host = et->eng.docker_host;
	char *tag[] = {et->eng.docker, "--host", host, "tag", name, CS_DOCKER_TAG, NULL};
	struct bench_exec x = BENCH_EXEC_INIT(tag);
	int r = cs_exec(R, &x, "docker tag", err);
	if (r < 0 || by_id)
		return r;
	char *untag[] = {et->eng.docker, "--host", host, "rmi", name, NULL};
	x = (struct bench_exec)BENCH_EXEC_INIT(untag);
	return cs_exec(R, &x, "docker rmi (the archive's own name)", err);
}

static int ctr_image_name(struct cs_run *R, struct eng_priv *pp, struct eng_tier *et,
                          struct fc_error **err)
{
	char *argv[] = {CTR,  "--address", et->eng.ctd_sock, "--namespace", pp->ns, "images", "ls",
	                "-q", NULL};
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.out = BENCH_EXEC_PIPE;
	int r = cs_exec(R, &x, "ctr images ls", err);
	if (r < 0)
		return r;
	x.output.buf[strcspn(x.output.buf, "\n")] = 0;
	if (!x.output.buf[0])
		return fc_error_set(err, ENOENT, "ctr images import recorded no image name");
	free(et->ctr_image);
	et->ctr_image = fc_strdup(x.output.buf);
	return 0;
}

static int eng_measure(struct cs_run *R, struct cs_path *p, struct cs_tier *t, enum cs_scenario sc,
                       double ph[PH_COUNT], struct fc_error **err)
{
	struct eng_priv *pp = p->priv;
	struct eng_tier *et = &pp->t[t->kind];
	bool docker = is_docker(p);
	int r;
	for (int i = 0; i < PH_COUNT; i++)
		ph[i] = -1;
	if (et->failed)
		return fc_error_set(err, EIO, "the engines on this tier failed before");
	if ((r = start_engines(R, pp, t, docker, err)) < 0) {
		et->failed = true;
		return r;
	}
	if (docker && !et->docker_tar && (r = docker_archive(R, et, t, err)) < 0) {
		et->failed = true;
		return r;
	}
	char *host = et->eng.docker_host;
	bool loaded = docker ? et->docker_loaded : et->ctr_loaded;
	char *ctr[] = {CTR, "--address", et->eng.ctd_sock, "--namespace", pp->ns, NULL};
	/* uncached: remove the image first (untimed); others: make sure it is there */
	if (sc == CS_UNCACHED && loaded) {
		if (docker) {
			char *rmi[] = {et->eng.docker, "--host",      host, "rmi",
			               "-f",           CS_DOCKER_TAG, NULL};
			struct bench_exec x = BENCH_EXEC_INIT(rmi);
			if ((r = cs_exec(R, &x, "docker rmi", err)) < 0)
				return r;
			et->docker_loaded = false;
		} else {
			char *rm[] = {ctr[0],   ctr[1], ctr[2],   ctr[3],        ctr[4],
			              "images", "rm",   "--sync", et->ctr_image, NULL};
			struct bench_exec x = BENCH_EXEC_INIT(rm);
			if ((r = cs_exec(R, &x, "ctr images rm", err)) < 0)
				return r;
			et->ctr_loaded = false;
		}
		loaded = false;
	}
	if (sc != CS_WARM && (r = cs_drop_caches(err)) < 0)
		return r;
	if (!loaded) {
		char *load[] = {et->eng.docker, "--host", host,           "load",
		                "-q",           "-i",     et->docker_tar, NULL};
		char *imp[] = {ctr[0],   ctr[1],   ctr[2],     ctr[3], ctr[4],
		               "images", "import", t->archive, NULL};
		struct bench_exec x = BENCH_EXEC_INIT(docker ? load : imp);
		x.out = BENCH_EXEC_PIPE;
		if ((r = cs_exec(R, &x, docker ? "docker load" : "ctr images import", err)) < 0)
			return r;
		double ms = x.ms;
		if (docker) {
			et->docker_loaded = true;
			if ((r = docker_retag(R, et, x.output.buf, err)) < 0)
				return r;
		} else {
			et->ctr_loaded = true;
			if (!et->ctr_image && (r = ctr_image_name(R, pp, et, err)) < 0)
				return r;
		}
		if (sc == CS_UNCACHED)
			ph[PH_IMPORT] = ms;
		else if (sc != CS_WARM && (r = cs_drop_caches(err)) < 0)
			return r;
	}
	double first = -1;
	if (docker) {
		char lim[4][96];
		const char *flags[4] = {"--device-read-bps", "--device-write-bps",
		                        "--device-read-iops", "--device-write-iops"};
		char *run[32];
		int n = 0;
		run[n++] = et->eng.docker;
		run[n++] = "--host";
		run[n++] = host;
		run[n++] = "run";
		run[n++] = "--rm";
		run[n++] = "--network";
		run[n++] = "none";
		for (int i = 0; t->loopdev && i < 4; i++) {
			snprintf(lim[i], sizeof(lim[i]), "%s:%llu", t->loopdev,
			         (unsigned long long)(i < 2 ? t->lim_bps : t->lim_iops));
			run[n++] = (char *)flags[i];
			run[n++] = lim[i];
		}
		run[n++] = CS_DOCKER_TAG;
		run[n++] = "/bin/sh";
		run[n++] = "-c";
		run[n++] = "echo ready";
		run[n] = NULL;
		r = run_first_byte(R, run, &first, err);
	} else {
		_cleanup_free_ char *id = fc_asprintf("fcbcs-%d-%lu", (int)getpid(), ++R->seq);
		char *run[] = {ctr[0], ctr[1],       ctr[2],        ctr[3], ctr[4],
		               "run",  "--rm",       et->ctr_image, id,     "/bin/sh",
		               "-c",   "echo ready", NULL};
		r = run_first_byte(R, run, &first, err);
	}
	if (r < 0)
		return r;
	ph[PH_FIRST] = first;
	ph[PH_TOTAL] = first + (ph[PH_IMPORT] > 0 ? ph[PH_IMPORT] : 0);
	return 0;
}

static void eng_cleanup(struct cs_run *R, struct cs_path *p)
{
	struct eng_priv *pp = p->priv;
	(void)R;
	if (!pp)
		return;
	for (int k = 0; k < CS_NTIERS; k++) {
		struct eng_tier *et = &pp->t[k];
		if (et->eng_init) {
			bench_engine_stop(&et->eng);
			bench_engine_free(&et->eng);
		}
		cs_reap_strays();
		free(et->docker_tar);
		free(et->ctr_image);
	}
	/* the shims' default dirs: our namespace's runc root, and what we made */
	_cleanup_free_ char *nsdir = fc_asprintf("/run/containerd/runc/%s", pp->ns);
	_cleanup_free_ char *nsdir2 = fc_asprintf("%s/%s", nsdir, pp->ns);
	for (int i = 0; i < 50 && access(nsdir, F_OK) == 0; i++) {
		rmdir(nsdir2);
		if (rmdir(nsdir) == 0 || errno != ENOTEMPTY)
			break;
		bench_sleep_ms(20, NULL); /* a killed shim's runc may still be tidying up */
	}
	for (size_t i = FC_ARRAY_SIZE(run_dirs); i-- > 0;)
		if (!pp->had[i])
			rmdir(run_dirs[i]);
	free(pp->ns);
	free(pp);
	p->priv = NULL;
}

const struct cs_path_ops cs_engine_ops = {
    .name = "engine",
    .probe = eng_probe,
    .has_scenario = eng_has_scenario,
    .measure = eng_measure,
    .cleanup = eng_cleanup,
};
