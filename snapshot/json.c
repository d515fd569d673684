/* SPDX-License-Identifier: MIT */
/* json.c: OCI/Docker image documents <-> typed structs. The only file that
 * sees yajl. */
#include <yajl/yajl_tree.h>

#include "snap-private.h"

static void yajl_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
}
#define _cleanup_yajl_ _cleanup_(yajl_freep)

static yajl_val get(yajl_val obj, const char *key)
{
	if (!obj || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (FC_STREQ(obj->u.object.keys[i], key))
			return obj->u.object.values[i];
	return NULL;
}

static char *get_str(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);
	return v && YAJL_IS_STRING(v) ? fc_strdup(YAJL_GET_STRING(v)) : NULL;
}

static int64_t get_int(yajl_val obj, const char *key, int64_t def)
{
	yajl_val v = get(obj, key);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

/* array of strings -> strv (NULL when absent or not an array of strings) */
static char **get_strv(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);
	if (!v || !YAJL_IS_ARRAY(v))
		return NULL;
	char **r = fc_calloc(v->u.array.len + 1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; i < v->u.array.len; i++)
		if (YAJL_IS_STRING(v->u.array.values[i]))
			r[n++] = fc_strdup(YAJL_GET_STRING(v->u.array.values[i]));
	return r;
}

/* object keys -> strv */
static char **get_keys(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);
	if (!v || !YAJL_IS_OBJECT(v))
		return NULL;
	char **r = fc_calloc(v->u.object.len + 1, sizeof(char *));
	for (size_t i = 0; i < v->u.object.len; i++)
		r[i] = fc_strdup(v->u.object.keys[i]);
	return r;
}

/* Every document is checked for nesting before yajl builds its tree (which it
 * frees recursively: a million levels overflow the stack). */
static int parse(const char *buf, yajl_val *out, const char *what, struct fc_error **err)
{
	char ebuf[256] = "";
	*out = NULL;
	if (fc_json_check_depth(buf, strlen(buf), FC_JSON_MAX_DEPTH, what, err) < 0)
		return fc_error_code(*err);
	*out = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
	if (!*out) {
		char *nl = strchr(ebuf, '\n');
		if (nl)
			*nl = 0;
		return fc_error_set(err, EINVAL, "parse %s: %s", what,
		                    ebuf[0] ? ebuf : "invalid JSON");
	}
	if (!YAJL_IS_OBJECT(*out))
		return fc_error_set(err, EINVAL, "parse %s: not a JSON object", what);
	return 0;
}

void snap_desc_clear(struct snap_desc *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->os);
	free(d->arch);
	free(d->variant);
	free(d->ref_name);
	memset(d, 0, sizeof(*d));
}

static int parse_desc(yajl_val v, struct snap_desc *d, const char *what, struct fc_error **err)
{
	memset(d, 0, sizeof(*d));
	if (!v || !YAJL_IS_OBJECT(v))
		return fc_error_set(err, EINVAL, "%s: descriptor is not an object", what);
	d->media_type = get_str(v, "mediaType");
	d->digest = get_str(v, "digest");
	d->size = get_int(v, "size", -1);
	yajl_val p = get(v, "platform");
	d->os = get_str(p, "os");
	d->arch = get_str(p, "architecture");
	d->variant = get_str(p, "variant");
	/* docker save (v25+) and containerd put the full name here; the OCI
	 * ref.name is often only the tag */
	d->ref_name = get_str(get(v, "annotations"), "io.containerd.image.name");
	if (!d->ref_name)
		d->ref_name = get_str(get(v, "annotations"), "org.opencontainers.image.ref.name");
	if (!d->digest || !fcsnap_digest_hex(d->digest))
		return fc_error_set(err, EINVAL, "%s: missing or unsupported digest `%s`", what,
		                    d->digest ? d->digest : "");
	if (d->size < 0)
		return fc_error_set(err, EINVAL, "%s: missing or negative size for %s", what,
		                    d->digest);
	return 0;
}

