/* SPDX-License-Identifier: MIT */
/* spec-validate.c: what a parsed config may not ask for, as a whole (the
 * parser checks each field alone). Run by create before anything is made;
 * every error names the field. The rules follow runc's validator, and are
 * stricter where the host is at stake: a sysctl is written only when it
 * lives in a namespace the container has of its own. */
#include "spec.h"

#include <sys/stat.h>

/* Is the namespace at path the one we are in (the host's, from where the
 * runtime stands)? -errno when path cannot be read. */
static int is_our_ns(const char *path, const char *proc_name)
{
	_cleanup_free_ char *self = fc_asprintf("/proc/self/ns/%s", proc_name);
	struct stat a, b;
	if (stat(self, &a) < 0 || stat(path, &b) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Does the container have a namespace of type t other than ours? */
static int own_ns(const struct fc_spec *s, enum fc_ns_type t, struct fc_error **err)
{
	const struct fc_namespace *ns = fc_spec_ns(s, t);
	if (!ns)
		return 0;
	if (!ns->path)
		return 1;
	int r = is_our_ns(ns->path, fc_ns_proc_name(t));
	if (r < 0)
		return fc_error_set(err, -r, "linux.namespaces: %s namespace path `%s`",
		                    fc_ns_name(t), ns->path);
	return !r;
}

/* sysctl(8) accepts '/' for '.' (then a '.' in a component, as in an
 * interface name, stays one): the key as /proc/sys/ components joined by
 * '/', and the key in dotted form (for the rules). NULL for a key with an
 * empty, "." or ".." component. */
static char *sysctl_path(const char *key, char **dotted)
{
	size_t first = strcspn(key, "./");
	bool slash = key[first] == '/';
	_cleanup_free_ char *path = fc_strdup(key);
	*dotted = fc_strdup(key);
	for (char *p = path, *d = *dotted; *p; p++, d++) {
		if (*p == (slash ? '/' : '.'))
			*p = '/', *d = '.';
		else if (*p == (slash ? '.' : '/'))
			*p = '.', *d = '/';
	}
	for (const char *c = path;;) {
		size_t len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return NULL;
		if (!c[len])
			break;
		c += len + 1;
	}
	return TAKE_PTR(path);
}

char *fc_sysctl_path(const char *key)
{
	_cleanup_free_ char *dotted = NULL;
	return sysctl_path(key, &dotted);
}

static bool is_ipc_sysctl(const char *k)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
	                                  "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
	                                  "kernel.shmmni", "kernel.shm_rmid_forced"};
	for (size_t i = 0; i < FC_ARRAY_SIZE(ipc); i++)
		if (FC_STREQ(k, ipc[i]))
			return true;
	return strncmp(k, "fs.mqueue.", 10) == 0;
}

static int check_sysctl(const struct fc_spec *s, const char *key, struct fc_error **err)
{
	_cleanup_free_ char *k = NULL;
	_cleanup_free_ char *path = sysctl_path(key, &k);
	int r;
	if (!path)
		return fc_error_relay(err, EINVAL, "linux.sysctl: invalid key \"%s\"", key);
	if (is_ipc_sysctl(k)) {
		if ((r = own_ns(s, FC_NS_IPC, err)) < 0)
			return r;
		if (!r)
			return fc_error_relay(
			    err, EPERM,
			    "linux.sysctl: sysctl \"%s\" is not allowed in the host's "
			    "IPC namespace",
			    k);
		return 0;
	}
	if (strncmp(k, "net.", 4) == 0) {
		if ((r = own_ns(s, FC_NS_NETWORK, err)) < 0)
			return r;
		if (!r)
			return fc_error_relay(
			    err, EPERM,
			    "linux.sysctl: sysctl \"%s\" not allowed in host network "
			    "namespace",
			    k);
		return 0;
	}
	if (FC_STREQ(k, "kernel.domainname") || FC_STREQ(k, "kernel.hostname")) {
		if ((r = own_ns(s, FC_NS_UTS, err)) < 0)
			return r;
		if (!r)
			return fc_error_relay(
			    err, EPERM,
			    "linux.sysctl: sysctl \"%s\" is not allowed in the host's "
			    "UTS namespace",
			    k);
		if (FC_STREQ(k, "kernel.hostname"))
			return fc_error_relay(err, EINVAL,
			                      "linux.sysctl: sysctl \"%s\" is not allowed as it "
			                      "conflicts with the OCI \"hostname\" field",
			                      k);
		return 0;
	}
	return fc_error_relay(
	    err, EPERM, "linux.sysctl: sysctl \"%s\" is not in a separate kernel namespace", k);
}

int fc_spec_validate(const struct fc_spec *s, struct fc_error **err)
{
	int r;
	if (!s->process)
		return fc_error_relay(err, EINVAL, "config.json: process: required by fcrun");
	if (s->hostname && *s->hostname && !fc_spec_ns(s, FC_NS_UTS))
		return fc_error_relay(
		    err, EINVAL,
		    "hostname: unable to set hostname without a private UTS namespace");
	if (s->domainname && *s->domainname && !fc_spec_ns(s, FC_NS_UTS))
		return fc_error_relay(
		    err, EINVAL,
		    "domainname: unable to set domainname without a private UTS namespace");
	/* The kernel's limit (64 bytes): said here, with the field, instead of
	 * sethostname's EINVAL. */
	if (s->hostname && strlen(s->hostname) > 64)
		return fc_error_relay(err, EINVAL, "hostname: must be at most 64 bytes, got %zu",
		                      strlen(s->hostname));
	if (s->domainname && strlen(s->domainname) > 64)
		return fc_error_relay(err, EINVAL, "domainname: must be at most 64 bytes, got %zu",
		                      strlen(s->domainname));
	if ((s->n_uid_mappings || s->n_gid_mappings) && !fc_spec_ns(s, FC_NS_USER))
		return fc_error_relay(
		    err, EINVAL,
		    "linux.uidMappings: user namespace mappings without a user namespace");
	/* Masked and read-only paths are only made in a mount namespace of the
	 * container's own: without one they would be silently missing. */
	if ((s->masked_paths || s->readonly_paths) && !fc_spec_ns(s, FC_NS_MOUNT))
		return fc_error_relay(err, EINVAL,
		                      "linux.%s: unable to restrict paths without a private mount "
		                      "namespace",
		                      s->masked_paths ? "maskedPaths" : "readonlyPaths");
	for (size_t i = 0; i < s->n_sysctl; i++)
		if ((r = check_sysctl(s, s->sysctl[i].key, err)) < 0)
			return r;
	return 0;
}
