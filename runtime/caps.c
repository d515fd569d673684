/* SPDX-License-Identifier: MIT */
/* caps.c: user, groups, capabilities and umask of the container process, in
 * the order runc uses:
 *   1. drop from the bounding set every capability not listed in bounding
 *   2. PR_SET_KEEPCAPS 1 (keep permitted across the uid change)
 *   3. setgroups(additional_gids), setresgid, setresuid
 *   4. PR_SET_KEEPCAPS 0
 *   5. capset effective/permitted/inheritable
 *   6. clear the ambient set and raise each ambient capability; like runc
 *      (which only logs a warning) a capability that cannot be raised
 *      (EPERM/EINVAL: not in permitted and inheritable, unknown to the
 *      kernel) is skipped and is not an error. Library code does not log.
 * Without process.capabilities steps 1, 2, 4, 5 and 6 are skipped: the
 * kernel then clears all capabilities of a non-root uid and root keeps its. */
#include "security.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}
#define _cleanup_cap_ _cleanup_(cap_freep)

/* "CAP_CHOWN" for CAP_CHOWN; "capability 41" when libcap has no name. */
static void cap_name(int cap, char *buf, size_t len)
{
	char *n = cap_to_name((cap_value_t)cap);

	if (n && strncmp(n, "cap_", 4) == 0) {
		size_t i;
		for (i = 0; n[i] && i + 1 < len; i++)
			buf[i] = (char)toupper((unsigned char)n[i]);
		buf[i] = '\0';
	} else {
		snprintf(buf, len, "capability %d", cap);
	}
	if (n)
		cap_free(n);
}

/* The highest capability number the running kernel knows. */
static int last_cap(void)
{
	char buf[16];
	ssize_t n;
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			int v = atoi(buf);
			if (v > 0 && v < 64)
				return v;
		}
	}
	/* /proc missing (or masked): ask the kernel by probing the bounding set. */
	int c = 0;
	while (c < 63 && prctl(PR_CAPBSET_READ, (unsigned long)(c + 1), 0, 0, 0) >= 0)
		c++;
	return c;
}

char **fc_caps_known(void)
{
	int last = last_cap();
	char **v = fc_calloc((size_t)last + 2, sizeof(char *));
	size_t n = 0;

	for (int c = 0; c <= last; c++) {
		char buf[64];
		cap_name(c, buf, sizeof(buf));
		if (strncmp(buf, "CAP_", 4) == 0)
			v[n++] = fc_strdup(buf);
	}
	v[n] = NULL;
	return v;
}

static bool cap_in(const int *list, size_t n, int cap)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == cap)
			return true;
	return false;
}

static int drop_bounding(const struct fc_caps *c, int last, struct fc_error **err)
{
	for (int cap = 0; cap <= last; cap++) {
		if (cap_in(c->bounding, c->n_bounding, cap))
			continue;
		int r = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);
		if (r < 0) {
			if (errno == EINVAL)
				continue;
			goto fail;
		}
		if (r == 0)
			continue; /* already gone: no CAP_SETPCAP needed */
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0)
			goto fail;
		continue;
	fail : {
		char name[64];
		cap_name(cap, name, sizeof(name));
		return fc_error_set(err, errno, "drop %s from the bounding set", name);
	}
	}
	return 0;
}

static bool setgroups_denied(void)
{
	char buf[16] = {0};
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 && strncmp(buf, "deny", 4) == 0;
}