int snap_sniff_kind(const char *buf)
{
	if (fc_json_check_depth(buf, strlen(buf), FC_JSON_MAX_DEPTH, NULL, NULL) < 0)
		return -EINVAL;
	_cleanup_yajl_ yajl_val v = yajl_tree_parse(buf, NULL, 0);
	if (!v)
		return -EINVAL;
	_cleanup_free_ char *mt = get_str(v, "mediaType");
	if (mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list")))
		return 2;
	if (mt && strstr(mt, "manifest"))
		return 1;
	if (get(v, "manifests"))
		return 2;
	if (get(v, "layers") || get(v, "config"))
		return 1;
	return -EINVAL;
}

void snap_index_clear(struct snap_index *x)
{
	for (size_t i = 0; i < x->n; i++)
		snap_desc_clear(&x->m[i]);
	free(x->m);
	memset(x, 0, sizeof(*x));
}

int snap_parse_index(const char *buf, struct snap_index *out, struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	memset(out, 0, sizeof(*out));
	if (parse(buf, &v, "index", err) < 0)
		return fc_error_code(*err);
	yajl_val a = get(v, "manifests");
	if (!a || !YAJL_IS_ARRAY(a))
		return fc_error_set(err, EINVAL, "index: no `manifests` array");
	out->m = fc_calloc(a->u.array.len + 1, sizeof(*out->m));
	for (size_t i = 0; i < a->u.array.len; i++) {
		int r = parse_desc(a->u.array.values[i], &out->m[i], "index manifest", err);
		out->n = i + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

void snap_manifest_clear(struct snap_manifest *m)
{
	free(m->media_type);
	snap_desc_clear(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		snap_desc_clear(&m->layers[i]);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

int snap_parse_manifest(const char *buf, struct snap_manifest *out, struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	memset(out, 0, sizeof(*out));
	if (parse(buf, &v, "manifest", err) < 0)
		return fc_error_code(*err);
	out->media_type = get_str(v, "mediaType");
	int r = parse_desc(get(v, "config"), &out->config, "manifest config", err);
	if (r < 0)
		return r;
	yajl_val a = get(v, "layers");
	if (!a || !YAJL_IS_ARRAY(a))
		return fc_error_set(err, EINVAL, "manifest: no `layers` array");
	out->layers = fc_calloc(a->u.array.len + 1, sizeof(*out->layers));
	for (size_t i = 0; i < a->u.array.len; i++) {
		r = parse_desc(a->u.array.values[i], &out->layers[i], "manifest layer", err);
		out->n_layers = i + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

void snap_docker_manifest_clear(struct snap_docker_manifest *m)
{
	free(m->config);
	fc_strv_free(m->repo_tags);
	fc_strv_free(m->layers);
	memset(m, 0, sizeof(*m));
}

int snap_parse_docker_manifest(const char *buf, struct snap_docker_manifest *out,
                               struct fc_error **err)
{
	char ebuf[256] = "";
	memset(out, 0, sizeof(*out));
	if (fc_json_check_depth(buf, strlen(buf), FC_JSON_MAX_DEPTH, "docker-archive manifest.json",
	                        err) < 0)
		return fc_error_code(*err);
	_cleanup_yajl_ yajl_val v = yajl_tree_parse(buf, ebuf, sizeof(ebuf));
	if (!v || !YAJL_IS_ARRAY(v) || v->u.array.len == 0)
		return fc_error_set(err, EINVAL,
		                    "docker-archive manifest.json: not a non-empty array");
	if (v->u.array.len > 1)
		return fc_error_set(
		    err, EINVAL, "docker-archive manifest.json: %zu images; only one is supported",
		    v->u.array.len);
	yajl_val m = v->u.array.values[0];
	out->config = get_str(m, "Config");
	out->repo_tags = get_strv(m, "RepoTags");
	out->layers = get_strv(m, "Layers");
	if (!out->config || !out->layers)
		return fc_error_set(err, EINVAL,
		                    "docker-archive manifest.json: missing Config or Layers");
	return 0;
}

void fcsnap_config_clear(struct fcsnap_config *c)
{
	fc_strv_free(c->entrypoint);
	fc_strv_free(c->cmd);
	fc_strv_free(c->env);
	free(c->workdir);
	free(c->user);
	fc_strv_free(c->exposed_ports);
	free(c->stop_signal);
	fc_strv_free(c->labels);
	free(c->os);
	free(c->arch);
	memset(c, 0, sizeof(*c));
}

void snap_config_doc_clear(struct snap_config_doc *c)
{
	fcsnap_config_clear(&c->c);
	fc_strv_free(c->diff_ids);
	memset(c, 0, sizeof(*c));
}

int snap_parse_config(const char *buf, struct snap_config_doc *out, struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	memset(out, 0, sizeof(*out));
	if (parse(buf, &v, "image config", err) < 0)
		return fc_error_code(*err);
	yajl_val c = get(v, "config");
	out->c.entrypoint = get_strv(c, "Entrypoint");
	out->c.cmd = get_strv(c, "Cmd");
	out->c.env = get_strv(c, "Env");
	out->c.workdir = get_str(c, "WorkingDir");
	out->c.user = get_str(c, "User");
	out->c.exposed_ports = get_keys(c, "ExposedPorts");
	out->c.stop_signal = get_str(c, "StopSignal");
	out->c.os = get_str(v, "os");
	out->c.arch = get_str(v, "architecture");
	yajl_val l = get(c, "Labels");
	if (l && YAJL_IS_OBJECT(l)) {
		out->c.labels = fc_calloc(l->u.object.len + 1, sizeof(char *));
		size_t n = 0;
		for (size_t i = 0; i < l->u.object.len; i++)
			if (YAJL_IS_STRING(l->u.object.values[i]))
				out->c.labels[n++] =
				    fc_asprintf("%s=%s", l->u.object.keys[i],
				                YAJL_GET_STRING(l->u.object.values[i]));
	}
	yajl_val rootfs = get(v, "rootfs");
	out->diff_ids = get_strv(rootfs, "diff_ids");
	if (!out->diff_ids)
		return fc_error_set(err, EINVAL, "image config: no rootfs.diff_ids");
	out->n_diff_ids = fc_strv_len(out->diff_ids);
	for (size_t i = 0; i < out->n_diff_ids; i++)
		if (!fcsnap_digest_hex(out->diff_ids[i]))
			return fc_error_set(err, EINVAL, "image config: unsupported diff_id `%s`",
			                    out->diff_ids[i]);
	return 0;
}

void snap_image_rec_clear(struct snap_image_rec *r)
{
	free(r->name);
	free(r->manifest);
	free(r->config);
	fc_strv_free(r->diff_ids);
	fc_strv_free(r->layer_digests);
	memset(r, 0, sizeof(*r));
}

int snap_parse_image_rec(const char *buf, struct snap_image_rec *out, struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	memset(out, 0, sizeof(*out));
	if (parse(buf, &v, "image record", err) < 0)
		return fc_error_code(*err);
	out->name = get_str(v, "name");
	out->manifest = get_str(v, "manifest");
	out->config = get_str(v, "config");
	out->diff_ids = get_strv(v, "diff_ids");
	out->layer_digests = get_strv(v, "layers");
	int64_t size = get_int(v, "size", 0);
	out->size = size < 0 ? 0 : (uint64_t)size;
	out->created = get_int(v, "created", 0);
	if (!out->name || !out->manifest || !out->config || !out->diff_ids || !out->layer_digests ||
	    fc_strv_len(out->diff_ids) != fc_strv_len(out->layer_digests))
		return fc_error_set(err, EINVAL, "image record: missing fields");
	if (size < 0)
		return fc_error_set(err, EINVAL, "image record: negative size %lld",
		                    (long long)size);
	out->n = fc_strv_len(out->diff_ids);
	return 0;
}

void snap_json_strv(struct fc_buf *b, char *const *v)
{
	if (!v) {
		fc_buf_printf(b, "null");
		return;
	}
	fc_buf_printf(b, "[");
	for (size_t i = 0; v[i]; i++) {
		if (i)
			fc_buf_printf(b, ",");
		fc_buf_json_string(b, v[i]);
	}
	fc_buf_printf(b, "]");
}

char *snap_image_rec_json(const struct snap_image_rec *r)
{
	struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"name\":");
	fc_buf_json_string(&b, r->name);
	fc_buf_printf(&b, ",\"manifest\":");
	fc_buf_json_string(&b, r->manifest);
	fc_buf_printf(&b, ",\"config\":");
	fc_buf_json_string(&b, r->config);
	fc_buf_printf(&b, ",\"diff_ids\":");
	snap_json_strv(&b, r->diff_ids);
	fc_buf_printf(&b, ",\"layers\":");
	snap_json_strv(&b, r->layer_digests);
	fc_buf_printf(&b, ",\"size\":%llu,\"created\":%lld}\n", (unsigned long long)r->size,
	              (long long)r->created);
	return b.data;
}

/* ---- registry documents (pull.c, registry.c) ---------------------------- */
/* Each is untrusted input from a network or a user's file: the nesting is
 * checked before yajl sees it, the size by the caller. */

static int parse_checked(const char *buf, size_t len, yajl_val *out, const char *what,
                         struct fc_error **err)
{
	*out = NULL;
	if (fc_json_check_depth(buf, len, FC_JSON_MAX_DEPTH, what, err) < 0)
		return fc_error_code(*err);
	return parse(buf, out, what, err);
}

int snap_doc_head(const char *buf, size_t len, int *schema_version, char **media_type,
                  struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	*media_type = NULL;
	if (parse_checked(buf, len, &v, "manifest", err) < 0)
		return fc_error_code(*err);
	*schema_version = (int)get_int(v, "schemaVersion", -1);
	*media_type = get_str(v, "mediaType");
	return snap_sniff_kind(buf);
}

int snap_parse_token(const char *buf, size_t len, char **token, struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	*token = NULL;
	if (parse_checked(buf, len, &v, "token response", err) < 0)
		return fc_error_code(*err);
	*token = get_str(v, "token");
	if (!*token || !**token) {
		free(*token);
		*token = get_str(v, "access_token");
	}
	if (!*token || !**token) {
		free(*token);
		*token = NULL;
		return fc_error_set(err, EPROTO, "token response: no `token` or `access_token`");
	}
	return 0;
}

void snap_creds_free(struct snap_cred *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].key);
		if (c[i].auth) {
			explicit_bzero(c[i].auth, strlen(c[i].auth));
			free(c[i].auth);
		}
		free(c[i].user);
		if (c[i].pass) {
			explicit_bzero(c[i].pass, strlen(c[i].pass));
			free(c[i].pass);
		}
	}
	free(c);
}

int snap_parse_docker_auths(const char *buf, size_t len, struct snap_cred **out, size_t *n,
                            struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	*out = NULL;
	*n = 0;
	if (parse_checked(buf, len, &v, "docker config", err) < 0)
		return fc_error_code(*err);
	yajl_val a = get(v, "auths");
	if (!a)
		return 0;
	if (!YAJL_IS_OBJECT(a))
		return fc_error_set(err, EINVAL, "docker config: `auths` is not an object");
	*out = fc_calloc(a->u.object.len + 1, sizeof(**out));
	for (size_t i = 0; i < a->u.object.len; i++) {
		yajl_val e = a->u.object.values[i];
		struct snap_cred *c = &(*out)[(*n)++];
		c->key = fc_strdup(a->u.object.keys[i]);
		c->auth = get_str(e, "auth");
		c->user = get_str(e, "username");
		c->pass = get_str(e, "password");
		c->identity_token = get(e, "identitytoken") != NULL;
	}
	return 0;
}

void snap_reg_conf_clear(struct snap_reg_conf *c)
{
	fc_strv_free(c->mirrors);
	fc_strv_free(c->insecure);
	free(c->certs_dir);
	memset(c, 0, sizeof(*c));
}

int snap_parse_reg_conf(const char *buf, size_t len, struct snap_reg_conf *out,
                        struct fc_error **err)
{
	_cleanup_yajl_ yajl_val v = NULL;
	memset(out, 0, sizeof(*out));
	if (parse_checked(buf, len, &v, "registry config", err) < 0)
		return fc_error_code(*err);
	static const char *const arrays[] = {"registry-mirrors", "insecure-registries"};
	for (size_t i = 0; i < 2; i++) {
		yajl_val a = get(v, arrays[i]);
		if (!a)
			continue;
		if (!YAJL_IS_ARRAY(a))
			return fc_error_set(err, EINVAL, "registry config: `%s` is not an array",
			                    arrays[i]);
		for (size_t k = 0; k < a->u.array.len; k++)
			if (!YAJL_IS_STRING(a->u.array.values[k]))
				return fc_error_set(err, EINVAL,
				                    "registry config: `%s[%zu]` is not a string",
				                    arrays[i], k);
	}
	out->mirrors = get_strv(v, "registry-mirrors");
	out->insecure = get_strv(v, "insecure-registries");
	yajl_val cd = get(v, "certs-dir");
	if (cd && !YAJL_IS_STRING(cd))
		return fc_error_set(err, EINVAL, "registry config: `certs-dir` is not a string");
	out->certs_dir = get_str(v, "certs-dir");
	return 0;
}

char *snap_reg_error_text(const char *buf, size_t len)
{
	_cleanup_yajl_ yajl_val v = NULL;
	if (fc_json_check_depth(buf, len, FC_JSON_MAX_DEPTH, NULL, NULL) < 0)
		return NULL;
	v = yajl_tree_parse(buf, NULL, 0);
	yajl_val a = get(v, "errors");
	if (!a || !YAJL_IS_ARRAY(a) || a->u.array.len == 0)
		return NULL;
	yajl_val e = a->u.array.values[0];
	_cleanup_free_ char *code = get_str(e, "code"), *msg = get_str(e, "message");
	if (!code && !msg)
		return NULL;
	char *t = fc_asprintf("%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	for (char *p = t; *p; p++) /* one line, printable */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = ' ';
	if (strlen(t) > 300)
		strcpy(t + 297, "...");
	return t;
}
