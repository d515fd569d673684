/* SPDX-License-Identifier: MIT */
/* test-bench-image.c: the busybox container of the benchmarks, made without
 * the source tree: the bundle (busybox, a link per applet, /etc, the default
 * config.json) and the oci-archive that fcstart's store imports (and whose
 * docker manifest.json names the same config and layer blobs as its OCI
 * manifest). Skips when /bin/busybox is not the static one. */
#include "bench.h"
#include "fcsnap.h"
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

/* The members of a tar: names, and the text of the small ones. */
static int tar_members(const char *path, char **names, size_t max, char **index, char **docker)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		archive_read_free(a);
		return -1;
	}
	struct archive_entry *e;
	size_t n = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK && n < max) {
		const char *name = archive_entry_pathname(e);
		names[n++] = fc_strdup(name);
		char **want = FC_STREQ(name, "index.json")      ? index
		              : FC_STREQ(name, "manifest.json") ? docker
		                                                : NULL;
		if (want) {
			size_t len = (size_t)archive_entry_size(e);
			*want = fc_calloc(len + 1, 1);
			archive_read_data(a, *want, len);
		}
	}
	archive_read_free(a);
	return (int)n;
}

int main(void)
{
	char dir[] = "/tmp/test-bench-image.XXXXXX";
	struct fc_error *e = NULL;
	if (!mkdtemp(dir))
		return 1;
	_cleanup_free_ char *bundle = fc_asprintf("%s/bundle", dir);
	int r = bench_busybox_bundle(bundle, &e);
	if (r < 0 && (r == -ENOENT || r == -ENOEXEC)) {
		printf("1..0 # SKIP no static busybox: %s\n", e->msg);
		fc_error_free(e);
		fc_rm_rf_at(AT_FDCWD, dir, NULL);
		return 77;
	}
	ok(r == 0, "bundle made%s%s", e ? ": " : "", e ? e->msg : "");
	fc_error_free(TAKE_PTR(e));

	struct stat st;
	char target[64] = "";
	_cleanup_free_ char *bb = fc_asprintf("%s/rootfs/bin/busybox", bundle);
	_cleanup_free_ char *sh = fc_asprintf("%s/rootfs/bin/sh", bundle);
	_cleanup_free_ char *cat = fc_asprintf("%s/rootfs/bin/cat", bundle);
	_cleanup_free_ char *tmp = fc_asprintf("%s/rootfs/tmp", bundle);
	_cleanup_free_ char *cfg = fc_asprintf("%s/config.json", bundle);
	ok(stat(bb, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0755,
	   "rootfs/bin/busybox, mode 0755");
	ok(readlink(sh, target, sizeof(target) - 1) > 0 && FC_STREQ(target, "busybox"),
	   "bin/sh -> busybox");
	ok(lstat(cat, &st) == 0 && S_ISLNK(st.st_mode), "bin/cat is an applet link");
	ok(stat(tmp, &st) == 0 && (st.st_mode & 07777) == 01777, "tmp is 1777");
	_cleanup_free_ char *passwd = NULL, *config = NULL;
	_cleanup_free_ char *pw = fc_asprintf("%s/rootfs/etc/passwd", bundle);
	ok(fc_read_file_at(AT_FDCWD, pw, &passwd, NULL, 0, NULL) == 0 &&
	       strncmp(passwd, "root:x:0:0:", 11) == 0,
	   "etc/passwd has root");
	ok(fc_read_file_at(AT_FDCWD, cfg, &config, NULL, 0, NULL) == 0 &&
	       strstr(config, "\"ociVersion\"") && strstr(config, "\"path\": \"rootfs\""),
	   "config.json: the default spec, root.path rootfs");

	/* the archive */
	_cleanup_free_ char *img = fc_asprintf("%s/bb.tar", dir);
	ok(bench_busybox_image(img, "fcbench/bb:latest", &e) == 0, "image made%s%s", e ? ": " : "",
	   e ? e->msg : "");
	fc_error_free(TAKE_PTR(e));
	char *names[16] = {0}, *index = NULL, *docker = NULL;
	int n = tar_members(img, names, 16, &index, &docker);
	ok(n == 8 && FC_STREQ(names[0], "oci-layout") && FC_STREQ(names[1], "index.json") &&
	       FC_STREQ(names[2], "manifest.json"),
	   "members: oci-layout, index.json, manifest.json, blobs (%d)", n);
	ok(index && strstr(index, "\"io.containerd.image.name\":\"docker.io/fcbench/bb:latest\""),
	   "index.json names docker.io/fcbench/bb:latest");
	ok(docker && strstr(docker, "\"RepoTags\":[\"fcbench/bb:latest\"]"),
	   "manifest.json: RepoTags fcbench/bb:latest");
	/* every blob docker's manifest names is a member */
	bool found[2] = {false, false};
	const char *keys[2] = {"\"Config\":\"", "\"Layers\":[\""};
	for (int k = 0; k < 2 && docker; k++) {
		const char *p = strstr(docker, keys[k]);
		if (!p)
			continue;
		p += strlen(keys[k]);
		_cleanup_free_ char *blob = fc_strndup(p, strcspn(p, "\""));
		for (int i = 0; i < n; i++)
			found[k] |= FC_STREQ(names[i], blob);
	}
	ok(found[0] && found[1], "manifest.json's config and layer are members");

	/* the store imports it */
	_cleanup_free_ char *sd = fc_asprintf("%s/store", dir);
	struct fcsnap_store *store = NULL;
	struct fcsnap_image *im = NULL;
	struct fcsnap_import_opts io = {.name = "bb"};
	r = fcsnap_store_open(sd, &store, &e);
	if (r >= 0)
		r = fcsnap_import(store, img, &io, NULL, &e);
	if (r >= 0)
		r = fcsnap_image_get(store, "bb", &im, &e);
	ok(r >= 0, "imported into a store%s%s", e ? ": " : "", e ? e->msg : "");
	fc_error_free(TAKE_PTR(e));
	if (im) {
		ok(im->n_layers == 1 && im->config.cmd && FC_STREQ(im->config.cmd[0], "sh"),
		   "one layer, Cmd sh");
		_cleanup_free_ char *l = fc_asprintf("%s/bin/busybox", im->layer_dirs[0]);
		ok(access(l, X_OK) == 0, "the layer holds bin/busybox");
	}
	fcsnap_image_free(im);
	fcsnap_store_free(store);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(index);
	free(docker);
	fc_rm_rf_at(AT_FDCWD, dir, NULL);
	return tap_done();
}
