/* SPDX-License-Identifier: MIT */
/* function.c: a function's spec as fcpool.h has it, apart from its JSON
 * (proto.c): its name, the labels that set its bounds and limits, the
 * defaults, the checks, and the sizes and durations its settings are
 * written in. */
#include <ctype.h>
#include <math.h>

#include "fcpool.h"

static const char *const prewarm_names[] = {[FCPOOL_PREWARM_EXEC] = "exec",
                                            [FCPOOL_PREWARM_STARTED] = "started",
                                            [FCPOOL_PREWARM_FORK] = "fork"};

const char *fcpool_prewarm_name(enum fcpool_prewarm p)
{
	return (unsigned)p < FC_ARRAY_SIZE(prewarm_names) ? prewarm_names[p] : "?";
}

int fcpool_prewarm_parse(const char *s, enum fcpool_prewarm *out)
{
	for (size_t i = 0; s && i < FC_ARRAY_SIZE(prewarm_names); i++)
		if (FC_STREQ(s, prewarm_names[i])) {
			*out = (enum fcpool_prewarm)i;
			return 0;
		}
	return -EINVAL;
}

void fcpool_fn_spec_clear(struct fcpool_fn_spec *s)
{
	free(s->readiness);
	free(s->name);
	free(s->image);
	fc_strv_free(s->env);
	fc_strv_free(s->labels);
	fc_strv_free(s->args);
	fc_strv_free(s->annotations);
	fc_strv_free(s->secrets);
	fc_strv_free(s->meta);
	memset(s, 0, sizeof(*s));
}

bool fcpool_name_valid(const char *n)
{
	if (!n || !*n || strlen(n) > 63)
		return false;
	if (!(islower((unsigned char)n[0]) || isdigit((unsigned char)n[0])))
		return false;
	for (const char *p = n; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
		      *p == '_' || *p == '.'))
			return false;
	return true;
}

