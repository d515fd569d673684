/* SPDX-License-Identifier: MIT */
/* bench-config.c: derive config.json variants of a bundle for the benchmark
 * (with and without a network namespace, another command), keeping every other
 * field as it was. The only place in bench/ that touches yajl. */
#include "bench.h"

#include <fcntl.h>
#include <limits.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void emit(yajl_gen g, yajl_val v);

static bool is_network_ns(yajl_val ns)
{
	const char *path[] = {"type", NULL};
	yajl_val t = YAJL_IS_OBJECT(ns) ? yajl_tree_get(ns, path, yajl_t_string) : NULL;
	const char *s = t ? YAJL_GET_STRING(t) : NULL;
	return s && FC_STREQ(s, "network");
}

static void emit_namespaces(yajl_gen g, yajl_val arr, const struct bench_variant_opts *o)
{
	bool have = false;
	yajl_gen_array_open(g);
	for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		yajl_val ns = arr->u.array.values[i];
		if (is_network_ns(ns)) {
			if (!o->netns)
				continue;
			have = true;
		}
		emit(g, ns);
	}
	if (o->netns && !have) {
		yajl_gen_map_open(g);
		gen_str(g, "type");
		gen_str(g, "network");
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void emit_throttle(yajl_gen g, const char *key, const struct bench_variant_opts *o,
                          uint64_t rate)
{
	char num[32];
	gen_str(g, key);
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	gen_str(g, "major");
	yajl_gen_integer(g, o->blk_major);
	gen_str(g, "minor");
	yajl_gen_integer(g, o->blk_minor);
	gen_str(g, "rate");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)rate);
	yajl_gen_number(g, num, strlen(num));
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
}

static void emit_blockio(yajl_gen g, const struct bench_variant_opts *o)
{
	gen_str(g, "blockIO");
	yajl_gen_map_open(g);
	if (o->blk_bps) {
		emit_throttle(g, "throttleReadBpsDevice", o, o->blk_bps);
		emit_throttle(g, "throttleWriteBpsDevice", o, o->blk_bps);
	}
	if (o->blk_iops) {
		emit_throttle(g, "throttleReadIOPSDevice", o, o->blk_iops);
		emit_throttle(g, "throttleWriteIOPSDevice", o, o->blk_iops);
	}
	yajl_gen_map_close(g);
}

/* depth-aware emit: level names the object being written ("", "process", "root",
 * "linux", "resources"). */
static void emit_obj(yajl_gen g, yajl_val v, const char *level, const struct bench_variant_opts *o)
{
	yajl_gen_map_open(g);
	bool seen_ns = false, seen_res = false;
	bool blk = o->blk_bps || o->blk_iops;
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		yajl_val c = v->u.object.values[i];
		gen_str(g, k);
		if (FC_STREQ(level, "") && YAJL_IS_OBJECT(c) &&
		    (FC_STREQ(k, "process") || FC_STREQ(k, "root") || FC_STREQ(k, "linux"))) {
			emit_obj(g, c, k, o);
		} else if (FC_STREQ(level, "process") && FC_STREQ(k, "args") && o->args) {
			yajl_gen_array_open(g);
			for (char **a = o->args; *a; a++)
				gen_str(g, *a);
			yajl_gen_array_close(g);
		} else if (FC_STREQ(level, "process") && FC_STREQ(k, "terminal")) {
			yajl_gen_bool(g, 0);
		} else if (FC_STREQ(level, "root") && FC_STREQ(k, "path")) {
			gen_str(g, o->rootfs_abs);
		} else if (FC_STREQ(level, "linux") && FC_STREQ(k, "namespaces")) {
			emit_namespaces(g, c, o);
			seen_ns = true;
		} else if (FC_STREQ(level, "linux") && FC_STREQ(k, "resources") && blk &&
		           YAJL_IS_OBJECT(c)) {
			emit_obj(g, c, "resources", o);
			seen_res = true;
		} else if (FC_STREQ(level, "resources") && FC_STREQ(k, "blockIO") && blk) {
			emit_blockio(g, o);
			seen_res = true;
		} else {
			emit(g, c);
		}
	}
	if (FC_STREQ(level, "linux") && !seen_ns && o->netns) {
		gen_str(g, "namespaces");
		emit_namespaces(g, NULL, o);
	}
	if (FC_STREQ(level, "linux") && !seen_res && blk) {
		gen_str(g, "resources");
		yajl_gen_map_open(g);
		emit_blockio(g, o);
		yajl_gen_map_close(g);
	}
	if (FC_STREQ(level, "resources") && !seen_res && blk)
		emit_blockio(g, o);
	yajl_gen_map_close(g);
}

