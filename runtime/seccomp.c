/* SPDX-License-Identifier: MIT */
/* seccomp.c: linux.seccomp compiled with libseccomp before fork, installed
 * in the container process with the bare seccomp(2) system call.
 *
 * Behaviour, matching runc where the spec leaves room:
 *  - every listed architecture is added; the native one is always there;
 *  - a syscall name libseccomp does not know is skipped (runc does the same,
 *    so profiles naming syscalls of newer kernels keep working); a name that
 *    is simply wrong is therefore skipped too;
 *  - rules whose action equals the default action are skipped (libseccomp
 *    refuses them and they change nothing);
 *  - conditions: when two conditions name the same argument index, each
 *    condition becomes a rule of its own (OR), else all conditions form one
 *    rule (AND);
 *  - flags (SECCOMP_FILTER_FLAG_*) are passed to seccomp(2) at install time,
 *    so they do not depend on the libseccomp version, only on the kernel.
 *  - like runc, when the default action is not ALLOW or LOG, a syscall
 *    whose number is above the highest one the profile names (per
 *    architecture) returns ENOSYS instead of the default action, so that
 *    programs fall back from syscalls newer than the profile (clone3,
 *    openat2, ...). This is a short BPF prologue put before libseccomp's
 *    program. */
#include "security.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

struct fc_seccomp_prog {
	struct sock_filter *filter;
	unsigned short len;
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* from the spec */
	bool notify;        /* has SCMP_ACT_NOTIFY rules */
};

