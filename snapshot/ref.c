/* SPDX-License-Identifier: MIT */
/* ref.c: image references as Docker reads them ("alpine" is
 * docker.io/library/alpine:latest). The grammar is the one of the
 * distribution project's reference package:
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] component ( "/" component )*
 *   domain     := host [ ":" port ]   (a first part with a "." or a ":",
 *                                      or "localhost"; else docker.io)
 *   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *   digest     := "sha256:" 64 lowercase hex (the only algorithm we pull)
 * with a name of at most 255 bytes. */
#include <ctype.h>

#include "fcsnap.h"

#define NAME_MAX_LEN 255

void fcsnap_ref_clear(struct fcsnap_ref *r)
{
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static bool is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* one path component, n bytes at s */
static bool valid_component(const char *s, size_t n)
{
	if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (is_alnum_lower(c))
			continue;
		if (c == '.') { /* a single dot between alphanumerics */
			if (!is_alnum_lower(s[i - 1]))
				return false;
		} else if (c == '_') { /* "_" or "__" */
			if (s[i - 1] == '_' && (i < 2 || s[i - 2] == '_'))
				return false;
			if (s[i - 1] != '_' && !is_alnum_lower(s[i - 1]))
				return false;
		} else if (c == '-') { /* any run of dashes */
			if (s[i - 1] != '-' && !is_alnum_lower(s[i - 1]))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* host[:port], or [ipv6][:port] */
static bool valid_domain(const char *s, size_t n)
{
	size_t hostlen = n;
	const char *colon = NULL;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		hostlen = (size_t)(close - s) + 1;
		if (hostlen < n && s[hostlen] != ':')
			return false;
		colon = hostlen < n ? s + hostlen : NULL;
	} else {
		colon = memchr(s, ':', n);
		if (colon)
			hostlen = (size_t)(colon - s);
		if (hostlen == 0)
			return false;
		/* labels of [A-Za-z0-9-], not starting or ending with '-' */
		size_t start = 0;
		for (size_t i = 0; i <= hostlen; i++) {
			if (i == hostlen || s[i] == '.') {
				if (i == start || s[start] == '-' || s[i - 1] == '-')
					return false;
				start = i + 1;
			} else if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
				return false;
			}
		}
	}
	if (colon) {
		size_t plen = n - (size_t)(colon - s) - 1;
		if (plen == 0 || plen > 5)
			return false;
		for (size_t i = 1; i <= plen; i++)
			if (!isdigit((unsigned char)colon[i]))
				return false;
	}
	return true;
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (isalnum((unsigned char)c) || c == '_')
			continue;
		if (i > 0 && (c == '.' || c == '-'))
			continue;
		return false;
	}
	return true;
}

static bool all_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int fcsnap_ref_parse(const char *s, struct fcsnap_ref *out, struct fc_error **err)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return fc_error_set(err, EINVAL, "empty image reference");
	if (strlen(s) > 1024)
		return fc_error_set(err, EINVAL, "image reference is too long (%zu bytes)",
		                    strlen(s));
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return fc_error_set(
			    err, EINVAL,
			    "invalid image reference `%s`: it may not hold spaces or "
			    "control characters",
			    s);
	_cleanup_free_ char *name = fc_strdup(s);
	char *at = strchr(name, '@');
	if (at) {
		*at = 0;
		const char *d = at + 1;
		const char *colon = strchr(d, ':');
		if (!colon)
			return fc_error_set(err, EINVAL,
			                    "invalid image reference `%s`: bad digest `%s`", s, d);
		if (strncmp(d, "sha256:", 7) != 0)
			return fc_error_set(
			    err, EPROTONOSUPPORT,
			    "image reference `%s`: unsupported digest algorithm `%.*s` "
			    "(only sha256)",
			    s, (int)(colon - d), d);
		if (!all_hex64(d + 7))
			return fc_error_set(err, EINVAL,
			                    "invalid image reference `%s`: a sha256 digest is 64 "
			                    "lowercase hex digits",
			                    s);
		out->digest = fc_strdup(d);
	}
	/* the tag: after the last ':' that follows the last '/' */
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		*colon = 0;
		if (!valid_tag(colon + 1)) {
			int r =
			    fc_error_set(err, EINVAL,
			                 "invalid image reference `%s`: bad tag `%s` (letters, "
			                 "digits, `_`, `.`, `-`, at most 128, not starting with "
			                 "`.` or `-`)",
			                 s, colon + 1);
			fcsnap_ref_clear(out);
			return r;
		}
		out->tag = fc_strdup(colon + 1);
	}
	if (!*name) {
		fcsnap_ref_clear(out);
		return fc_error_set(err, EINVAL, "invalid image reference `%s`: no repository name",
		                    s);
	}
	/* the domain: a first part that looks like a host */
	char *first = strchr(name, '/');
	const char *rest = name;
	if (first) {
		size_t n = (size_t)(first - name);
		bool host = memchr(name, '.', n) || memchr(name, ':', n) ||
		            (n == 9 && strncmp(name, "localhost", 9) == 0) || name[0] == '[';
		for (size_t i = 0; i < n && !host; i++)
			host = isupper((unsigned char)name[i]);
		if (host) {
			if (!valid_domain(name, n)) {
				fcsnap_ref_clear(out);
				return fc_error_set(
				    err, EINVAL,
				    "invalid image reference `%s`: bad registry `%.*s`", s, (int)n,
				    name);
			}
			out->domain = fc_strndup(name, n);
			rest = first + 1;
		}
	}
	if (!out->domain)
		out->domain = fc_strdup("docker.io");
	if (FC_STREQ(out->domain, "index.docker.io") ||
	    FC_STREQ(out->domain, "registry-1.docker.io")) {
		free(out->domain);
		out->domain = fc_strdup("docker.io");
	}
	/* the path components */
	for (const char *p = rest;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!valid_component(p, n)) {
			bool upper = false;
			for (size_t i = 0; i < n; i++)
				upper |= isupper((unsigned char)p[i]);
			int r =
			    fc_error_set(err, EINVAL, "invalid image reference `%s`: %s `%.*s`", s,
			                 upper ? "repository names must be lowercase, not"
			                       : "bad repository name component",
			                 (int)n, p);
			fcsnap_ref_clear(out);
			return r;
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (FC_STREQ(out->domain, "docker.io") && !strchr(rest, '/'))
		out->path = fc_asprintf("library/%s", rest);
	else
		out->path = fc_strdup(rest);
	if (!strchr(s, '/') && !out->tag && !out->digest && all_hex64(s)) {
		fcsnap_ref_clear(out);
		return fc_error_set(
		    err, EINVAL,
		    "invalid image reference `%s`: a 64-digit hex string is an image "
		    "id, not a name",
		    s);
	}
	if (strlen(out->domain) + 1 + strlen(out->path) > NAME_MAX_LEN) {
		fcsnap_ref_clear(out);
		return fc_error_set(
		    err, EINVAL, "invalid image reference `%s`: the name is longer than %d bytes",
		    s, NAME_MAX_LEN);
	}
	if (!out->tag && !out->digest)
		out->tag = fc_strdup("latest");
	return 0;
}

char *fcsnap_ref_string(const struct fcsnap_ref *r)
{
	return fc_asprintf("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "",
	                   r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "");
}
