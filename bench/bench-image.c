/* SPDX-License-Identifier: MIT */
/* bench-image.c: the busybox container the benchmarks run when the user names
 * none, made here from the host's static busybox (Debian's busybox-static)
 * with nothing of the source tree: a root filesystem of the binary, a link per
 * applet, /etc/passwd, group, hosts and resolv.conf, written either as a
 * directory with the project's default config.json (a bundle for `fcstart
 * bench runtime`), or as the one uncompressed layer of an oci-archive that
 * also carries a docker manifest.json, so that fcstart's store, `ctr images
 * import` and `docker load` all read the same file (`fcstart bench pool`,
 * `fcstart bench coldstart`). */
#include "bench.h"
#include "fcrt.h"

#include <elf.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#define MTIME 1700000000 /* a fixed time for every entry: the same host gives the same image */

/* ---- the root filesystem -------------------------------------------------------- */

enum entry_kind { E_DIR, E_FILE, E_LINK };

struct entry {
	enum entry_kind kind;
	char *path; /* relative: "bin/sh" */
	mode_t mode;
	const char *data; /* file contents, or a link's target */
	size_t len;
};

struct rootfs {
	struct entry *e;
	size_t n;
	char *busybox; /* the binary's bytes */
	size_t busybox_len;
	char *applets; /* `busybox --list` */
};

static void add(struct rootfs *fs, enum entry_kind kind, char *path, mode_t mode, const char *data,
                size_t len)
{
	fs->e = fc_realloc(fs->e, (fs->n + 1) * sizeof(*fs->e));
	fs->e[fs->n++] = (struct entry){kind, path, mode, data, len};
}

static bool has(const struct rootfs *fs, const char *path)
{
	for (size_t i = 0; i < fs->n; i++)
		if (FC_STREQ(fs->e[i].path, path))
			return true;
	return false;
}

static void rootfs_free(struct rootfs *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->e[i].path);
	free(fs->e);
	free(fs->busybox);
	free(fs->applets);
	memset(fs, 0, sizeof(*fs));
}

/* A static ELF executable: no program interpreter to load. */
static int check_static(const char *path, const char *data, size_t len, struct fc_error **err)
{
	const Elf64_Ehdr *eh = (const void *)data;
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fc_error_set(err, ENOEXEC, "`%s` is not a 64-bit ELF executable", path);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		size_t off = eh->e_phoff + (size_t)i * eh->e_phentsize;
		if (off + sizeof(Elf64_Phdr) > len)
			return fc_error_set(err, ENOEXEC, "`%s`: truncated ELF program headers",
			                    path);
		const Elf64_Phdr *ph = (const void *)(data + off);
		if (ph->p_type == PT_INTERP)
			return fc_error_set(
			    err, ENOEXEC,
			    "`%s` is not linked statically: a container of it alone "
			    "cannot run it (apt-get install busybox-static)",
			    path);
	}
	return 0;
}

