/* SPDX-License-Identifier: MIT */
/* cli.c: flag parsing shared by fcrun's verbs. */
#include "cli.h"

static const struct fc_opt *find_opt(const struct fc_opt *opts, const char *name, size_t len)
{
	for (const struct fc_opt *o = opts; o && o->name; o++) {
		if (len == 1 && o->short_name && name[0] == o->short_name)
			return o;
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	}
	return NULL;
}

static bool parse_bool(const char *v, bool *out)
{
	if (FC_STREQ(v, "true") || FC_STREQ(v, "1") || FC_STREQ(v, "t") || FC_STREQ(v, "TRUE"))
		*out = true;
	else if (FC_STREQ(v, "false") || FC_STREQ(v, "0") || FC_STREQ(v, "f") ||
	         FC_STREQ(v, "FALSE"))
		*out = false;
	else
		return false;
	return true;
}

int fc_cli_parse(int argc, char **argv, const struct fc_opt *opts, bool stop_at_positional,
                 char ***pos, size_t *npos, bool *help, struct fc_error **err)
{
	char **p = fc_calloc((size_t)argc + 1, sizeof(char *));
	size_t n = 0;
	bool flags_done = false;
	*help = false;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (flags_done || a[0] != '-' || a[1] == '\0') {
			p[n++] = a;
			if (stop_at_positional)
				flags_done = true;
			continue;
		}
		if (FC_STREQ(a, "--")) {
			flags_done = true;
			continue;
		}
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		if ((len == 4 && strncmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h')) {
			*help = true;
			continue;
		}
		const struct fc_opt *o = find_opt(opts, name, len);
		if (!o) {
			free(p);
			return fc_error_set(err, 0, "flag provided but not defined: -%.*s",
			                    (int)len, name);
		}
		const char *val = eq ? eq + 1 : NULL;
		if (o->type == FC_OPT_BOOL) {
			bool b = true;
			if (val && !parse_bool(val, &b)) {
				free(p);
				return fc_error_set(err, 0, "invalid boolean value \"%s\" for -%s",
				                    val, o->name);
			}
			*(bool *)o->ptr = b;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				free(p);
				return fc_error_set(err, 0, "flag needs an argument: -%s", o->name);
			}
			val = argv[++i];
		}
		if (o->type == FC_OPT_STR) {
			*(const char **)o->ptr = val;
		} else if (o->type == FC_OPT_INT) {
			char *end;
			errno = 0;
			long v = strtol(val, &end, 10);
			if (*end || errno || v < 0 || v > 1 << 20) {
				free(p);
				return fc_error_set(err, 0, "invalid value \"%s\" for flag -%s",
				                    val, o->name);
			}
			*(int *)o->ptr = (int)v;
		} else {
			char ***vp = o->ptr;
			size_t k = fc_strv_len(*vp);
			*vp = fc_realloc(*vp, (k + 2) * sizeof(char *));
			(*vp)[k] = fc_strdup(val);
			(*vp)[k + 1] = NULL;
		}
	}
	p[n] = NULL;
	*pos = p;
	*npos = n;
	return 0;
}

const char *fc_cli_summary;

/* runc's (urfave/cli's) layout: NAME, USAGE, the description, OPTIONS with
 * the long name first ("--all, -a", "--bundle value, -b value"). */
void fc_cli_usage(FILE *f, const char *usage, const char *desc, const struct fc_opt *opts)
{
	const char *sp = strchr(usage, ' ');
	int vlen = sp ? (int)(sp - usage) : (int)strlen(usage);
	fprintf(f, "NAME:\n   fcrun %.*s - %s\n\nUSAGE:\n   fcrun %s\n\n%s\n", vlen, usage,
	        fc_cli_summary ? fc_cli_summary : desc, usage, desc);
	if (opts && opts->name) {
		char left[80];
		size_t w = 0;
		for (int pass = 0; pass < 2; pass++)
			for (const struct fc_opt *o = opts; o->name; o++) {
				const char *v = o->type == FC_OPT_BOOL ? "" : " value";
				if (o->short_name)
					snprintf(left, sizeof(left), "--%s%s, -%c%s", o->name, v,
					         o->short_name, v);
				else
					snprintf(left, sizeof(left), "--%s%s", o->name, v);
				if (pass == 0 && strlen(left) > w)
					w = strlen(left);
				if (pass == 0)
					continue;
				if (o == opts)
					fprintf(f, "\nOPTIONS:\n");
				fprintf(f, "   %-*s  %s\n", (int)w, left, o->help);
			}
	}
}

int fc_cli_fail(struct fc_error *e)
{
	fc_log(FC_LOG_ERROR, "%s", e ? e->msg : "unknown error");
	fc_error_free(e);
	return 1;
}

int fc_cli_failf(const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	fc_log(FC_LOG_ERROR, "%s", m ? m : fmt);
	free(m);
	return 1;
}

bool fc_cli_verb(int argc, char **argv, const struct fc_opt *opts, bool stop_at_positional,
                 size_t min_pos, const char *usage, const char *desc, char ***pos, size_t *npos,
                 int *rc)
{
	struct fc_error *err = NULL;
	bool help;
	*pos = NULL;
	if (fc_cli_parse(argc, argv, opts, stop_at_positional, pos, npos, &help, &err) < 0) {
		*rc = fc_cli_fail(err);
		return false;
	}
	if (help) {
		fc_cli_usage(stdout, usage, desc, opts);
		*rc = 0;
		return false;
	}
	if (*npos < min_pos) {
		*rc = fc_cli_failf("\"%s\" requires a minimum of %zu argument(s) (usage: fcrun %s)",
		                   argv[0], min_pos, usage);
		return false;
	}
	return true;
}