static void emit(yajl_gen g, yajl_val v)
{
	if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			gen_str(g, v->u.object.keys[i]);
			emit(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			emit(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_STRING(v)) {
		gen_str(g, YAJL_GET_STRING(v));
	} else if (YAJL_IS_NUMBER(v)) {
		const char *r = YAJL_GET_NUMBER(v);
		yajl_gen_number(g, r, strlen(r));
	} else if (YAJL_IS_TRUE(v)) {
		yajl_gen_bool(g, 1);
	} else if (YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, 0);
	} else {
		yajl_gen_null(g);
	}
}

static int load(const char *bundle_dir, yajl_val *out, struct fc_error **err)
{
	_cleanup_free_ char *path = fc_asprintf("%s/config.json", bundle_dir);
	_cleanup_free_ char *text = NULL;
	char ebuf[512];
	int r = fc_read_file_at(AT_FDCWD, path, &text, NULL, 0, err);
	if (r < 0)
		return r;
	*out = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (!*out || !YAJL_IS_OBJECT(*out)) {
		if (*out)
			yajl_tree_free(*out);
		return fc_error_set(err, EINVAL, "parse `%s`: %s", path,
		                    *out ? "not a JSON object" : ebuf);
	}
	return 0;
}

int bench_bundle_rootfs(const char *bundle_dir, char **out, struct fc_error **err)
{
	yajl_val doc = NULL;
	int r = load(bundle_dir, &doc, err);
	if (r < 0)
		return r;
	const char *p[] = {"root", "path", NULL};
	yajl_val rp = yajl_tree_get(doc, p, yajl_t_string);
	_cleanup_free_ char *joined = !rp ? NULL
	                              : YAJL_GET_STRING(rp)[0] == '/'
	                                  ? fc_strdup(YAJL_GET_STRING(rp))
	                                  : fc_asprintf("%s/%s", bundle_dir, YAJL_GET_STRING(rp));
	yajl_tree_free(doc);
	if (!joined)
		return fc_error_set(err, EINVAL, "`%s/config.json`: no root.path", bundle_dir);
	char *abs = realpath(joined, NULL);
	if (!abs)
		return fc_error_set(err, errno, "rootfs `%s`", joined);
	*out = abs;
	return 0;
}

int bench_bundle_args(const char *bundle_dir, char ***out, struct fc_error **err)
{
	yajl_val doc = NULL;
	int r = load(bundle_dir, &doc, err);
	if (r < 0)
		return r;
	const char *p[] = {"process", "args", NULL};
	yajl_val a = yajl_tree_get(doc, p, yajl_t_array);
	size_t n = a ? a->u.array.len : 0;
	char **v = fc_calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *s = YAJL_GET_STRING(a->u.array.values[i]);
		v[i] = fc_strdup(s ? s : "");
	}
	yajl_tree_free(doc);
	if (!n) {
		free(v);
		return fc_error_set(err, EINVAL, "`%s/config.json`: no process.args", bundle_dir);
	}
	*out = v;
	return 0;
}

int bench_write_variant(const char *bundle_dir, const char *out_dir,
                        const struct bench_variant_opts *opts, struct fc_error **err)
{
	yajl_val doc = NULL;
	int r = load(bundle_dir, &doc, err);
	if (r < 0)
		return r;
	yajl_gen g = yajl_gen_alloc(NULL);
	if (!g)
		abort();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	emit_obj(g, doc, "", opts);
	yajl_tree_free(doc);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	r = fc_mkdir_p_at(AT_FDCWD, out_dir, 0755, err);
	if (r >= 0) {
		_cleanup_free_ char *path = fc_asprintf("%s/config.json", out_dir);
		r = fc_write_file_atomic_at(AT_FDCWD, path, buf, len, 0644, err);
	}
	yajl_gen_free(g);
	return r;
}