static int rootfs_make(struct rootfs *fs, struct fc_error **err)
{
	static const char *const dirs[] = {"bin",  "sbin", "usr",    "usr/bin", "usr/sbin",
	                                   "etc",  "proc", "sys",    "dev",     "tmp",
	                                   "root", "var",  "var/www"};
	static const struct {
		const char *path, *text;
	} files[] = {
	    {"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/"
	                   "nonexistent:/bin/false\n"},
	    {"etc/group", "root:x:0:\nnogroup:x:65534:\n"},
	    {"etc/hosts", "127.0.0.1 localhost\n"},
	    {"etc/resolv.conf", ""},
	};
	const char *bb = BENCH_BUSYBOX;
	int r;
	memset(fs, 0, sizeof(*fs));
	if (access(bb, F_OK) < 0)
		return fc_error_set(err, errno, "`%s` (apt-get install busybox-static)", bb);
	if ((r = fc_read_file_at(AT_FDCWD, bb, &fs->busybox, &fs->busybox_len, 64 << 20, err)) < 0)
		return r;
	if ((r = check_static(bb, fs->busybox, fs->busybox_len, err)) < 0)
		return r;
	_cleanup_close_ int list = memfd_create("fcstart-busybox-list", MFD_CLOEXEC);
	char *argv[] = {(char *)bb, "--list", NULL};
	struct bench_exec x = BENCH_EXEC_INIT(argv);
	x.out = list;
	x.timeout_s = 30;
	if (list < 0)
		return fc_error_set(err, errno, "memfd");
	if ((r = bench_exec(&x)) < 0)
		return fc_error_set(err, -r, "run `%s --list`", bb);
	if (x.status != 0)
		return bench_exec_error(&x, err, "busybox --list");
	struct stat st;
	if (fstat(list, &st) < 0 || st.st_size > (1 << 20))
		return fc_error_set(err, errno ? errno : EFBIG, "`%s --list`: its output", bb);
	fs->applets = fc_malloc((size_t)st.st_size + 1);
	ssize_t n = pread(list, fs->applets, (size_t)st.st_size, 0);
	fs->applets[n > 0 ? n : 0] = 0;

	for (size_t i = 0; i < FC_ARRAY_SIZE(dirs); i++)
		add(fs, E_DIR, fc_strdup(dirs[i]), FC_STREQ(dirs[i], "tmp") ? 01777 : 0755, NULL,
		    0);
	for (size_t i = 0; i < FC_ARRAY_SIZE(files); i++)
		add(fs, E_FILE, fc_strdup(files[i].path), 0644, files[i].text,
		    strlen(files[i].text));
	add(fs, E_FILE, fc_strdup("bin/busybox"), 0755, fs->busybox, fs->busybox_len);
	size_t n_applets = 0;
	for (char *save = NULL, *a = strtok_r(fs->applets, "\n", &save); a;
	     a = strtok_r(NULL, "\n", &save)) {
		if (strchr(a, '/') || FC_STREQ(a, ".") || FC_STREQ(a, ".."))
			continue;
		_cleanup_free_ char *path = fc_asprintf("bin/%s", a);
		if (has(fs, path))
			continue;
		add(fs, E_LINK, TAKE_PTR(path), 0777, "busybox", 7);
		n_applets++;
	}
	if (!n_applets)
		return fc_error_set(err, ENOENT, "`%s --list` named no applet", bb);
	return 0;
}

static int rootfs_write_dir(const struct rootfs *fs, const char *dir, struct fc_error **err)
{
	int r = fc_mkdir_p_at(AT_FDCWD, dir, 0755, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fc_error_set(err, errno, "open `%s`", dir);
	for (size_t i = 0; i < fs->n; i++) {
		const struct entry *e = &fs->e[i];
		switch (e->kind) {
		case E_DIR:
			if (mkdirat(dfd, e->path, e->mode) < 0 && errno != EEXIST)
				return fc_error_set(err, errno, "mkdir `%s/%s`", dir, e->path);
			if (fchmodat(dfd, e->path, e->mode, 0) < 0) /* past the umask */
				return fc_error_set(err, errno, "chmod `%s/%s`", dir, e->path);
			break;
		case E_FILE: {
			_cleanup_close_ int fd =
			    openat(dfd, e->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, e->mode);
			if (fd < 0 || fc_write_all(fd, e->data, e->len) < 0 ||
			    fchmod(fd, e->mode) < 0)
				return fc_error_set(err, errno, "write `%s/%s`", dir, e->path);
			break;
		}
		case E_LINK:
			if (symlinkat(e->data, dfd, e->path) < 0)
				return fc_error_set(err, errno, "symlink `%s/%s`", dir, e->path);
			break;
		default:
			abort();
		}
	}
	return 0;
}

/* ---- tar (POSIX ustar) ------------------------------------------------------------ */

/* One member: a 512-byte ustar header, then the data padded to 512 bytes. */
static int tar_add(struct fc_buf *t, enum entry_kind kind, const char *path, mode_t mode,
                   const char *data, size_t len, struct fc_error **err)
{
	char h[512] = {0};
	size_t pl = strlen(path);
	if (pl + (kind == E_DIR) > 100 || (kind == E_LINK && len >= 100))
		return fc_error_set(err, ENAMETOOLONG, "tar member `%s`: name too long", path);
	memcpy(h, path, pl);
	if (kind == E_DIR)
		h[pl] = '/';
	snprintf(h + 100, 8, "%07o", (unsigned)(mode & 07777));
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011llo", (unsigned long long)(kind == E_FILE ? len : 0));
	snprintf(h + 136, 12, "%011llo", (unsigned long long)MTIME);
	h[156] = kind == E_FILE ? '0' : kind == E_LINK ? '2' : '5';
	if (kind == E_LINK)
		memcpy(h + 157, data, len);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum); /* six digits, NUL, and the space left */
	fc_buf_append(t, h, sizeof(h));
	if (kind == E_FILE && len) {
		static const char zeros[512];
		fc_buf_append(t, data, len);
		if (len % 512)
			fc_buf_append(t, zeros, 512 - len % 512);
	}
	return 0;
}