bool fcpool_secret_name_valid(const char *n)
{
	if (!n || !*n || strlen(n) > 253 || FC_STREQ(n, ".") || FC_STREQ(n, ".."))
		return false;
	for (const char *p = n; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static const char *label(char **labels, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; labels && labels[i]; i++)
		if (strncmp(labels[i], key, kl) == 0 && labels[i][kl] == '=')
			return labels[i] + kl + 1;
	return NULL;
}

void fcpool_fn_spec_labels(struct fcpool_fn_spec *s)
{
	const char *l;
	s->min = FCPOOL_DEFAULT_MIN;
	s->max = FCPOOL_DEFAULT_MAX;
	s->queue = 0;
	if ((l = label(s->labels, "com.openfaas.scale.min")))
		s->min = (unsigned)strtoul(l, NULL, 10);
	if ((l = label(s->labels, "com.openfaas.scale.max")))
		s->max = (unsigned)strtoul(l, NULL, 10);
	if ((l = label(s->labels, "com.fcstart.queue")))
		s->queue = (unsigned)strtoul(l, NULL, 10);
}

static int check_name_image(const char *name, const char *image, struct fc_error **err)
{
	if (!fcpool_name_valid(name))
		return fc_error_set(err, EINVAL,
		                    "function name `%s`: expected [a-z0-9][a-z0-9_.-]{0,62}",
		                    name ? name : "");
	if (!image || !*image)
		return fc_error_set(err, EINVAL, "function `%s`: no image", name);
	return 0;
}

int fcpool_fn_spec_check(const struct fcpool_fn_spec *s, struct fc_error **err)
{
	int r = check_name_image(s->name, s->image, err);
	if (r < 0)
		return r;
	if (!(s->cpus >= 0 && s->cpus <= 65536))
		return fc_error_set(err, EINVAL,
		                    "function `%s`: cpus %g: expected a number in 0..65536",
		                    s->name, s->cpus);
	if (s->max < 1 || s->min > s->max || s->max > 10000)
		return fc_error_set(
		    err, EINVAL,
		    "function `%s`: scale min %u max %u: need 0 <= min <= max, 1 <= max <= 10000",
		    s->name, s->min, s->max);
	if (s->memory && s->memory < FCPOOL_MIN_MEMORY)
		return fc_error_set(err, EINVAL,
		                    "function `%s`: memory %llu bytes: at least %llu (6 MiB)",
		                    s->name, (unsigned long long)s->memory, FCPOOL_MIN_MEMORY);
	if (s->cpus && !(s->cpus >= FCPOOL_MIN_CPUS))
		return fc_error_set(err, EINVAL,
		                    "function `%s`: cpus %g: at least %g (a 1 ms quota per 100 ms)",
		                    s->name, s->cpus, FCPOOL_MIN_CPUS);
	if (s->pids > FCPOOL_MAX_PIDS)
		return fc_error_set(err, EINVAL, "function `%s`: pids %u: at most %u", s->name,
		                    s->pids, FCPOOL_MAX_PIDS);
	for (size_t i = 0; s->secrets && s->secrets[i]; i++)
		if (!fcpool_secret_name_valid(s->secrets[i]))
			return fc_error_set(err, EINVAL,
			                    "function `%s`: secret `%s`: expected a name of "
			                    "[a-zA-Z0-9_.-], 1 to 253 characters, not . or ..",
			                    s->name, s->secrets[i]);
	if ((unsigned)s->prewarm > FCPOOL_PREWARM_FORK)
		return fc_error_set(err, EINVAL,
		                    "function `%s`: prewarm %d: expected exec, started "
		                    "or fork",
		                    s->name, (int)s->prewarm);
	if (s->prewarm == FCPOOL_PREWARM_FORK && s->userns_host)
		return fc_error_set(err, EINVAL,
		                    "function `%s`: prewarm fork needs the function's own user "
		                    "namespace: it cannot be deployed with userns host",
		                    s->name);
	if (s->readiness && (s->readiness[0] != '/' || strlen(s->readiness) > 1024 ||
	                     strpbrk(s->readiness, " \t\r\n")))
		return fc_error_set(err, EINVAL,
		                    "function `%s`: readiness path `%s`: expected an absolute URL "
		                    "path (/_/health) without spaces, at most 1024 bytes",
		                    s->name, s->readiness);
	if (s->ready_timeout_ms > 86400000)
		return fc_error_set(err, EINVAL,
		                    "function `%s`: ready timeout %llu ms: at most a day", s->name,
		                    (unsigned long long)s->ready_timeout_ms);
	return 0;
}

int fcpool_fn_spec_limits(struct fcpool_fn_spec *s, struct fc_error **err)
{
	const char *l;
	if (!s->pids && (l = label(s->labels, "com.fcstart.pids"))) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(l, &end, 10);
		if (errno || end == l || *end || !isdigit((unsigned char)*l) || n == 0 ||
		    n > FCPOOL_MAX_PIDS)
			return fc_error_set(
			    err, EINVAL,
			    "function `%s`: label com.fcstart.pids `%s`: expected a "
			    "number of processes in 1..%u",
			    s->name, l, FCPOOL_MAX_PIDS);
		s->pids = (unsigned)n;
	}
	if (!s->timeout_ms && (l = label(s->labels, "com.fcstart.timeout"))) {
		uint64_t ms;
		if (fcpool_parse_duration(l, &ms) < 0 || ms == 0)
			return fc_error_set(
			    err, EINVAL,
			    "function `%s`: label com.fcstart.timeout `%s`: expected "
			    "a duration (30s, 500ms, 5m)",
			    s->name, l);
		s->timeout_ms = ms;
	}
	if ((l = label(s->labels, "com.fcstart.userns"))) {
		if (!FC_STREQ(l, "host") && !FC_STREQ(l, "private"))
			return fc_error_set(
			    err, EINVAL,
			    "function `%s`: label com.fcstart.userns `%s`: expected "
			    "private or host",
			    s->name, l);
		s->userns_host = s->userns_host || FC_STREQ(l, "host");
	}
	/* these three from a label, or else an annotation (OpenFaaS users write
	 * com.openfaas.health.http.path as one, as faas-netes reads it) */
	if (!s->prewarm &&
	    ((l = label(s->labels, "com.fcstart.prewarm")) ||
	     (l = label(s->annotations, "com.fcstart.prewarm"))) &&
	    fcpool_prewarm_parse(l, &s->prewarm) < 0)
		return fc_error_set(err, EINVAL,
		                    "function `%s`: label com.fcstart.prewarm `%s`: expected exec, "
		                    "started or fork",
		                    s->name, l);
	if (!s->readiness &&
	    ((l = label(s->labels, "com.openfaas.health.http.path")) ||
	     (l = label(s->annotations, "com.openfaas.health.http.path"))) &&
	    *l)
		s->readiness = fc_strdup(l);
	if (!s->ready_timeout_ms && ((l = label(s->labels, "com.fcstart.ready-timeout")) ||
	                             (l = label(s->annotations, "com.fcstart.ready-timeout")))) {
		uint64_t ms;
		if (fcpool_parse_duration(l, &ms) < 0 || ms == 0)
			return fc_error_set(
			    err, EINVAL,
			    "function `%s`: label com.fcstart.ready-timeout `%s`: expected "
			    "a duration (30s, 500ms, 5m)",
			    s->name, l);
		s->ready_timeout_ms = ms;
	}
	if (!s->ready_timeout_ms)
		s->ready_timeout_ms = FCPOOL_DEFAULT_READY_TIMEOUT_MS;
	if (!s->memory)
		s->memory = FCPOOL_DEFAULT_MEMORY;
	if (!s->pids)
		s->pids = FCPOOL_DEFAULT_PIDS;
	if (!s->timeout_ms)
		s->timeout_ms = FCPOOL_DEFAULT_TIMEOUT_MS;
	return 0;
}

/* ---- sizes and durations --------------------------------------------------- */

int fcpool_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || !isfinite(v))
		return -EINVAL;
	uint64_t mul = 1;
	switch (tolower((unsigned char)*end)) {
	case 0:
		break;
	case 'k':
		mul = 1ULL << 10;
		end++;
		break;
	case 'm':
		mul = 1ULL << 20;
		end++;
		break;
	case 'g':
		mul = 1ULL << 30;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v * (double)mul >= 9223372036854775808.0) /* 2^63 */
		return -EINVAL;
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

int fcpool_parse_duration(const char *s, uint64_t *ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || !isfinite(v))
		return -EINVAL;
	double mul;
	if (!*end || FC_STREQ(end, "s"))
		mul = 1000;
	else if (FC_STREQ(end, "ms"))
		mul = 1;
	else if (FC_STREQ(end, "m"))
		mul = 60000;
	else if (FC_STREQ(end, "h"))
		mul = 3600000;
	else
		return -EINVAL;
	if (v * mul > 1e12) /* about 31 years, as a function's timeout_ms */
		return -EINVAL;
	*ms = (uint64_t)llround(v * mul);
	return 0;
}
