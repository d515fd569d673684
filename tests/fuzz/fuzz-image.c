/* SPDX-License-Identifier: MIT */
/* fuzz-image: the image store's readers (snapshot/json.c, ref.c), which read
 * what an image archive, an OCI layout, a registry or a user hands us:
 * index.json and manifest lists, manifests, docker-archive manifest.json,
 * image configs, the store's own image records (written and read back), a
 * registry's token and error answers, Docker's config.json credentials, the
 * registries config, and image references (an accepted one must print as a
 * reference that parses to the same). */
#include "fuzz.h"
#include "snap-private.h"

static void check_desc(const struct snap_desc *d, const char *what)
{
	FUZZ_CHECK(d->digest && fcsnap_digest_hex(d->digest), "%s: digest `%s` accepted", what,
	           d->digest ? d->digest : "(null)");
	FUZZ_CHECK(d->size >= 0, "%s: size %lld accepted", what, (long long)d->size);
	if (d->media_type)
		(void)fcsnap_layer_compression(d->media_type);
}

static bool strv_eq(char **a, char **b)
{
	size_t i;
	if (!a || !b)
		return a == b;
	for (i = 0; a[i] && b[i]; i++)
		if (!FC_STREQ(a[i], b[i]))
			return false;
	return !a[i] && !b[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size);
	struct fc_error *err = NULL;
	int r;

	(void)snap_sniff_kind(buf);

	struct snap_index ix;
	r = snap_parse_index(buf, &ix, &err);
	fuzz_check_result("index", r, err);
	err = NULL;
	for (size_t i = 0; r >= 0 && i < ix.n; i++)
		check_desc(&ix.m[i], "index manifest");
	snap_index_clear(&ix);

	struct snap_manifest m;
	r = snap_parse_manifest(buf, &m, &err);
	fuzz_check_result("manifest", r, err);
	err = NULL;
	if (r >= 0) {
		check_desc(&m.config, "manifest config");
		for (size_t i = 0; i < m.n_layers; i++)
			check_desc(&m.layers[i], "manifest layer");
	}
	snap_manifest_clear(&m);

	struct snap_docker_manifest dm;
	r = snap_parse_docker_manifest(buf, &dm, &err);
	fuzz_check_result("docker manifest", r, err);
	err = NULL;
	FUZZ_CHECK(r < 0 || (dm.config && dm.layers), "docker manifest without config or layers");
	snap_docker_manifest_clear(&dm);

	struct snap_config_doc c;
	r = snap_parse_config(buf, &c, &err);
	fuzz_check_result("image config", r, err);
	err = NULL;
	if (r >= 0) {
		FUZZ_CHECK(c.n_diff_ids == fc_strv_len(c.diff_ids), "diff_ids count");
		for (size_t i = 0; i < c.n_diff_ids; i++)
			FUZZ_CHECK(fcsnap_digest_hex(c.diff_ids[i]), "diff_id `%s` accepted",
			           c.diff_ids[i]);
	}
	snap_config_doc_clear(&c);

	/* an image record survives being written and read back */
	struct snap_image_rec rec, back;
	r = snap_parse_image_rec(buf, &rec, &err);
	fuzz_check_result("image record", r, err);
	err = NULL;
	if (r >= 0) {
		char *json = snap_image_rec_json(&rec);
		r = snap_parse_image_rec(json, &back, &err);
		FUZZ_CHECK(r >= 0, "image record written as %s does not read back: %s", json,
		           err ? err->msg : "?");
		FUZZ_CHECK(FC_STREQ(rec.name, back.name) && FC_STREQ(rec.manifest, back.manifest) &&
		               FC_STREQ(rec.config, back.config) &&
		               strv_eq(rec.diff_ids, back.diff_ids) &&
		               strv_eq(rec.layer_digests, back.layer_digests) &&
		               rec.size == back.size && rec.created == back.created,
		           "image record changed on its way through %s", json);
		snap_image_rec_clear(&back);
		free(json);
	}
	snap_image_rec_clear(&rec);

	/* registries: documents from the network and the user's files */
	int schema = 0;
	char *media_type = NULL, *token = NULL;
	r = snap_doc_head(buf, size, &schema, &media_type, &err);
	FUZZ_CHECK(r >= 0 || (err && err->msg && *err->msg) || r == -EINVAL,
	           "manifest head failed without a message");
	fc_error_free(err);
	err = NULL;
	free(media_type);
	r = snap_parse_token(buf, size, &token, &err);
	fuzz_check_result("token", r, err);
	err = NULL;
	FUZZ_CHECK(r < 0 || (token && *token), "an empty token accepted");
	free(token);
	struct snap_cred *creds = NULL;
	size_t n_creds = 0;
	r = snap_parse_docker_auths(buf, size, &creds, &n_creds, &err);
	fuzz_check_result("docker config", r, err);
	err = NULL;
	snap_creds_free(creds, n_creds);
	struct snap_reg_conf conf = {0};
	r = snap_parse_reg_conf(buf, size, &conf, &err);
	fuzz_check_result("registries config", r, err);
	err = NULL;
	snap_reg_conf_clear(&conf);
	free(snap_reg_error_text(buf, size));

	/* an image reference */
	if (size < 512) {
		struct fcsnap_ref ref, ref2;
		r = fcsnap_ref_parse(buf, &ref, &err);
		fuzz_check_result("reference", r, err);
		err = NULL;
		if (r >= 0) {
			char *str = fcsnap_ref_string(&ref);
			r = fcsnap_ref_parse(str, &ref2, &err);
			FUZZ_CHECK(r >= 0,
			           "reference `%s` printed as `%s`, which does not parse: %s", buf,
			           str, err ? err->msg : "?");
			FUZZ_CHECK(
			    FC_STREQ(ref.domain, ref2.domain) && FC_STREQ(ref.path, ref2.path) &&
			        (ref.tag ? ref2.tag && FC_STREQ(ref.tag, ref2.tag) : !ref2.tag) &&
			        (ref.digest ? ref2.digest && FC_STREQ(ref.digest, ref2.digest)
			                    : !ref2.digest),
			    "reference `%s` printed as `%s` reads back otherwise", buf, str);
			FUZZ_CHECK(!ref.digest || fcsnap_digest_hex(ref.digest),
			           "reference `%s` accepted with digest `%s`", buf, ref.digest);
			fcsnap_ref_clear(&ref2);
			free(str);
		}
		fcsnap_ref_clear(&ref);
	}
	free(buf);
	return 0;
}
