/* SPDX-License-Identifier: MIT */
/* spec-json.h (private to spec*.c): typed, validating getters over yajl's
 * tree API. Only spec-parse.c, spec-json.c and spec-resources.c include this;
 * no yajl_val leaves them.
 *
 * Every getter names the field in its error: `where` is the path of the
 * enclosing object ("linux.namespaces[2]", "" at the top level) and `key` the
 * member ("type"); the message reads "linux.namespaces[2].type: ...".
 * Getters return 1 when the member was present and stored, 0 when absent (or
 * JSON null, as Go's encoding/json treats it), and -EINVAL with *err set on a
 * wrong type or value. */
#ifndef FCRT_SPEC_JSON_H
#define FCRT_SPEC_JSON_H

#include "spec.h"
#include <yajl/yajl_tree.h>

static inline void fcj_tree_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
}
#define _cleanup_yajl_ _cleanup_(fcj_tree_freep)

/* Evaluate x (an int); return it from the caller when negative, else yield it. */
#define TRY(x)                                                                                     \
	({                                                                                         \
		int _r_ = (x);                                                                     \
		if (_r_ < 0)                                                                       \
			return _r_;                                                                \
		_r_;                                                                               \
	})
/* In an array loop body: declare p ("where.key[i]") and e (the element),
 * which must be an object. */
#define OBJ_ELEM(a, where, key, i, e, p, err)                                                      \
	_cleanup_free_ char *p = fcj_path_idx(where, key, i);                                      \
	yajl_val e = (a)->u.array.values[i];                                                       \
	if (!YAJL_IS_OBJECT(e))                                                                    \
	return fcj_err(err, p, NULL, "expected an object")

/* Parse a document (not necessarily NUL-terminated); errors read
 * "<what>: <yajl message>" or "<what>: expected a JSON object". */
int fcj_parse(const char *json, size_t len, const char *what, yajl_val *out, struct fc_error **err);

/* "where.key: <formatted>" (key may be NULL, where may be ""). Returns -EINVAL. */
int fcj_err(struct fc_error **err, const char *where, const char *key, const char *fmt, ...)
    FC_PRINTF(4, 5);
/* "where.key" / "where[i]" as a new string. */
char *fcj_path(const char *where, const char *key);
char *fcj_path_idx(const char *where, const char *key, size_t i);

/* Member lookup; NULL when absent or null. */
yajl_val fcj_get(yajl_val obj, const char *key);

int fcj_obj(yajl_val obj, const char *where, const char *key, yajl_val *out, struct fc_error **err);
int fcj_arr(yajl_val obj, const char *where, const char *key, yajl_val *out, struct fc_error **err);
int fcj_str(yajl_val obj, const char *where, const char *key, bool required, char **out,
            struct fc_error **err);
int fcj_bool(yajl_val obj, const char *where, const char *key, bool *out, struct fc_error **err);
/* Integers, range checked ("must be an integer in MIN..MAX"). */
int fcj_int(yajl_val obj, const char *where, const char *key, bool required, int64_t min,
            int64_t max, int64_t *out, struct fc_error **err);
int fcj_uint(yajl_val obj, const char *where, const char *key, bool required, uint64_t max,
             uint64_t *out, struct fc_error **err);
/* The same on a value (an array element); key may be NULL. */
int fcj_val_int(yajl_val v, const char *where, const char *key, int64_t min, int64_t max,
                int64_t *out, struct fc_error **err);
int fcj_val_uint(yajl_val v, const char *where, const char *key, uint64_t max, uint64_t *out,
                 struct fc_error **err);
/* Array of strings -> NULL-terminated vector (NULL when absent). */
int fcj_strv(yajl_val obj, const char *where, const char *key, bool nonempty, char ***out,
             struct fc_error **err);
/* Object of string values -> key/value pairs. */
int fcj_kv(yajl_val obj, const char *where, const char *key, struct fc_kv **out, size_t *n,
           struct fc_error **err);
void fcj_kv_free(struct fc_kv *kv, size_t n);

/* The resources object (spec-resources.c). where: "linux.resources" or "". */
int fcj_resources(yajl_val v, const char *where, struct fc_resources **out, struct fc_error **err);
/* linux.seccomp (spec-resources.c). */
int fcj_seccomp(yajl_val v, const char *where, struct fc_seccomp **out, struct fc_error **err);
void fcj_seccomp_free(struct fc_seccomp *s);
/* An array of {containerID, hostID, size} (spec-parse.c, also used for mounts). */
int fcj_idmaps(yajl_val obj, const char *where, const char *key, struct fc_idmap **out, size_t *n,
               struct fc_error **err);

#endif