/* The end of an archive: two zero blocks. */
static void tar_end(struct fc_buf *t)
{
	static const char zeros[1024];
	fc_buf_append(t, zeros, sizeof(zeros));
}

/* ---- the OCI archive ------------------------------------------------------------ */

/* "sha256:<hex>" of data. */
static void sha256(const void *data, size_t len, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		abort();
	strcpy(out, "sha256:");
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

/* The GOARCH name of this machine, as image configs spell it. */
static const char *goarch(void)
{
	static struct utsname u;
	static const struct {
		const char *uname, *go;
	} names[] = {{"x86_64", "amd64"},   {"aarch64", "arm64"},   {"i686", "386"},
	             {"armv7l", "arm"},     {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
	             {"riscv64", "riscv64"}};
	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < FC_ARRAY_SIZE(names); i++)
		if (FC_STREQ(u.machine, names[i].uname))
			return names[i].go;
	return u.machine;
}

/* "fcbench/bb:latest" -> "docker.io/fcbench/bb:latest"; "x:1" ->
 * "docker.io/library/x:1"; a name with a registry stays. */
static char *full_name(const char *name)
{
	const char *slash = strchr(name, '/');
	if (!slash)
		return fc_asprintf("docker.io/library/%s", name);
	_cleanup_free_ char *first = fc_strndup(name, (size_t)(slash - name));
	if (strchr(first, '.') || strchr(first, ':') || FC_STREQ(first, "localhost"))
		return fc_strdup(name);
	return fc_asprintf("docker.io/%s", name);
}

int bench_busybox_bundle(const char *dir, struct fc_error **err)
{
	struct rootfs fs;
	_cleanup_free_ char *rootfs = fc_asprintf("%s/rootfs", dir);
	int r = rootfs_make(&fs, err);
	if (r >= 0)
		r = rootfs_write_dir(&fs, rootfs, err);
	rootfs_free(&fs);
	if (r < 0)
		return r;
	/* the project's one default config (what `fcrun spec` writes) */
	_cleanup_buf_ struct fc_buf cfg = {0};
	_cleanup_spec_ struct fc_spec *spec = fcrt_spec_default();
	fcrt_spec_json(spec, true, &cfg);
	_cleanup_free_ char *path = fc_asprintf("%s/config.json", dir);
	return fc_write_file_atomic_at(AT_FDCWD, path, cfg.data, cfg.len, 0644, err);
}

int bench_busybox_image(const char *path, const char *name, struct fc_error **err)
{
	return bench_busybox_image_with(path, name, NULL, err);
}

int bench_busybox_image_with(const char *path, const char *name, const struct bench_image_extra *x,
                             struct fc_error **err)
{
	struct rootfs fs;
	_cleanup_free_ char *extra = NULL;
	size_t extra_len = 0;
	_cleanup_buf_ struct fc_buf layer = {0}, config = {0}, manifest = {0}, index = {0},
	                            docker = {0}, archive = {0};
	_cleanup_free_ char *full = full_name(name);
	char dl[72], dc[72], dm[72];
	int r = rootfs_make(&fs, err);
	if (r < 0)
		goto out;
	if (x && x->file) {
		/* a static program of the host's beside busybox */
		r = fc_read_file_at(AT_FDCWD, x->file, &extra, &extra_len, 64 << 20, err);
		if (r >= 0)
			r = check_static(x->file, extra, extra_len, err);
		if (r < 0)
			goto out;
		add(&fs, E_FILE, fc_strdup(x->dest), 0755, extra, extra_len);
	}

	/* the layer */
	for (size_t i = 0; i < fs.n && r >= 0; i++)
		r = tar_add(&layer, fs.e[i].kind, fs.e[i].path, fs.e[i].mode, fs.e[i].data,
		            fs.e[i].len, err);
	if (r < 0)
		goto out;
	tar_end(&layer);
	sha256(layer.data, layer.len, dl); /* uncompressed: the digest is the diff_id */

	/* the config, the manifest, the index; docker's manifest.json */
	fc_buf_printf(
	    &config,
	    "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/"
	    "local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"%s%s],\"Cmd\":%s,"
	    "\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},"
	    "\"history\":[{\"created_by\":\"fcstart bench: %s of the host\"}]}",
	    goarch(), x && x->env_json ? "," : "", x && x->env_json ? x->env_json : "",
	    x && x->cmd_json ? x->cmd_json : "[\"sh\"]", dl, BENCH_BUSYBOX);
	sha256(config.data, config.len, dc);
	fc_buf_printf(&manifest,
	              "{\"schemaVersion\":2,\"mediaType\":\"application/"
	              "vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/"
	              "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{"
	              "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\","
	              "\"size\":%zu}]}",
	              dc, config.len, dl, layer.len);
	sha256(manifest.data, manifest.len, dm);
	fc_buf_printf(&index,
	              "{\"schemaVersion\":2,\"mediaType\":\"application/"
	              "vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/"
	              "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu,"
	              "\"annotations\":{\"io.containerd.image.name\":",
	              dm, manifest.len);
	fc_buf_json_string(&index, full);
	fc_buf_printf(&index, ",\"org.opencontainers.image.ref.name\":");
	fc_buf_json_string(&index, full);
	fc_buf_printf(&index, "}}]}");
	fc_buf_printf(&docker, "[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[", dc + 7);
	fc_buf_json_string(&docker, name);
	fc_buf_printf(&docker, "],\"Layers\":[\"blobs/sha256/%s\"]}]", dl + 7);

	/* the archive, complete or absent (written to a temporary name, renamed) */
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char bl[96], bc[96], bm[96];
	snprintf(bl, sizeof(bl), "blobs/sha256/%s", dl + 7);
	snprintf(bc, sizeof(bc), "blobs/sha256/%s", dc + 7);
	snprintf(bm, sizeof(bm), "blobs/sha256/%s", dm + 7);
	const struct {
		enum entry_kind kind;
		const char *path, *data;
		size_t len;
	} members[] = {
	    {E_FILE, "oci-layout", layout, sizeof(layout) - 1},
	    {E_FILE, "index.json", index.data, index.len},
	    {E_FILE, "manifest.json", docker.data, docker.len},
	    {E_DIR, "blobs", NULL, 0},
	    {E_DIR, "blobs/sha256", NULL, 0},
	    {E_FILE, bm, manifest.data, manifest.len},
	    {E_FILE, bc, config.data, config.len},
	    {E_FILE, bl, layer.data, layer.len},
	};
	for (size_t i = 0; i < FC_ARRAY_SIZE(members) && r >= 0; i++)
		r = tar_add(&archive, members[i].kind, members[i].path,
		            members[i].kind == E_DIR ? 0755 : 0644, members[i].data, members[i].len,
		            err);
	if (r < 0)
		goto out;
	tar_end(&archive);
	r = fc_write_file_atomic_at(AT_FDCWD, path, archive.data, archive.len, 0644, err);
out:
	rootfs_free(&fs);
	return r;
}