static int set_ids(const struct fc_process *p, struct fc_error **err)
{
	int r;

	if (p->n_additional_gids > 0) {
		gid_t *g = fc_calloc(p->n_additional_gids, sizeof(gid_t));
		for (size_t i = 0; i < p->n_additional_gids; i++)
			g[i] = (gid_t)p->additional_gids[i];
		r = setgroups(p->n_additional_gids, g);
		int e = errno;
		free(g);
		if (r < 0) {
			struct fc_buf b = {0};
			for (size_t i = 0; i < p->n_additional_gids && i < 16; i++)
				fc_buf_printf(&b, "%s%u", i ? "," : "", p->additional_gids[i]);
			if (p->n_additional_gids > 16)
				fc_buf_printf(&b, ",...");
			r = fc_error_set(err, e, "setgroups [%s]", b.data ? b.data : "");
			free(b.data);
			return r;
		}
	} else if (setgroups(0, NULL) < 0) {
		/* In a user namespace with setgroups denied the list cannot be
		 * changed at all: keep the inherited (empty/overflow) one. */
		if (!(errno == EPERM && setgroups_denied()))
			return fc_error_set(err, errno, "setgroups to none");
	}
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return fc_error_set(err, errno, "setresgid %u", p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return fc_error_set(err, errno, "setresuid %u", p->uid);
	return 0;
}

static int fill_set(cap_t c, cap_flag_t flag, const int *list, size_t n, int last)
{
	for (size_t i = 0; i < n; i++) {
		cap_value_t v = (cap_value_t)list[i];
		/* Capabilities the kernel does not know are ignored, as runc does. */
		if (list[i] < 0 || list[i] > last)
			continue;
		if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
			return -errno;
	}
	return 0;
}

/* capset failed as a whole: find a capability to name in the message. */
static int explain_capset(const struct fc_caps *c, int errnum, struct fc_error **err)
{
	_cleanup_cap_ cap_t cur = cap_get_proc();
	char name[64];

	for (size_t i = 0; i < c->n_effective; i++)
		if (!cap_in(c->permitted, c->n_permitted, c->effective[i])) {
			cap_name(c->effective[i], name, sizeof(name));
			return fc_error_set(
			    err, errnum, "set capabilities: effective %s is not permitted", name);
		}
	for (size_t i = 0; cur && i < c->n_permitted; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		cap_get_flag(cur, (cap_value_t)c->permitted[i], CAP_PERMITTED, &v);
		if (v != CAP_SET) {
			cap_name(c->permitted[i], name, sizeof(name));
			return fc_error_set(
			    err, errnum,
			    "set capabilities: permitted %s is not held by the process", name);
		}
	}
	for (size_t i = 0; cur && i < c->n_inheritable; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		cap_get_flag(cur, (cap_value_t)c->inheritable[i], CAP_PERMITTED, &v);
		if (v != CAP_SET) {
			cap_name(c->inheritable[i], name, sizeof(name));
			return fc_error_set(
			    err, errnum,
			    "set capabilities: inheritable %s is not held by the process", name);
		}
	}
	return fc_error_set(err, errnum, "set capabilities");
}

static int set_caps(const struct fc_caps *c, int last, struct fc_error **err)
{
	_cleanup_cap_ cap_t caps = cap_init();
	int r;

	if (!caps)
		return fc_error_set(err, errno, "set capabilities: cap_init");
	if ((r = fill_set(caps, CAP_EFFECTIVE, c->effective, c->n_effective, last)) < 0 ||
	    (r = fill_set(caps, CAP_PERMITTED, c->permitted, c->n_permitted, last)) < 0 ||
	    (r = fill_set(caps, CAP_INHERITABLE, c->inheritable, c->n_inheritable, last)) < 0)
		return fc_error_set(err, -r, "set capabilities: cap_set_flag");
	if (cap_set_proc(caps) < 0)
		return explain_capset(c, errno, err);

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		if (errno == EINVAL)
			return 0; /* kernel without ambient capabilities */
		return fc_error_set(err, errno, "clear the ambient capabilities");
	}
	for (size_t i = 0; i < c->n_ambient; i++) {
		int cap = c->ambient[i];
		if (cap < 0 || cap > last)
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0, 0) < 0) {
			if (errno == EPERM || errno == EINVAL)
				continue; /* runc: warning only */
			char name[64];
			cap_name(cap, name, sizeof(name));
			return fc_error_set(err, errno, "raise ambient %s", name);
		}
	}
	return 0;
}

int fc_bounding_apply(const struct fc_process *p, struct fc_error **err)
{
	if (!p->caps.has_caps)
		return 0;
	return drop_bounding(&p->caps, last_cap(), err);
}

static int identity(const struct fc_process *p, bool bounding, struct fc_error **err)
{
	const struct fc_caps *c = &p->caps;
	int last, r;

	umask(p->has_umask ? (mode_t)p->umask : 0022);

	if (!c->has_caps)
		return set_ids(p, err);

	last = last_cap();
	if (bounding && (r = drop_bounding(c, last, err)) < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return fc_error_set(err, errno, "prctl PR_SET_KEEPCAPS 1");
	if ((r = set_ids(p, err)) < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fc_error_set(err, errno, "prctl PR_SET_KEEPCAPS 0");
	return set_caps(c, last, err);
}

int fc_identity_apply(const struct fc_process *p, struct fc_error **err)
{
	return identity(p, true, err);
}

int fc_identity_apply_rest(const struct fc_process *p, struct fc_error **err)
{
	return identity(p, false, err);
}

void fc_stdio_chown(uint32_t uid, bool own_tty)
{
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_uid == uid)
			continue;
		bool chan = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
		if (!chan && !(own_tty && S_ISCHR(st.st_mode) && isatty(fd)))
			continue;
		(void)!fchown(fd, uid, (gid_t)-1);
	}
}
