/* SPDX-License-Identifier: MIT */
/* cgroup-bpf.c: device rules on cgroup2, where there is no devices controller:
 * a BPF_PROG_TYPE_CGROUP_DEVICE program built from the rules (config rules,
 * then runc's default ones; the last matching rule decides, nothing matching
 * is denied), attached to the container's cgroup with BPF_CGROUP_DEVICE.
 * An update attaches the new program first, then detaches the old ones (with
 * BPF_F_ALLOW_MULTI every program must allow, so the switch never widens). */
#include "cgroup-backend.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

struct prog {
	struct bpf_insn *insn;
	size_t n, cap;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->insn = fc_realloc(p->insn, p->cap * sizeof(*p->insn));
	}
	p->insn[p->n++] =
	    (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

#define R0 BPF_REG_0
#define R1 BPF_REG_1
#define R2 BPF_REG_2 /* device type (BPF_DEVCG_DEV_*) */
#define R3 BPF_REG_3 /* access (BPF_DEVCG_ACC_*) */
#define R4 BPF_REG_4 /* major */
#define R5 BPF_REG_5 /* minor */

static unsigned access_bits(const char *a)
{
	unsigned m = 0;
	if (!a || !*a)
		return BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
	for (; *a; a++)
		m |= *a == 'r'   ? BPF_DEVCG_ACC_READ
		     : *a == 'w' ? BPF_DEVCG_ACC_WRITE
		     : *a == 'm' ? BPF_DEVCG_ACC_MKNOD
		                 : 0;
	return m;
}

/* One rule: a run of "jump to the next rule unless it matches", then return.
 * True when the rule matches everything (what follows would be unreachable,
 * which the verifier refuses). */
static bool emit_rule(struct prog *p, const struct fc_device_rule *r)
{
	unsigned acc = access_bits(r->access);
	bool all_acc = acc == 7;
	int type = r->type == 'b'                       ? BPF_DEVCG_DEV_BLOCK
	           : (r->type == 'c' || r->type == 'u') ? BPF_DEVCG_DEV_CHAR
	                                                : 0;
	/* Block length first, so each jump knows where the next rule starts
	 * (a jump offset counts from the instruction after the jump). */
	int len =
	    (type != 0) + (all_acc ? 0 : 3) + (type && r->major >= 0) + (type && r->minor >= 0) + 2;
	size_t start = p->n;
#define NEXT ((int16_t)(len - 1 - (int)(p->n - start)))
	if (type)
		emit(p, BPF_JMP | BPF_JNE | BPF_K, R2, 0, NEXT, type);
	if (!all_acc) {
		/* allow: the request must be a subset; deny: any overlap denies */
		emit(p, BPF_ALU | BPF_MOV | BPF_X, R0, R3, 0, 0);
		if (r->allow) {
			emit(p, BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, (int32_t)(~acc & 7));
			emit(p, BPF_JMP | BPF_JNE | BPF_K, R0, 0, NEXT, 0);
		} else {
			emit(p, BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, (int32_t)acc);
			emit(p, BPF_JMP | BPF_JEQ | BPF_K, R0, 0, NEXT, 0);
		}
	}
	if (type && r->major >= 0)
		emit(p, BPF_JMP | BPF_JNE | BPF_K, R4, 0, NEXT, (int32_t)r->major);
	if (type && r->minor >= 0)
		emit(p, BPF_JMP | BPF_JNE | BPF_K, R5, 0, NEXT, (int32_t)r->minor);
#undef NEXT
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, r->allow ? 1 : 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return len == 2;
}

static struct prog build(const struct fc_device_rule *rules, size_t n, uint32_t off)
{
	struct prog p = {0};
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, R2, R1, 0, 0);
	emit(&p, BPF_ALU | BPF_MOV | BPF_X, R3, R2, 0, 0);
	emit(&p, BPF_ALU | BPF_AND | BPF_K, R2, 0, 0, 0xffff);
	emit(&p, BPF_ALU | BPF_RSH | BPF_K, R3, 0, 0, 16);
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, R4, R1, 4, 0);
	emit(&p, BPF_LDX | BPF_MEM | BPF_W, R5, R1, 8, 0);
	/* Last match wins: test the defaults (appended last) first, then the
	 * config's rules from the end. */
	for (size_t i = cg_n_default_devices; i-- > 0;)
		if (!(off & (1u << i)) && emit_rule(&p, &cg_default_devices[i]))
			return p;
	for (size_t i = n; i-- > 0;)
		if (emit_rule(&p, &rules[i]))
			return p;
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0);
	emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return p;
}

static int sys_bpf(int cmd, union bpf_attr *a)
{
	long r = syscall(__NR_bpf, cmd, a, sizeof(*a));
	return r < 0 ? -errno : (int)r;
}

int cg_v2_devices(const char *dir, const struct fc_device_rule *rules, size_t n, uint32_t off,
                  struct fc_error **err)
{
	struct prog p = build(rules, n, off);
	char log[4096] = "";
	union bpf_attr a;
	_cleanup_close_ int prog = -1, cg = -1;
	uint32_t ids[64];
	uint32_t n_old = FC_ARRAY_SIZE(ids);
	int r;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)p.insn;
	a.insn_cnt = (uint32_t)p.n;
	a.license = (uint64_t)(uintptr_t) "Apache";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	prog = sys_bpf(BPF_PROG_LOAD, &a);
	if (prog == -ENOSPC) { /* log too small: load again without it */
		a.log_buf = 0;
		a.log_size = 0;
		a.log_level = 0;
		prog = sys_bpf(BPF_PROG_LOAD, &a);
	}
	free(p.insn);
	if (prog < 0)
		return fc_error_set(err, -prog, "load the device filter for %s (%zu rules)%s%s",
		                    dir, n, *log ? ": " : "", log);
	cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return fc_error_set(err, errno, "open `%s`", dir);

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cg;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = n_old;
	r = sys_bpf(BPF_PROG_QUERY, &a);
	n_old = r < 0 ? 0 : a.query.prog_cnt;

	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cg;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	r = sys_bpf(BPF_PROG_ATTACH, &a);
	if (r < 0)
		return fc_error_set(err, -r, "attach the device filter to `%s`", dir);

	for (uint32_t i = 0; i < n_old && i < FC_ARRAY_SIZE(ids); i++) {
		_cleanup_close_ int old = -1;
		memset(&a, 0, sizeof(a));
		a.prog_id = ids[i];
		old = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (old < 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)cg;
		a.attach_bpf_fd = (uint32_t)old;
		a.attach_type = BPF_CGROUP_DEVICE;
		r = sys_bpf(BPF_PROG_DETACH, &a);
		if (r < 0 && r != -ENOENT)
			return fc_error_set(err, -r, "detach the old device filter from `%s`", dir);
	}
	return 0;
}