static const struct {
	const char *name;
	unsigned int flag;
} known_flag_bits[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

static const struct {
	const char *name;
	uint32_t token;
} known_arch_tokens[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
};

const char *const *fc_seccomp_known_actions(void)
{
	static const char *const v[] = {
	    "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
	    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
	    "SCMP_ACT_ERRNO",       "SCMP_ACT_TRACE",
	    "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG",
	    "SCMP_ACT_NOTIFY",      NULL,
	};
	return v;
}

const char *const *fc_seccomp_known_operators(void)
{
	static const char *const v[] = {
	    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
	    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
	};
	return v;
}

const char *const *fc_seccomp_known_archs(void)
{
	static const char *v[FC_ARRAY_SIZE(known_arch_tokens) + 1];
	/* Filled on each call with the same values: harmless if raced. */
	for (size_t i = 0; i < FC_ARRAY_SIZE(known_arch_tokens); i++)
		v[i] = known_arch_tokens[i].name;
	v[FC_ARRAY_SIZE(known_arch_tokens)] = NULL;
	return (const char *const *)v;
}

const char *const *fc_seccomp_known_flags(void)
{
	static const char *v[FC_ARRAY_SIZE(known_flag_bits) + 1];
	for (size_t i = 0; i < FC_ARRAY_SIZE(known_flag_bits); i++)
		v[i] = known_flag_bits[i].name;
	v[FC_ARRAY_SIZE(known_flag_bits)] = NULL;
	return (const char *const *)v;
}

static const char *arch_name(uint32_t token)
{
	for (size_t i = 0; i < FC_ARRAY_SIZE(known_arch_tokens); i++)
		if (known_arch_tokens[i].token == token)
			return known_arch_tokens[i].name;
	return NULL;
}

static void ctx_releasep(scmp_filter_ctx *c)
{
	if (*c)
		seccomp_release(*c);
}
#define _cleanup_scmp_ _cleanup_(ctx_releasep)

void fc_seccomp_prog_free(struct fc_seccomp_prog *p)
{
	if (!p)
		return;
	free(p->filter);
	free(p);
}

static bool is_notify(uint32_t action)
{
	return action == SCMP_ACT_NOTIFY;
}

static int add_syscall(scmp_filter_ctx ctx, const struct fc_seccomp_syscall *sc, const char *name,
                       struct fc_error **err)
{
	int nr = seccomp_syscall_resolve_name(name);
	struct scmp_arg_cmp cmp[6];
	unsigned counts[6] = {0};
	bool split = false;
	int r;

	if (nr == __NR_SCMP_ERROR)
		return 0; /* unknown to libseccomp: skipped, as runc does */
	/* More than 6 conditions always repeat an index, so cmp[6] suffices. */
	for (size_t i = 0; i < sc->n_args; i++) {
		const struct fc_seccomp_arg *a = &sc->args[i];
		if (a->index > 5)
			return fc_error_set(err, EINVAL,
			                    "seccomp: syscall %s: argument index %u > 5", name,
			                    a->index);
		if (a->op < SCMP_CMP_NE || a->op > SCMP_CMP_MASKED_EQ)
			return fc_error_set(err, EINVAL, "seccomp: syscall %s: invalid operator %d",
			                    name, a->op);
		if (++counts[a->index] > 1)
			split = true;
	}

	if (!split) {
		for (size_t i = 0; i < sc->n_args; i++)
			cmp[i] = (struct scmp_arg_cmp){
			    .arg = sc->args[i].index,
			    .op = (enum scmp_compare)sc->args[i].op,
			    .datum_a = sc->args[i].value,
			    .datum_b = sc->args[i].value_two,
			};
		r = seccomp_rule_add_array(ctx, sc->action, nr, (unsigned)sc->n_args,
		                           sc->n_args ? cmp : NULL);
		if (r < 0)
			return fc_error_set(err, -r, "seccomp: add rule for syscall %s", name);
		return 0;
	}
	for (size_t i = 0; i < sc->n_args; i++) {
		cmp[0] = (struct scmp_arg_cmp){
		    .arg = sc->args[i].index,
		    .op = (enum scmp_compare)sc->args[i].op,
		    .datum_a = sc->args[i].value,
		    .datum_b = sc->args[i].value_two,
		};
		r = seccomp_rule_add_array(ctx, sc->action, nr, 1, cmp);
		if (r < 0)
			return fc_error_set(err, -r,
			                    "seccomp: add rule for syscall %s (argument %u)", name,
			                    sc->args[i].index);
	}
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct fc_seccomp_prog *p, struct fc_error **err)
{
	_cleanup_close_ int fd = memfd_create("fc-seccomp-bpf", MFD_CLOEXEC);
	off_t size;
	int r;

	if (fd < 0)
		return fc_error_set(err, errno, "seccomp: memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return fc_error_set(err, -r, "seccomp: export the BPF program");
	size = lseek(fd, 0, SEEK_CUR);
	if (size < 0)
		return fc_error_set(err, errno, "seccomp: size of the BPF program");
	if (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return fc_error_set(err, E2BIG, "seccomp: BPF program of %lld bytes is invalid",
		                    (long long)size);
	p->filter = fc_malloc((size_t)size);
	ssize_t n = pread(fd, p->filter, (size_t)size, 0);
	if (n != size)
		return fc_error_set(err, n < 0 ? errno : EIO, "seccomp: read the BPF program");
	p->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

/* ---- ENOSYS prologue ------------------------------------------------ */

#define X32_SYSCALL_BIT 0x40000000u
#define T_ENOSYS        (-1)
#define T_ORIG          (-2)

struct stub {
	struct sock_filter ins[256];
	int target_t[256], target_f[256]; /* absolute index, T_*, or 0 = next */
	int n;
};

static void emit(struct stub *st, uint16_t code, uint32_t k, int jt, int jf)
{
	st->ins[st->n] = (struct sock_filter){.code = code, .k = k};
	st->target_t[st->n] = jt;
	st->target_f[st->n] = jf;
	st->n++;
}

/* Highest syscall number of the profile on arch, -1 if none. */
static int64_t profile_max(const struct fc_seccomp *s, uint32_t arch)
{
	int64_t max = -1;
	for (size_t i = 0; i < s->n_syscalls; i++)
		for (char **n = s->syscalls[i].names; n && *n; n++) {
			int nr = seccomp_syscall_resolve_name_arch(arch, *n);
			if (nr >= 0 && nr > max)
				max = nr;
		}
	return max;
}

static bool arch_listed(const uint32_t *archs, size_t n, uint32_t a)
{
	for (size_t i = 0; i < n; i++)
		if (archs[i] == a)
			return true;
	return false;
}

/* The audit arch value the kernel puts in seccomp_data.arch. */
static uint32_t audit_arch(uint32_t token)
{
	return token == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : token;
}

/* "nr > max -> ENOSYS, else ORIG" (max < 0: straight to ORIG). */
static void emit_cmp(struct stub *st, int64_t max)
{
	if (max < 0)
		emit(st, BPF_JMP | BPF_JA, 0, T_ORIG, T_ORIG);
	else
		emit(st, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max, T_ENOSYS, T_ORIG);
}

static int add_enosys_prologue(const struct fc_seccomp *s, struct fc_seccomp_prog *p,
                               struct fc_error **err)
{
	uint32_t archs[64];
	size_t n_archs = 0;
	struct stub *st;
	uint32_t native = seccomp_arch_native();

	archs[n_archs++] = native;
	for (size_t i = 0; i < s->n_architectures && n_archs < FC_ARRAY_SIZE(archs); i++)
		if (!arch_listed(archs, n_archs, s->architectures[i]))
			archs[n_archs++] = s->architectures[i];

	st = fc_calloc(1, sizeof(*st));
	emit(st, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
	for (size_t i = 0; i < n_archs; i++) {
		uint32_t a = archs[i];
		if (a == SCMP_ARCH_X32 && arch_listed(archs, n_archs, SCMP_ARCH_X86_64))
			continue; /* handled with x86_64: same audit arch */
		int jeq = st->n;
		emit(st, BPF_JMP | BPF_JEQ | BPF_K, audit_arch(a), 0, 0 /* fixed below */);
		emit(st, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
		if (audit_arch(a) == SCMP_ARCH_X86_64) {
			bool has64 = arch_listed(archs, n_archs, SCMP_ARCH_X86_64);
			bool has32 = arch_listed(archs, n_archs, SCMP_ARCH_X32);
			int jge = st->n;
			emit(st, BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 0);
			/* below the x32 bit: x86_64 numbers */
			if (has64)
				emit_cmp(st, profile_max(s, SCMP_ARCH_X86_64));
			else
				emit(st, BPF_JMP | BPF_JA, 0, T_ORIG, T_ORIG);
			st->target_t[jge] = st->n;
			if (has32)
				emit_cmp(st, profile_max(s, SCMP_ARCH_X32));
			else
				emit(st, BPF_JMP | BPF_JA, 0, T_ORIG, T_ORIG);
		} else {
			emit_cmp(st, profile_max(s, a));
		}
		st->target_f[jeq] = st->n; /* next arch */
		if (st->n > 200) {
			free(st);
			return fc_error_set(err, E2BIG, "seccomp: too many architectures");
		}
	}
	emit(st, BPF_JMP | BPF_JA, 0, T_ORIG, T_ORIG);
	int enosys = st->n;
	emit(st, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA), 0, 0);
	int orig = st->n;

	/* Resolve targets into relative offsets. */
	for (int i = 0; i < st->n; i++) {
		struct sock_filter *f = &st->ins[i];
		int t = st->target_t[i] == T_ENOSYS ? enosys
		        : st->target_t[i] == T_ORIG ? orig
		        : st->target_t[i]           ? st->target_t[i]
		                                    : i + 1;
		int e = st->target_f[i] == T_ENOSYS ? enosys
		        : st->target_f[i] == T_ORIG ? orig
		        : st->target_f[i]           ? st->target_f[i]
		                                    : i + 1;
		if (BPF_CLASS(f->code) != BPF_JMP)
			continue;
		if (BPF_OP(f->code) == BPF_JA) {
			f->k = (uint32_t)(t - i - 1);
		} else {
			f->jt = (uint8_t)(t - i - 1);
			f->jf = (uint8_t)(e - i - 1);
		}
	}
	if ((size_t)p->len + (size_t)st->n > BPF_MAXINSNS) {
		free(st);
		return fc_error_set(err, E2BIG, "seccomp: BPF program too long");
	}
	struct sock_filter *all = fc_malloc(((size_t)p->len + (size_t)st->n) * sizeof(*all));
	memcpy(all, st->ins, (size_t)st->n * sizeof(*all));
	memcpy(all + st->n, p->filter, (size_t)p->len * sizeof(*all));
	free(p->filter);
	p->filter = all;
	p->len = (unsigned short)(p->len + st->n);
	free(st);
	return 0;
}

int fc_seccomp_compile(const struct fc_seccomp *s, struct fc_seccomp_prog **out,
                       struct fc_error **err)
{
	_cleanup_scmp_ scmp_filter_ctx ctx = NULL;
	struct fc_seccomp_prog *p;
	int r;

	*out = NULL;
	if (!s)
		return 0;
	if (is_notify(s->default_action))
		return fc_error_set(err, EINVAL,
		                    "seccomp: SCMP_ACT_NOTIFY cannot be the default action");
	ctx = seccomp_init(s->default_action);
	if (!ctx)
		return fc_error_set(err, EINVAL, "seccomp: invalid default action 0x%x",
		                    s->default_action);
	/* no_new_privs is the caller's business; nothing is loaded here anyway. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0)
		return fc_error_set(err, -r, "seccomp: set attribute CTL_NNP");

	for (size_t i = 0; i < s->n_architectures; i++) {
		uint32_t a = s->architectures[i];
		r = seccomp_arch_add(ctx, a);
		if (r < 0 && r != -EEXIST) {
			const char *n = arch_name(a);
			if (n)
				return fc_error_set(err, -r, "seccomp: add architecture %s", n);
			return fc_error_set(err, -r, "seccomp: add architecture 0x%x", a);
		}
	}

	p = fc_calloc(1, sizeof(*p));
	for (char **f = s->flags; f && *f; f++) {
		size_t i;
		for (i = 0; i < FC_ARRAY_SIZE(known_flag_bits); i++)
			if (FC_STREQ(*f, known_flag_bits[i].name))
				break;
		if (i == FC_ARRAY_SIZE(known_flag_bits)) {
			fc_seccomp_prog_free(p);
			return fc_error_set(err, EINVAL, "seccomp: unknown flag %s", *f);
		}
		p->flags |= known_flag_bits[i].flag;
	}

	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct fc_seccomp_syscall *sc = &s->syscalls[i];
		if (sc->action == s->default_action)
			continue;
		if (is_notify(sc->action))
			p->notify = true;
		for (char **n = sc->names; n && *n; n++) {
			/* runc's and crun's rule (runc sends the notify fd with a
			 * write): refused with their words. */
			if (is_notify(sc->action) && FC_STREQ(*n, "write")) {
				fc_seccomp_prog_free(p);
				return fc_error_set(err, 0,
				                    "syscalls[%zu]: SCMP_ACT_NOTIFY cannot be used "
				                    "for the write syscall",
				                    i);
			}
			r = add_syscall(ctx, sc, *n, err);
			if (r < 0) {
				fc_seccomp_prog_free(p);
				return r;
			}
		}
	}

	r = export_bpf(ctx, p, err);
	if (r >= 0 && s->default_action != SCMP_ACT_ALLOW && s->default_action != SCMP_ACT_LOG)
		r = add_enosys_prologue(s, p, err);
	if (r < 0) {
		fc_seccomp_prog_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int fc_seccomp_install(const struct fc_seccomp_prog *p, int *notify_fd, struct fc_error **err)
{
	struct sock_fprog prog;
	unsigned long flags;
	long r;

	if (notify_fd)
		*notify_fd = -1;
	if (!p)
		return 0;
	prog = (struct sock_fprog){.len = p->len, .filter = p->filter};
	flags = p->flags;
	if (p->notify) {
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* TSYNC and NEW_LISTENER together need TSYNC_ESRCH (both return values
		 * would otherwise be ambiguous). */
		if (flags & SECCOMP_FILTER_FLAG_TSYNC)
			flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	}
	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0) {
		int e = errno;
		if (e == EACCES)
			return fc_error_set(
			    err, e,
			    "seccomp: install filter (needs no_new_privs or CAP_SYS_ADMIN)");
		return fc_error_set(err, e, "seccomp: install filter (flags 0x%lx)", flags);
	}
	if (!p->notify && r > 0)
		return fc_error_set(err, ESRCH, "seccomp: thread %ld could not be synchronized", r);
	if (p->notify) {
		if (notify_fd)
			*notify_fd = (int)r;
		else
			close((int)r);
	}
	return 0;
}

bool fc_seccomp_notifies(const struct fc_seccomp_prog *p)
{
	return p && p->notify;
}

int fc_seccomp_agent_send(int agent_fd, int notify_fd, pid_t pid, const char *metadata,
                          const char *state_json, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf b = {0};
	fc_buf_printf(&b, "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":",
	              FCRT_OCI_VERSION, (int)pid);
	fc_buf_json_string(&b, metadata ? metadata : "");
	fc_buf_printf(&b, ",\"state\":%s}", state_json);
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = b.data, .iov_len = b.len};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &notify_fd, sizeof(int));
	if (sendmsg(agent_fd, &msg, MSG_NOSIGNAL) < 0)
		return fc_error_set(err, errno,
		                    "linux.seccomp.listenerPath: send the notify fd to the agent");
	return 0;
}
