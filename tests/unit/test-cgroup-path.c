/* SPDX-License-Identifier: MIT */
/* test-cgroup-path: fc_cgroup_resolve_path (no root needed). Exit 0/1. */
#include "cgroup/cgroup.h"

static int failures;

static void is(const char *id, const char *in, bool systemd, const char *want)
{
	struct fc_error *e = NULL;
	char *p = fc_cgroup_resolve_path(id, in, systemd, &e);
	if (want ? !p || strcmp(p, want) : p != NULL) {
		fprintf(stderr, "FAIL resolve(%s, %s, %d): got `%s`, want `%s`\n", id,
		        in ? in : "NULL", systemd,
		        p   ? p
		        : e ? e->msg
		            : "?",
		        want ? want : "error");
		failures++;
	}
	free(p);
	fc_error_free(e);
}

int main(void)
{
	struct fc_error *e = NULL;
	char *p;
	is("abc", NULL, false, "/fcrun/abc");
	is("abc", "", false, "/fcrun/abc");
	is("abc", NULL, true, "/fcrun/abc");
	is("abc", "/", false, NULL); /* the host's root cgroup: refused */
	is("abc", "//", false, NULL);
	is("abc", "/a//b/", false, "/a/b");
	is("abc", "/machine/abc", true, "/machine/abc");
	is("abc", "system.slice:docker:abc", true, "/system.slice/docker-abc.scope");
	is("abc", "user-1000.slice:p:n", true, "/user.slice/user-1000.slice/p-n.scope");
	is("abc", "a-b-c.slice:p:n", true, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
	is("abc", "-.slice:p:n", true, "/p-n.scope");
	is("abc", ":fcrun:x", true, "/system.slice/fcrun-x.scope");
	is("abc", "machine.slice::x", true, "/machine.slice/x.scope");
	is("abc", "machine.slice:p:sub.slice", true, "/machine.slice/sub.slice");
	is("abc", "bad:p:n", true, NULL);
	is("abc", "a--b.slice:p:n", true, NULL);
	is("abc", "system.slice:p", true, NULL);
	is("abc", "/a/../b", false, NULL);
	is("abc", "/a/./b", false, NULL);
	p = fc_cgroup_resolve_path("abc", "rel/x", false, &e);
	if (!p || p[0] != '/' || strlen(p) < 6 || strcmp(p + strlen(p) - 6, "/rel/x")) {
		fprintf(stderr, "FAIL relative: `%s`\n", p ? p : e->msg);
		failures++;
	}
	free(p);
	fc_error_free(e);
	/* The errors name the field and say why. */
	e = NULL;
	p = fc_cgroup_resolve_path("abc", "/", false, &e);
	if (p || !e || !strstr(e->msg, "linux.cgroupsPath `/`: the root of the cgroup hierarchy")) {
		fprintf(stderr, "FAIL `/`: %s\n", p ? p : e ? e->msg : "?");
		failures++;
	}
	free(p);
	fc_error_free(e);
	e = NULL;
	p = fc_cgroup_resolve_path("abc", "/a/../b", false, &e);
	if (p || !e || !strstr(e->msg, "linux.cgroupsPath `/a/../b`: `..`")) {
		fprintf(stderr, "FAIL `..`: %s\n", p ? p : e ? e->msg : "?");
		failures++;
	}
	free(p);
	fc_error_free(e);
	/* A cgroup holding the caller (any of its hierarchies) is the host's. */
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	while (f && fgets(line, sizeof(line), f)) {
		char *own = strchr(line, ':');
		own = own ? strchr(own + 1, ':') : NULL;
		if (!own || own[1] != '/' || own[2] == '\n' || own[2] == '\0')
			continue;
		own++;
		own[strcspn(own, "\n")] = '\0';
		e = NULL;
		p = fc_cgroup_resolve_path("abc", own, false, &e);
		if (p || !e || !strstr(e->msg, "holds the runtime's own cgroup")) {
			fprintf(stderr, "FAIL own cgroup `%s`: %s\n", own,
			        p   ? p
			        : e ? e->msg
			            : "?");
			failures++;
		}
		free(p);
		fc_error_free(e);
	}
	if (f)
		fclose(f);
	printf("%d failures\n", failures);
	return failures ? 1 : 0;
}
