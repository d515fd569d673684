/* SPDX-License-Identifier: MIT */
/* process.c: what the container's process is given, shared by create (the
 * init), exec and the hand-over: its environment (merged with the caller's
 * additions, HOME from the container's /etc/passwd), its program (found in
 * PATH inside the container, checked against CVE-2019-5736) and the unix
 * sockets the runtime connects to for it (console socket, seccomp agent). */
#include "internal.h"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

int fc_unix_connect(const char *path, const char *what, struct fc_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return fc_error_set(err, ENAMETOOLONG, "%s `%s`", what, path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fc_error_set(err, errno, "%s", what);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return fc_error_set(err, e, "failed to connect with %s `%s`", what, path);
	}
	return fd;
}

char **fc_merge_env(char **a, char *const *b, bool names_from_environ)
{
	size_t na = fc_strv_len(a), nb = fc_strv_len((char **)b), n = 0;
	char **v = fc_calloc(na + nb + 1, sizeof(char *));
	for (size_t i = 0; i < na; i++)
		v[n++] = fc_strdup(a[i]);
	for (size_t i = 0; i < nb; i++) {
		const char *eq = strchr(b[i], '=');
		size_t kl = eq ? (size_t)(eq - b[i]) : strlen(b[i]);
		char *val;
		size_t j;
		if (eq) {
			val = fc_strdup(b[i]);
		} else {
			/* "-e NAME" takes NAME from our environment, as runc does. */
			const char *h = names_from_environ ? getenv(b[i]) : NULL;
			if (!h)
				continue;
			val = fc_asprintf("%s=%s", b[i], h);
		}
		for (j = 0; j < n; j++)
			if (strncmp(v[j], b[i], kl) == 0 && v[j][kl] == '=')
				break;
		if (j < n) {
			free(v[j]);
			v[j] = val;
		} else {
			v[n++] = val;
		}
	}
	v[n] = NULL;
	return v;
}

/* The home directory of uid in the container's /etc/passwd ("/" when
 * unknown), as runc sets $HOME when the process has none. */
static char *passwd_home(uint32_t uid)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *field[7] = {0}, *p = line;
		int n = 0;
		line[strcspn(line, "\n")] = '\0';
		/* name:pw:uid:gid:gecos:home:shell (empty fields allowed) */
		for (; n < 7; n++) {
			field[n] = p;
			p = strchr(p, ':');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (n >= 5 && field[2] && strtoul(field[2], NULL, 10) == uid && *field[2] &&
		    *field[5])
			return fc_strdup(field[5]);
	}
	return fc_strdup("/");
}

void fc_env_default_home(char ***env, uint32_t uid)
{
	for (char **e = *env; e && *e; e++)
		if (strncmp(*e, "HOME=", 5) == 0)
			return;
	_cleanup_free_ char *home = passwd_home(uid);
	size_t n = fc_strv_len(*env);
	*env = fc_realloc(*env, (n + 2) * sizeof(char *));
	(*env)[n] = fc_asprintf("HOME=%s", home);
	(*env)[n + 1] = NULL;
}

/* Docker maps a failed create to the exit status by runc's (Go's) lowercase
 * errno texts: "no such file or directory" gives 127, "permission denied"
 * 126, anything else 125. Use the same words so `docker run` exits alike. */
static int exec_error(struct fc_error **err, int errnum, const char *arg0)
{
	const char *txt = errnum == ENOENT   ? "no such file or directory"
	                  : errnum == EACCES ? "permission denied"
	                                     : strerror(errnum);
	fc_error_set(err, 0, "process.args[0]: exec `%s`: %s", arg0, txt);
	if (err && *err)
		(*err)->errnum = errnum;
	return -errnum;
}

int fc_find_executable(const char *arg0, char **env, char **out, struct fc_error **err)
{
	struct stat st;
	if (strchr(arg0, '/')) {
		if (stat(arg0, &st) < 0)
			return exec_error(err, errno, arg0);
		if (S_ISDIR(st.st_mode))
			return fc_error_set(err, EACCES,
			                    "process.args[0]: exec `%s`: is a directory", arg0);
		if (fc_exec_check(arg0, arg0, err) < 0)
			return fc_error_code(*err);
		*out = fc_strdup(arg0);
		return 0;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	_cleanup_free_ char *dup = fc_strdup(path);
	char *save = NULL;
	for (char *dir = strtok_r(dup, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *cand = fc_asprintf("%s/%s", *dir ? dir : ".", arg0);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
			if (fc_exec_check(arg0, cand, err) < 0)
				return fc_error_code(*err);
			*out = TAKE_PTR(cand);
			return 0;
		}
	}
	return fc_error_set(
	    err, ENOENT, "process.args[0]: exec: `%s`: executable file not found in $PATH", arg0);
}
