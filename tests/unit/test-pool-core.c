/* SPDX-License-Identifier: MIT */
/* The pool core (prewarm/pool.c) driven by a fake fork server and a fake
 * clock: no root, no process, no socket. Refill, hand-over, a burst beyond
 * max, the queue's bound and its timeout, a sandbox dying mid-invocation,
 * invocation timeouts, scale down, redeploy (its new sandboxes asked for at
 * once, old ones never counted nor handed a new request, exec and started
 * mode, classic and HTTP), idle reaping,
 * failed creations and their back-off, failed hand-overs, removal, HTTP
 * instances (cold, warm, busy, unreachable, gone), the creators' slots and
 * fairness between functions; started mode (instances started ahead until
 * ready, readiness deadlines and their back-off, classic and HTTP); fork mode
 * (a template first, instances forked on its creator once it is ready, its
 * crash, its deadline, redeploy with instances of the old one running,
 * removal). TAP output. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

#include "pool.h"
#include "tap.h"

#define MS   1000000ULL
#define SECS 1000000000ULL
#define MAXV 512

/* ---- the fake fork server and owner ------------------------------------------ */

struct inv {
	struct pool_inv pi;
	unsigned nev;
	struct fcpool_event ev[4];
	char error[256];
	bool release_on_connect; /* the owner lets go as soon as it is connected */
};

struct fake {
	struct pool *p;
	uint64_t now;
	struct pool_sb *creating[MAXV]; /* creations asked for, not yet answered, in order */
	size_t ncreating;
	struct pool_sb *killed[MAXV]; /* kills asked for, not yet answered */
	size_t nkilled;
	struct pool_inv *connecting[MAXV];
	size_t nconnecting;
	unsigned creates, kills, handovers, gone, fns_gone;
	unsigned per_creator[8];
	char create_log[MAXV][96]; /* ids in the order the creations were sent */
	int handover_fail;         /* the next ones fail */
	unsigned max_seen;         /* the most sandboxes a function had at once */
	char last_gone_fn[64];
	struct pool_sb *probing[MAXV]; /* probes asked for, not yet answered */
	size_t nprobing;
	unsigned probes, notices;
	bool probe_now; /* the probe answers ready at once */
	char last_notice[256];
};

static void del(void **v, size_t *n, const void *x)
{
	for (size_t i = 0; i < *n; i++)
		if (v[i] == x) {
			memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof(*v));
			(*n)--;
			return;
		}
}

static void watch_max(struct fake *fk, struct pool_fn *f)
{
	unsigned t = f->n_waiting + f->n_creating + f->n_running;
	if (t > fk->max_seen)
		fk->max_seen = t;
}

static void op_create(void *ctx, struct pool_sb *sb)
{
	struct fake *fk = ctx;
	snprintf(fk->create_log[fk->creates % MAXV], 96, "%s", sb->id);
	fk->creates++;
	fk->per_creator[sb->creator]++;
	fk->creating[fk->ncreating++] = sb;
	watch_max(fk, sb->fn);
}

static void op_kill(void *ctx, struct pool_sb *sb)
{
	struct fake *fk = ctx;
	fk->kills++;
	fk->killed[fk->nkilled++] = sb;
}

static int op_handover(void *ctx, struct pool_sb *sb, struct pool_inv *inv, struct pool_handover *h)
{
	struct fake *fk = ctx;
	if (fk->handover_fail > 0) {
		fk->handover_fail--;
		return -EIO;
	}
	fk->handovers++;
	h->t_start = fk->now;
	h->t_done = fk->now + 100000; /* 100 us */
	h->exec_ns = fk->now + 60000;
	return 0;
}

static void op_connect(void *ctx, struct pool_sb *sb, struct pool_inv *inv)
{
	struct fake *fk = ctx;
	fk->connecting[fk->nconnecting++] = inv;
}

static void op_reply(void *ctx, struct pool_inv *pi, const struct fcpool_event *ev)
{
	struct fake *fk = ctx;
	struct inv *inv = (struct inv *)((char *)pi - offsetof(struct inv, pi));
	if (inv->nev < 4)
		inv->ev[inv->nev++] = *ev;
	if (ev->kind == FCPOOL_EV_ERROR)
		snprintf(inv->error, sizeof(inv->error), "%s", ev->error);
	del((void **)fk->connecting, &fk->nconnecting, pi);
	if (ev->kind == FCPOOL_EV_CONNECTED && inv->release_on_connect)
		pool_release(fk->p, pi, fk->now);
}

static void op_sandbox_gone(void *ctx, struct pool_sb *sb)
{
	struct fake *fk = ctx;
	fk->gone++;
	del((void **)fk->creating, &fk->ncreating, sb);
	del((void **)fk->killed, &fk->nkilled, sb);
	del((void **)fk->probing, &fk->nprobing, sb);
}

static int op_probe(void *ctx, struct pool_sb *sb)
{
	struct fake *fk = ctx;
	fk->probes++;
	if (fk->probe_now)
		return 1;
	fk->probing[fk->nprobing++] = sb;
	return 0;
}

static void op_notice(void *ctx, struct pool_fn *f, struct pool_sb *sb, const char *msg)
{
	struct fake *fk = ctx;
	(void)f;
	(void)sb;
	fk->notices++;
	snprintf(fk->last_notice, sizeof(fk->last_notice), "%s", msg);
}

static void op_function_gone(void *ctx, struct pool_fn *f)
{
	struct fake *fk = ctx;
	fk->fns_gone++;
	snprintf(fk->last_gone_fn, sizeof(fk->last_gone_fn), "%s", f->spec.name);
}

static const struct pool_ops ops = {
    .create = op_create,
    .kill = op_kill,
    .handover = op_handover,
    .connect = op_connect,
    .reply = op_reply,
    .sandbox_gone = op_sandbox_gone,
    .function_gone = op_function_gone,
    .probe = op_probe,
    .notice = op_notice,
};

static void fake_init(struct fake *fk, unsigned creators, unsigned slots)
{
	memset(fk, 0, sizeof(*fk));
	fk->now = 1000 * SECS;
	struct pool_config cfg = {.id_prefix = "fcs-test-",
	                          .id_tag = "1",
	                          .creators = creators,
	                          .creator_slots = slots,
	                          .idle_ns = 5 * SECS,
	                          .queue_wait_ns = 30 * SECS,
	                          .queue_max = 64,
	                          .retry_ns = 1 * SECS};
	fk->p = pool_new(&cfg, &ops, fk);
}

static void fake_done(struct fake *fk)
{
	pool_free(fk->p);
}

/* The fork server answers the oldest creation: made (a killed one is made,
 * then dies), or failed. */
static bool create_one(struct fake *fk)
{
	if (!fk->ncreating)
		return false;
	struct pool_sb *sb = fk->creating[0];
	del((void **)fk->creating, &fk->ncreating, sb);
	fk->now += 3 * MS;
	pool_sandbox_created(fk->p, sb, 3 * MS, fk->now);
	return true;
}

static void create_all(struct fake *fk)
{
	while (create_one(fk))
		;
}

static void fail_one(struct fake *fk, int errnum, const char *msg)
{
	struct pool_sb *sb = fk->creating[0];
	del((void **)fk->creating, &fk->ncreating, sb);
	pool_sandbox_failed(fk->p, sb, errnum, msg, fk->now);
}

/* Every killed sandbox that was made dies (SIGKILL). */
static void reap_killed(struct fake *fk)
{
	for (size_t i = 0; i < fk->nkilled;) {
		struct pool_sb *sb = fk->killed[i];
		if (sb->state == POOL_SB_CREATING) {
			i++; /* still being made: it dies once made */
			continue;
		}
		pool_sandbox_exited(fk->p, sb, SIGKILL, fk->now);
	}
}

/* Make what is asked, let die what was killed, until nothing is left to do. */
static void settle_all(struct fake *fk)
{
	for (int i = 0; i < 1000 && (fk->ncreating || fk->nkilled); i++) {
		create_all(fk);
		reap_killed(fk);
	}
}

static struct pool_fn *deploy(struct fake *fk, const char *name, enum fcpool_mode mode,
                              unsigned min, unsigned max, unsigned queue, uint64_t timeout_ms,
                              const char *arg0)
{
	struct fcpool_fn_spec s = {.name = fc_strdup(name),
	                           .image = fc_strdup("bb"),
	                           .mode = mode,
	                           .min = min,
	                           .max = max,
	                           .queue = queue,
	                           .timeout_ms = timeout_ms};
	s.args = fc_calloc(2, sizeof(char *));
	s.args[0] = fc_strdup(arg0 ? arg0 : "/bin/cat");
	struct fc_error *e = NULL;
	int r = pool_deploy(fk->p, &s, fk->now, &e);
	fcpool_fn_spec_clear(&s);
	fc_error_free(e);
	return r < 0 ? NULL : pool_fn_find(fk->p, name);
}

/* The probes find every started sandbox ready, oldest first. */
static void ready_all(struct fake *fk)
{
	while (fk->nprobing) {
		struct pool_sb *sb = fk->probing[0];
		del((void **)fk->probing, &fk->nprobing, sb);
		fk->now += MS;
		pool_sandbox_ready(fk->p, sb, fk->now);
	}
}

static struct pool_fn *deploy_pw(struct fake *fk, const char *name, enum fcpool_mode mode,
                                 enum fcpool_prewarm pw, unsigned min, unsigned max,
                                 uint64_t ready_timeout_ms)
{
	struct fcpool_fn_spec s = {.name = fc_strdup(name),
	                           .image = fc_strdup("py"),
	                           .mode = mode,
	                           .min = min,
	                           .max = max,
	                           .prewarm = pw,
	                           .ready_timeout_ms = ready_timeout_ms};
	s.args = fc_calloc(2, sizeof(char *));
	s.args[0] = fc_strdup("python3");
	int r = pool_deploy(fk->p, &s, fk->now, NULL);
	fcpool_fn_spec_clear(&s);
	return r < 0 ? NULL : pool_fn_find(fk->p, name);
}

static struct pool_fn *deploy_started(struct fake *fk, const char *name, enum fcpool_mode mode,
                                      unsigned min, unsigned max, uint64_t ready_timeout_ms)
{
	return deploy_pw(fk, name, mode, FCPOOL_PREWARM_STARTED, min, max, ready_timeout_ms);
}

static void invoke(struct fake *fk, struct pool_fn *f, struct inv *inv)
{
	memset(inv, 0, sizeof(*inv));
	inv->pi.t_arrived = fk->now;
	pool_invoke(fk->p, f, &inv->pi, fk->now);
}

static struct pool_sb *oldest_ready(struct pool_fn *f)
{
	for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
		if (sb->state == POOL_SB_READY)
			return sb;
	return NULL;
}

static struct fcpool_event *last(struct inv *inv)
{
	static struct fcpool_event none = {0};
	return inv->nev ? &inv->ev[inv->nev - 1] : &none;
}

static struct fcpool_fn_status status(struct pool_fn *f)
{
	struct fcpool_fn_status st;
	pool_fn_status(f, true, &st);
	return st;
}

/* ---- the cases --------------------------------------------------------------- */

static void refill_and_handover(void)
{
	struct fake fk;
	fake_init(&fk, 2, 2);
	struct pool_fn *f = deploy(&fk, "cat", FCPOOL_CLASSIC, 2, 20, 0, 0, NULL);
	ok(f && fk.creates == 2 && f->n_creating == 2, "deploy min 2: two creations asked for");
	create_all(&fk);
	ok(f->n_waiting == 2 && f->n_creating == 0, "both made: two waiting");
	struct inv a;
	invoke(&fk, f, &a);
	ok(a.nev == 1 && a.ev[0].kind == FCPOOL_EV_STARTED && !a.ev[0].on_demand &&
	       a.ev[0].handover_us == 100.0 && a.ev[0].exec_us == 60.0,
	   "an invocation is handed a waiting sandbox at once (STARTED, times of the hand-over)");
	ok(f->n_running == 1 && f->n_waiting == 1 && f->n_creating == 1 && fk.creates == 3,
	   "a replacement is asked for behind the hand-over");
	struct pool_sb *sb = a.pi.sb;
	pool_sandbox_exited(fk.p, sb, 0 << 8, fk.now);
	ok(a.nev == 2 && last(&a)->kind == FCPOOL_EV_EXIT && last(&a)->status == 0 &&
	       a.pi.state == POOL_INV_DONE,
	   "the function's exit is the invocation's (status 0), then it is forgotten");
	create_all(&fk);
	struct fcpool_fn_status st = status(f);
	ok(st.waiting == 2 && st.running == 0 && st.handovers == 1 && st.on_demand == 0 &&
	       st.handover_us.n == 1 && st.handover_us.p50 == 100.0 && st.exec_us.p50 == 60.0 &&
	       st.create_us.n == 3 && st.create_us.p50 == 3000.0,
	   "stats: counters and the hand-over, exec and create distributions");
	ok(!strncmp(sb == NULL ? "" : "fcs-test-cat-1.", "fcs-test-cat-1.", 15) &&
	       !strncmp(fk.create_log[0], "fcs-test-cat-1.", 15),
	   "sandbox ids: <prefix><function>-<tag>.<n> (%s)", fk.create_log[0]);
	fake_done(&fk);
}

static void burst_beyond_max(void)
{
	struct fake fk;
	fake_init(&fk, 2, 2);
	struct pool_fn *f = deploy(&fk, "b", FCPOOL_CLASSIC, 1, 3, 2, 0, NULL);
	create_all(&fk);
	struct inv v[6];
	for (int i = 0; i < 6; i++)
		invoke(&fk, f, &v[i]);
	ok(last(&v[0])->kind == FCPOOL_EV_STARTED, "burst: the first takes the waiting sandbox");
	ok(v[1].nev == 0 && v[2].nev == 0 && f->n_queued == 2,
	   "the next two wait in the queue (its bound is 2)");
	bool busy = true;
	for (int i = 3; i < 6; i++)
		busy = busy && last(&v[i])->kind == FCPOOL_EV_ERROR &&
		       last(&v[i])->errnum == EBUSY && strstr(v[i].error, "is busy");
	ok(busy, "the rest are refused at once: %s", v[3].error);
	ok(f->n_creating + f->n_waiting + f->n_running == 3 && fk.creates == 3,
	   "creations stop at max (3 sandboxes)");
	create_all(&fk);
	ok(last(&v[1])->kind == FCPOOL_EV_STARTED && last(&v[2])->kind == FCPOOL_EV_STARTED &&
	       v[1].ev[0].on_demand,
	   "the queued ones start as their sandboxes are made (on demand)");
	pool_sandbox_exited(fk.p, v[0].pi.sb, 0, fk.now);
	pool_sandbox_exited(fk.p, v[1].pi.sb, 0, fk.now);
	pool_sandbox_exited(fk.p, v[2].pi.sb, 0, fk.now);
	settle_all(&fk);
	struct fcpool_fn_status st = status(f);
	ok(fk.max_seen <= 3 && st.busy == 3 && st.on_demand == 2 && st.waiting == 1,
	   "never above max (%u), busy 3, on demand 2, back to min", fk.max_seen);
	fake_done(&fk);
}

static void queue_timeout(void)
{
	struct fake fk;
	fake_init(&fk, 1, 1);
	struct pool_fn *f = deploy(&fk, "q", FCPOOL_CLASSIC, 0, 1, 0, 0, NULL);
	struct inv a;
	invoke(&fk, f, &a);
	ok(a.nev == 0 && f->n_queued == 1 && fk.creates == 1,
	   "min 0: an invocation waits for an on-demand creation");
	fk.now += 29 * SECS;
	pool_tick(fk.p, fk.now);
	ok(a.nev == 0, "still queued after 29 s");
	fk.now += 2 * SECS;
	pool_tick(fk.p, fk.now);
	ok(last(&a)->kind == FCPOOL_EV_ERROR && last(&a)->errnum == EBUSY &&
	       strstr(a.error, "no sandbox within 30 s") && f->n_queued == 0 && f->busy == 1,
	   "after 30 s it fails busy: %s", a.error);
	create_all(&fk);
	ok(f->n_waiting == 1 && a.nev == 1, "the late sandbox waits for the next invocation");
	fake_done(&fk);
}

static void death_mid_invocation(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy(&fk, "slow", FCPOOL_CLASSIC, 1, 5, 0, 0, "/bin/sleep");
	create_all(&fk);
	struct inv a;
	invoke(&fk, f, &a);
	struct pool_sb *sb = a.pi.sb;
	create_all(&fk);
	pool_sandbox_exited(fk.p, sb, SIGKILL, fk.now);
	ok(last(&a)->kind == FCPOOL_EV_EXIT && last(&a)->status == 137 && last(&a)->signal == 9 &&
	       !last(&a)->timeout,
	   "a sandbox killed mid-invocation: exit 137 (signal 9)");
	ok(f->n_running == 0 && f->n_waiting == 1, "its place is taken by the refill");
	/* a waiting sandbox that dies is replaced */
	pool_sandbox_exited(fk.p, f->sandboxes, 1 << 8, fk.now);
	ok(f->n_waiting == 0 && f->n_creating == 1, "a waiting sandbox that died is replaced");
	fake_done(&fk);
}

static void invocation_timeout(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy(&fk, "t", FCPOOL_CLASSIC, 1, 5, 0, 1500, NULL);
	create_all(&fk);
	struct inv a;
	invoke(&fk, f, &a);
	fk.now += 1 * SECS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 0, "within its timeout the function runs");
	fk.now += 1 * SECS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 1 && fk.killed[0] == a.pi.sb, "past its timeout (1.5 s) it is killed");
	reap_killed(&fk);
	ok(last(&a)->kind == FCPOOL_EV_EXIT && last(&a)->timeout && last(&a)->status == 137,
	   "the exit says timeout");
	fake_done(&fk);
}

static void scale_down(void)
{
	struct fake fk;
	fake_init(&fk, 2, 2);
	struct pool_fn *f = deploy(&fk, "s", FCPOOL_CLASSIC, 4, 10, 0, 0, NULL);
	settle_all(&fk);
	ok(f->n_waiting == 4, "min 4: four waiting");
	struct fc_error *e = NULL;
	ok(pool_scale(fk.p, f, 3, 2, fk.now, &e) < 0 && e && strstr(e->msg, "min 3 max 2"),
	   "min above max refused: %s", e ? e->msg : "");
	fc_error_free(e);
	ok(pool_scale(fk.p, f, 1, 2, fk.now, NULL) == 0 && fk.nkilled == 2 && f->reaped == 2,
	   "scale to max 2: the two above max go at once");
	reap_killed(&fk);
	ok(f->n_waiting == 2 && fk.creates == 4, "two waiting, nothing made");
	fk.now += 6 * SECS;
	pool_tick(fk.p, fk.now);
	reap_killed(&fk);
	ok(f->n_waiting == 1 && f->reaped == 3, "the one above min is reaped once idle");
	fake_done(&fk);
}

static void redeploy_while_running(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy(&fk, "r", FCPOOL_CLASSIC, 1, 5, 0, 0, "/bin/old");
	create_all(&fk);
	struct inv a;
	invoke(&fk, f, &a);
	create_all(&fk);
	struct pool_sb *running = a.pi.sb;
	unsigned creates = fk.creates;
	struct pool_fn *g = deploy(&fk, "r", FCPOOL_CLASSIC, 1, 5, 0, 0, "/bin/new");
	ok(g == f && FC_STREQ(g->spec.args[0], "/bin/new"), "redeploy replaces the spec");
	ok(fk.nkilled == 1 && fk.killed[0] != running && !running->killed,
	   "the waiting sandbox (old spec) goes, the running one is left alone");
	ok(fk.creates == creates + 1 && f->n_creating == 1 && f->n_waiting == 0 &&
	       f->n_running == 0,
	   "a sandbox of the new spec is asked for at once; the old ones are not counted");
	reap_killed(&fk);
	create_all(&fk);
	pool_sandbox_exited(fk.p, running, 3 << 8, fk.now);
	ok(last(&a)->kind == FCPOOL_EV_EXIT && last(&a)->status == 3,
	   "the running invocation finishes (status 3)");
	struct inv b;
	invoke(&fk, f, &b);
	ok(last(&b)->kind == FCPOOL_EV_STARTED && !b.ev[0].on_demand,
	   "the next invocation gets a sandbox of the new spec");
	fake_done(&fk);
}

/* Was sb one of the n sandboxes in old[]? */
static bool among(struct pool_sb *sb, struct pool_sb **old, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (old[i] == sb)
			return true;
	return false;
}

static size_t snapshot(struct pool_fn *f, struct pool_sb **v, size_t max)
{
	size_t n = 0;
	for (struct pool_sb *sb = f->sandboxes; sb && n < max; sb = sb->next)
		v[n++] = sb;
	return n;
}

static bool any_left(struct pool_fn *f, struct pool_sb **old, size_t n)
{
	for (struct pool_sb *sb = f->sandboxes; sb; sb = sb->next)
		if (among(sb, old, n))
			return true;
	return false;
}

/* Started mode, HTTP: a redeploy while old instances are ready, starting,
 * being created and serving a request. The new spec's instances are asked
 * for at once, the old ones count for nothing, a new request never reaches
 * an old instance, the request in flight finishes on its old one. */
static void redeploy_started(void)
{
	struct fake fk;
	fake_init(&fk, 1, 8);
	struct pool_fn *f = deploy_started(&fk, "up", FCPOOL_HTTP, 2, 4, 0);
	create_all(&fk);
	ready_all(&fk);
	struct inv a, b;
	invoke(&fk, f, &a);
	pool_http_connected(fk.p, &a.pi, fk.now);
	struct pool_sb *serving = a.pi.sb;
	create_all(&fk);                         /* one more for min 2: starting, not ready */
	pool_scale(fk.p, f, 3, 4, fk.now, NULL); /* one more: being created */
	ok(f->n_running == 1 && f->n_ready == 1 && f->n_starting == 1 && f->n_creating == 1,
	   "before: 1 serving, 1 ready, 1 starting, 1 being created (max 4)");
	struct pool_sb *old[8];
	size_t nold = snapshot(f, old, 8);
	unsigned creates = fk.creates;
	ok(deploy_started(&fk, "up", FCPOOL_HTTP, 2, 3, 0) == f, "redeploy: min 2, max 3");
	bool fresh = fk.ncreating == 3;
	for (size_t i = 1; i < fk.ncreating; i++)
		fresh = fresh && !among(fk.creating[i], old, nold) && !fk.creating[i]->killed;
	ok(fk.creates == creates + 2 && fresh,
	   "the new spec's 2 instances are asked for at once (%u asked), though 4 old ones live",
	   fk.creates - creates);
	ok(f->n_creating == 2 && f->n_ready + f->n_starting + f->n_waiting + f->n_running == 0,
	   "the old instances are not counted for the new spec (creating %u ready %u starting "
	   "%u running %u)",
	   f->n_creating, f->n_ready, f->n_starting, f->n_running);
	bool killed = !serving->killed;
	for (size_t i = 0; i < nold; i++)
		if (old[i] != serving)
			killed = killed && old[i]->killed;
	ok(killed && a.pi.state == POOL_INV_RUNNING,
	   "the old idle, starting and creating ones are killed; the one serving is left alone");
	invoke(&fk, f, &b);
	ok(b.pi.state == POOL_INV_QUEUED && !b.pi.sb && fk.nconnecting == 0 &&
	       fk.creates == creates + 3,
	   "a new request waits for the new spec (one more asked for), not for an old instance");
	/* the old creation fails as it is killed: nothing to do with the new spec */
	fail_one(&fk, EINTR, "killed while created");
	ok(b.nev == 0 && b.pi.state == POOL_INV_QUEUED && f->retry_after == 0,
	   "an old creation's failure fails no new request and holds back no refill");
	pool_release(fk.p, &a.pi, fk.now);
	ok(a.nev == 1 && last(&a)->kind == FCPOOL_EV_CONNECTED && serving->killed && !b.pi.sb,
	   "the request in flight finished on the old instance, which then goes (not reused)");
	reap_killed(&fk);
	ok(!any_left(f, old, nold), "every old instance is gone");
	create_all(&fk);
	ready_all(&fk);
	ok(b.pi.state == POOL_INV_CONNECTING && b.pi.sb && !among(b.pi.sb, old, nold),
	   "the waiting request is served by an instance of the new spec");
	pool_http_connected(fk.p, &b.pi, fk.now);
	pool_release(fk.p, &b.pi, fk.now);
	settle_all(&fk);
	ready_all(&fk);
	ok(f->n_ready == 3 && f->n_running == 0 && FC_STREQ(f->spec.image, "py"),
	   "the new spec's pool: 3 ready (min 2, one made for the waiting request)");
	fake_done(&fk);
}

/* Exec at the hand-over, HTTP: an old instance idle between requests must not
 * take a new request after a redeploy; the one serving finishes, then goes. */
static void redeploy_http_exec(void)
{
	struct fake fk;
	fake_init(&fk, 1, 4);
	struct pool_fn *f = deploy(&fk, "he", FCPOOL_HTTP, 1, 3, 0, 0, "/bin/old");
	create_all(&fk);
	struct inv a, c, d, b;
	invoke(&fk, f, &a); /* W1 */
	pool_http_connected(fk.p, &a.pi, fk.now);
	pool_release(fk.p, &a.pi, fk.now); /* W1 idle */
	create_all(&fk);                   /* W2 waiting */
	invoke(&fk, f, &c);                /* takes idle W1 */
	pool_http_connected(fk.p, &c.pi, fk.now);
	invoke(&fk, f, &d); /* W2 */
	pool_http_connected(fk.p, &d.pi, fk.now);
	struct pool_sb *serving = c.pi.sb, *idle = d.pi.sb;
	pool_release(fk.p, &d.pi, fk.now); /* W2 idle */
	create_all(&fk);                   /* W3 waiting: 3 = max */
	ok(f->n_running == 2 && f->n_waiting == 1 && idle->http_ready && !idle->inv,
	   "before: one serving, one idle between requests, one waiting (max 3)");
	struct pool_sb *old[8];
	size_t nold = snapshot(f, old, 8);
	unsigned creates = fk.creates;
	deploy(&fk, "he", FCPOOL_HTTP, 1, 3, 0, 0, "/bin/new");
	ok(fk.creates == creates + 1 && !among(fk.creating[0], old, nold),
	   "redeploy: a sandbox of the new spec is asked for at once");
	ok(idle->killed && !serving->killed && c.pi.state == POOL_INV_RUNNING,
	   "the idle old instance goes, the serving one is left alone");
	invoke(&fk, f, &b);
	ok(b.pi.state == POOL_INV_QUEUED && !b.pi.sb,
	   "a new request does not reach an old instance: it waits for the new spec");
	pool_release(fk.p, &c.pi, fk.now);
	ok(serving->killed && !b.pi.sb, "the old serving instance goes once its request is done");
	reap_killed(&fk);
	create_all(&fk);
	ok(b.pi.sb && !among(b.pi.sb, old, nold) && b.pi.state == POOL_INV_CONNECTING,
	   "the new request is served by the new spec");
	pool_http_connected(fk.p, &b.pi, fk.now);
	pool_release(fk.p, &b.pi, fk.now);
	settle_all(&fk);
	ok(!any_left(f, old, nold) && f->n_running == 1 && f->n_waiting == 1,
	   "old instances all gone; the new spec: 1 idle instance, 1 waiting");
	fake_done(&fk);
}

static void idle_reaping(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy(&fk, "i", FCPOOL_CLASSIC, 1, 5, 0, 0, NULL);
	create_all(&fk);
	pool_scale(fk.p, f, 3, 5, fk.now, NULL);
	create_all(&fk);
	pool_scale(fk.p, f, 1, 5, fk.now, NULL);
	ok(f->n_waiting == 3 && fk.nkilled == 0, "scale min 3 -> 1: nothing goes at once");
	fk.now += 4 * SECS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 0, "not idle long enough (4 s of 5)");
	fk.now += 2 * SECS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 2 && f->reaped == 2, "idle above min: two reaped, min kept");
	reap_killed(&fk);
	pool_tick(fk.p, fk.now + 100 * SECS);
	ok(f->n_waiting == 1 && fk.nkilled == 0, "min is never reaped");
	fake_done(&fk);
}

static void failed_creation(void)
{
	struct fake fk;
	fake_init(&fk, 1, 1);
	struct pool_fn *f = deploy(&fk, "x", FCPOOL_CLASSIC, 0, 5, 0, 0, NULL);
	struct inv a, b;
	invoke(&fk, f, &a);
	ok(f->n_queued == 1 && fk.creates == 1, "an invocation waits for an on-demand sandbox");
	fail_one(&fk, ENOENT, "image `bb`: not found");
	ok(last(&a)->kind == FCPOOL_EV_ERROR && last(&a)->errnum == ENOENT &&
	       FC_STREQ(a.error, "function `x`: create sandbox: image `bb`: not found"),
	   "a failed creation fails the first queued invocation: %s", a.error);
	pool_scale(fk.p, f, 1, 5, fk.now, NULL);
	ok(fk.creates == 1 && f->create_failures == 1,
	   "within the back-off (1 s) the pool is not refilled");
	fk.now += SECS / 2;
	pool_tick(fk.p, fk.now);
	ok(fk.creates == 1, "nor half a second later");
	fk.now += SECS;
	pool_tick(fk.p, fk.now);
	ok(fk.creates == 2, "after it, it is");
	fail_one(&fk, EIO, "no");
	invoke(&fk, f, &b);
	ok(fk.creates == 3 && b.nev == 0 && f->n_creating == 1,
	   "within the back-off, a queued invocation still gets one creation");
	create_all(&fk);
	ok(last(&b)->kind == FCPOOL_EV_STARTED && f->retry_after == 0,
	   "a creation that works ends the back-off");
	fake_done(&fk);
}

static void failed_handover(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy(&fk, "h", FCPOOL_CLASSIC, 1, 5, 0, 0, NULL);
	create_all(&fk);
	fk.handover_fail = 1;
	struct inv a;
	invoke(&fk, f, &a);
	ok(a.nev == 0 && f->n_queued == 1 && fk.nkilled == 1 && f->handover_failures == 1,
	   "a failed hand-over kills the sandbox and puts the invocation back first");
	reap_killed(&fk);
	create_all(&fk);
	ok(last(&a)->kind == FCPOOL_EV_STARTED, "the next sandbox takes it");
	fk.handover_fail = 10;
	struct inv b;
	invoke(&fk, f, &b);
	settle_all(&fk);
	ok(last(&b)->kind == FCPOOL_EV_ERROR && last(&b)->errnum == EIO &&
	       strstr(b.error, "hand-over failed 3 times"),
	   "three failed hand-overs fail it: %s", b.error);
	fake_done(&fk);
}

static void removal(void)
{
	struct fake fk;
	fake_init(&fk, 1, 1);
	struct pool_fn *f = deploy(&fk, "gone", FCPOOL_CLASSIC, 2, 2, 0, 0, NULL);
	create_one(&fk);
	struct inv a, b, c;
	invoke(&fk, f, &a); /* takes the one made */
	invoke(&fk, f, &b); /* waits */
	pool_remove(fk.p, f, fk.now);
	ok(last(&b)->kind == FCPOOL_EV_ERROR && last(&b)->errnum == ENOENT &&
	       strstr(b.error, "was removed"),
	   "removal fails the queued invocations: %s", b.error);
	ok(!pool_fn_find(fk.p, "gone") && !pool_fn_first(fk.p), "a removed function is not found");
	struct fc_error *e = NULL;
	ok(pool_deploy_check(fk.p, "gone", &e) == -EBUSY && e && strstr(e->msg, "being removed"),
	   "a new deploy of its name waits for the removal: %s", e ? e->msg : "");
	fc_error_free(e);
	ok(fk.fns_gone == 0, "it is not forgotten while a sandbox is left");
	settle_all(&fk);
	ok(last(&a)->kind == FCPOOL_EV_EXIT && last(&a)->status == 137,
	   "the running invocation ends with its killed sandbox");
	ok(fk.fns_gone == 1 && FC_STREQ(fk.last_gone_fn, "gone") && fk.ncreating == 0,
	   "once every sandbox is gone, the function is forgotten");
	invoke(&fk, deploy(&fk, "gone", FCPOOL_CLASSIC, 0, 1, 0, 0, NULL), &c);
	ok(c.nev == 0 && fk.creates >= 2, "and its name can be deployed again");
	fake_done(&fk);
}

static void http_instances(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy(&fk, "web", FCPOOL_HTTP, 1, 3, 0, 0, "httpd");
	create_all(&fk);
	struct inv a, b, c, d;
	invoke(&fk, f, &a);
	ok(a.nev == 0 && a.pi.state == POOL_INV_CONNECTING && fk.nconnecting == 1 &&
	       fk.handovers == 1,
	   "HTTP: a waiting sandbox is handed over, then connected to");
	fk.now += 2 * MS;
	pool_http_connected(fk.p, &a.pi, fk.now);
	ok(last(&a)->kind == FCPOOL_EV_CONNECTED && last(&a)->cold && last(&a)->ready_us > 1000 &&
	       f->requests == 1,
	   "CONNECTED, cold, with the time until the instance accepted");
	struct pool_sb *inst = a.pi.sb;
	create_all(&fk);
	invoke(&fk, f, &b);
	ok(b.pi.sb != inst && fk.handovers == 2, "a busy instance is not shared: a new one starts");
	pool_http_connected(fk.p, &b.pi, fk.now);
	pool_release(fk.p, &a.pi, fk.now);
	invoke(&fk, f, &c);
	ok(c.pi.sb == inst && fk.handovers == 2 && c.pi.state == POOL_INV_CONNECTING,
	   "a released instance serves the next request, warm (no hand-over)");
	pool_http_connected(fk.p, &c.pi, fk.now);
	ok(!last(&c)->cold && last(&c)->ready_us == 0, "warm: not cold");
	pool_release(fk.p, &c.pi, fk.now);
	pool_release(fk.p, &b.pi, fk.now);
	/* an owner that lets go from inside the reply */
	invoke(&fk, f, &d);
	d.release_on_connect = true;
	pool_http_connected(fk.p, &d.pi, fk.now);
	ok(d.pi.state == POOL_INV_DONE && !inst->inv && !b.pi.sb, "released from inside the reply");
	fk.now += 6 * SECS;
	create_all(&fk);
	pool_tick(fk.p, fk.now);
	ok(f->reaped == 2 && fk.nkilled == 2, "idle instances are reaped");
	reap_killed(&fk);
	settle_all(&fk);
	/* unreachable, and gone before it accepted */
	struct inv e, g;
	invoke(&fk, f, &e);
	pool_http_failed(fk.p, &e.pi, ETIMEDOUT, "did not accept", fk.now);
	ok(last(&e)->kind == FCPOOL_EV_ERROR && last(&e)->errnum == ETIMEDOUT && fk.nkilled == 1,
	   "an instance that does not accept is killed, the request fails");
	reap_killed(&fk);
	create_all(&fk);
	invoke(&fk, f, &g);
	pool_sandbox_exited(fk.p, g.pi.sb, 1 << 8, fk.now);
	ok(last(&g)->kind == FCPOOL_EV_ERROR && last(&g)->errnum == ECONNREFUSED &&
	       strstr(g.error, "exited before accepting"),
	   "an instance that exits before accepting: %s", g.error);
	fake_done(&fk);
}

static void release(void)
{
	struct fake fk;
	fake_init(&fk, 1, 1);
	struct pool_fn *f = deploy(&fk, "rel", FCPOOL_CLASSIC, 0, 2, 0, 0, NULL);
	struct inv a, b;
	invoke(&fk, f, &a);
	pool_release(fk.p, &a.pi, fk.now);
	ok(f->n_queued == 0 && a.nev == 0 && a.pi.state == POOL_INV_DONE,
	   "a queued invocation whose client left leaves the queue, no reply");
	create_all(&fk);
	invoke(&fk, f, &b);
	pool_release(fk.p, &b.pi, fk.now);
	ok(fk.nkilled == 1, "a running classic function whose client left is killed");
	reap_killed(&fk);
	ok(b.nev == 1 && f->n_running == 0, "and its exit goes to nobody");
	fake_done(&fk);
}

static void creator_slots(void)
{
	struct fake fk;
	fake_init(&fk, 2, 2);
	struct pool_fn *f = deploy(&fk, "many", FCPOOL_CLASSIC, 10, 20, 0, 0, NULL);
	ok(fk.creates == 4 && fk.per_creator[0] == 2 && fk.per_creator[1] == 2 &&
	       f->n_creating == 10,
	   "10 wanted: 2 creators x 2 slots in flight, the rest held back");
	create_one(&fk);
	ok(fk.creates == 5 && fk.per_creator[0] == 3,
	   "a finished creation frees its creator's slot for the next");
	settle_all(&fk);
	ok(f->n_waiting == 10 && fk.creates == 10, "all ten made");
	fake_done(&fk);
	/* between equally busy creators, the one running fewer sandboxes */
	fake_init(&fk, 2, 1);
	f = deploy(&fk, "two", FCPOOL_CLASSIC, 2, 5, 0, 0, NULL);
	create_all(&fk);
	struct inv a;
	invoke(&fk, f, &a);
	ok(a.pi.sb->creator == 0 && fk.per_creator[0] == 1 && fk.per_creator[1] == 2,
	   "the refill goes to the creator that runs no sandbox (it would reap behind a creation)");
	fake_done(&fk);
}

static void fairness(void)
{
	struct fake fk;
	fake_init(&fk, 1, 1);
	struct pool_fn *a = deploy(&fk, "aa", FCPOOL_CLASSIC, 0, 20, 0, 0, NULL);
	struct pool_fn *b = deploy(&fk, "bb", FCPOOL_CLASSIC, 0, 20, 0, 0, NULL);
	struct inv va[10], vb;
	for (int i = 0; i < 10; i++)
		invoke(&fk, a, &va[i]);
	fk.now += MS;
	invoke(&fk, b, &vb);
	ok(fk.creates == 1 && a->n_creating == 10 && b->n_creating == 1,
	   "a burst of 10 for aa, then 1 for bb; one creation at a time");
	create_one(&fk);
	ok(fk.creates == 2 && strstr(fk.create_log[1], "-bb-"),
	   "bb's creation goes next, not behind aa's burst (%s)", fk.create_log[1]);
	create_one(&fk);
	ok(last(&vb)->kind == FCPOOL_EV_STARTED, "bb's invocation runs after two creations");
	settle_all(&fk);
	bool all = true;
	for (int i = 0; i < 10; i++)
		all = all && last(&va[i])->kind == FCPOOL_EV_STARTED;
	ok(all, "aa's burst is served too");
	/* with both busy, they take turns */
	struct inv wa[4], wb[4];
	for (int i = 0; i < 4; i++)
		invoke(&fk, a, &wa[i]);
	for (int i = 0; i < 4; i++)
		invoke(&fk, b, &wb[i]);
	unsigned first = fk.creates;
	for (int i = 0; i < 4; i++)
		create_one(&fk);
	bool alternate = true;
	for (unsigned i = first; i + 1 < fk.creates; i++)
		alternate = alternate && !!strstr(fk.create_log[i], "-aa-") !=
		                             !!strstr(fk.create_log[i + 1], "-aa-");
	ok(alternate, "two busy functions take turns at the creator");
	fake_done(&fk);
}

static void started_http(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy_started(&fk, "py", FCPOOL_HTTP, 2, 5, 0);
	create_all(&fk);
	ok(f->n_starting == 2 && fk.probes == 2 && f->n_waiting == 0 && f->n_ready == 0,
	   "started: made sandboxes start at once and are probed (STARTING)");
	struct fcpool_fn_status st = status(f);
	ok(st.waiting == 0 && st.starting == 2, "stats: none waiting, 2 starting");
	struct inv a, b;
	invoke(&fk, f, &a);
	ok(a.nev == 0 && f->n_queued == 1 && a.pi.on_demand && fk.creates == 3,
	   "an invocation before any is ready waits, and asks for one more");
	fk.now += 500 * MS;
	pool_sandbox_ready(fk.p, fk.probing[0], fk.now);
	del((void **)fk.probing, &fk.nprobing, fk.probing[0]);
	ok(a.pi.state == POOL_INV_CONNECTING && fk.handovers == 0 && fk.nconnecting == 1,
	   "the first ready instance serves it: connected to, no hand-over");
	pool_http_connected(fk.p, &a.pi, fk.now);
	ok(last(&a)->kind == FCPOOL_EV_CONNECTED && last(&a)->cold && last(&a)->handover_us == 0,
	   "CONNECTED, its first request (cold), no hand-over time");
	struct pool_sb *inst = a.pi.sb;
	ready_all(&fk);
	create_all(&fk);
	ready_all(&fk);
	st = status(f);
	ok(st.waiting == 2 && st.running == 1 && st.ready_us.n == 3 && st.ready_us.p50 >= 1000,
	   "min 2 ready next to the busy one; stats: creation to ready (%zu)", st.ready_us.n);
	pool_release(fk.p, &a.pi, fk.now);
	ok(inst->state == POOL_SB_READY && f->n_ready == 3 && f->n_running == 0,
	   "a released instance is ready again (3 idle)");
	unsigned creates = fk.creates;
	invoke(&fk, f, &b);
	ok(b.pi.sb && b.pi.sb->state == POOL_SB_RUNNING && !b.pi.on_demand &&
	       fk.creates == creates && fk.handovers == 0,
	   "the next request takes a ready instance at once, nothing made for it");
	pool_http_connected(fk.p, &b.pi, fk.now);
	pool_release(fk.p, &b.pi, fk.now);
	fk.now += 6 * SECS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 1 && f->reaped == 1 && f->n_ready == 3,
	   "a ready instance idle above min is reaped, min kept (killed %zu, reaped %llu, ready "
	   "%u)",
	   fk.nkilled, (unsigned long long)f->reaped, f->n_ready);
	reap_killed(&fk);
	ok(pool_scale(fk.p, f, 0, 1, fk.now, NULL) == 0 && fk.nkilled == 1,
	   "scale to max 1: a ready instance above it goes at once");
	reap_killed(&fk);
	/* a ready instance that dies is reported and replaced */
	fk.notices = 0;
	pool_scale(fk.p, f, 1, 5, fk.now, NULL);
	pool_sandbox_exited(fk.p, oldest_ready(f), 139 & 0x7f, fk.now);
	ok(fk.notices == 1 && strstr(fk.last_notice, "died") && f->n_creating == 1,
	   "a ready instance that dies is reported (%s) and replaced", fk.last_notice);
	fake_done(&fk);
}

static void started_deadline(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	struct pool_fn *f = deploy_started(&fk, "slow", FCPOOL_HTTP, 1, 5, 2000);
	create_all(&fk);
	fk.now += 1 * SECS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 0 && f->n_starting == 1, "within its ready timeout (2 s) it may start");
	fk.now += 1500 * MS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 1 && f->ready_failures == 1 && fk.notices == 1 &&
	       strstr(fk.last_notice, "not ready within 2 s"),
	   "past it: killed and reported: %s", fk.last_notice);
	struct fcpool_fn_status st = status(f);
	ok(st.ready_failures == 1 && strstr(st.last_error, "not ready within"),
	   "stats: the failure and its message");
	reap_killed(&fk);
	unsigned c = fk.creates;
	fk.now += 900 * MS;
	pool_tick(fk.p, fk.now);
	ok(fk.creates == c, "the refill waits out the back-off (1 s)");
	fk.now += 200 * MS;
	pool_tick(fk.p, fk.now);
	ok(fk.creates == c + 1, "then it tries again");
	create_one(&fk);
	pool_sandbox_exited(fk.p, fk.probing[0], 3 << 8, fk.now);
	ok(f->ready_failures == 2 && strstr(fk.last_notice, "exited with status 3 before"),
	   "an instance whose init exits is a failure too: %s", fk.last_notice);
	fk.now += 1500 * MS;
	pool_tick(fk.p, fk.now);
	ok(fk.creates == c + 1, "the second failure in a row doubles the back-off (2 s)");
	fk.now += 600 * MS;
	pool_tick(fk.p, fk.now);
	ok(fk.creates == c + 2, "after 2 s it tries again");
	struct inv a;
	invoke(&fk, f, &a);
	create_all(&fk);
	ready_all(&fk);
	ok(a.pi.state == POOL_INV_CONNECTING && f->fail_streak == 0 && f->retry_after == 0,
	   "a ready instance ends the back-off and serves the waiting request");
	fake_done(&fk);
}

static void started_classic(void)
{
	struct fake fk;
	fake_init(&fk, 1, 2);
	fk.probe_now = true;
	struct pool_fn *f = deploy_started(&fk, "pyc", FCPOOL_CLASSIC, 1, 5, 0);
	create_all(&fk);
	ok(f->n_ready == 1 && f->n_starting == 0, "a probe that answers at once: ready");
	struct inv a;
	invoke(&fk, f, &a);
	ok(last(&a)->kind == FCPOOL_EV_STARTED && fk.handovers == 1 && !a.ev[0].on_demand &&
	       f->n_running == 1,
	   "classic: a ready instance is handed the invocation (STARTED)");
	pool_sandbox_exited(fk.p, a.pi.sb, 0, fk.now);
	ok(last(&a)->kind == FCPOOL_EV_EXIT && last(&a)->status == 0 && f->n_creating == 1,
	   "its exit ends the invocation; it is used once and replaced");
	fake_done(&fk);

	/* one that never reports ready (no fcstart.ready()): said so */
	fake_init(&fk, 1, 2);
	f = deploy_started(&fk, "plain", FCPOOL_CLASSIC, 1, 5, 2000);
	create_all(&fk);
	fk.now += 2500 * MS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 1 && f->ready_failures == 1 &&
	       strstr(fk.last_notice, "not ready within 2 s; started mode for a classic function "
	                              "needs fcstart.ready()"),
	   "classic, not ready in time: killed, the report names fcstart.ready(): %s",
	   fk.last_notice);
	reap_killed(&fk);
	fk.now += 1100 * MS;
	pool_tick(fk.p, fk.now);
	create_one(&fk);
	pool_sandbox_exited(fk.p, fk.probing[0], 0, fk.now);
	ok(f->ready_failures == 2 && strstr(fk.last_notice, "exited with status 0 before it was "
	                                                    "ready; started mode for a classic"),
	   "classic, exited before it was ready: the same: %s", fk.last_notice);
	fake_done(&fk);
}

/* The creation asked for first, among those not answered. */
static struct pool_sb *creating_first(struct fake *fk)
{
	return fk->ncreating ? fk->creating[0] : NULL;
}

static void fork_template(void)
{
	struct fake fk;
	fake_init(&fk, 2, 2);
	struct pool_fn *f = deploy_pw(&fk, "pyf", FCPOOL_HTTP, FCPOOL_PREWARM_FORK, 2, 5, 0);
	struct pool_sb *t = creating_first(&fk);
	ok(fk.creates == 1 && t && t->role == POOL_ROLE_TEMPLATE && f->tmpl == t &&
	       f->n_creating == 2,
	   "fork: the template is made first; the two instances wait for it");
	unsigned tc = t->creator;
	create_one(&fk);
	ok(t->state == POOL_SB_STARTING && fk.probes == 0 && fk.creates == 1,
	   "the template runs its init (STARTING, not probed: its helper tells)");
	struct fcpool_fn_status st = status(f);
	ok(FC_STREQ(st.template_state, "starting") && st.templates == 1 && st.waiting == 0 &&
	       st.creating == 2,
	   "stats: template starting, 2 instances to come");
	fk.now += 800 * MS;
	pool_sandbox_ready(fk.p, t, fk.now);
	ok(fk.creates == 3 && fk.per_creator[tc] == 3 && fk.creating[0]->tmpl == t &&
	       fk.creating[1]->tmpl == t,
	   "once it is ready, the instances are forked from it, on its creator");
	create_all(&fk);
	ok(f->n_starting == 2 && fk.probes == 2, "forked instances are probed like started ones");
	ready_all(&fk);
	st = status(f);
	ok(st.waiting == 2 && FC_STREQ(st.template_state, "ready") && f->n_ready == 2,
	   "two ready instances; the template is not one of them");
	struct inv a;
	invoke(&fk, f, &a);
	ok(a.pi.state == POOL_INV_CONNECTING && a.pi.sb->role == POOL_ROLE_INSTANCE &&
	       fk.handovers == 0,
	   "a request takes a forked instance, never the template");
	pool_http_connected(fk.p, &a.pi, fk.now);
	pool_release(fk.p, &a.pi, fk.now);
	fk.now += 60 * SECS;
	pool_tick(fk.p, fk.now);
	reap_killed(&fk);
	ok(!t->killed && f->tmpl == t, "idle reaping leaves the template alone");
	pool_scale(fk.p, f, 0, 1, fk.now, NULL);
	reap_killed(&fk);
	ok(!t->killed && f->n_ready + f->n_creating <= 1,
	   "so does scaling down (max 1 counts instances only)");
	reap_killed(&fk);
	fake_done(&fk);
}

static void fork_template_dies(void)
{
	struct fake fk;
	fake_init(&fk, 1, 4);
	fk.probe_now = true;
	struct pool_fn *f = deploy_pw(&fk, "pyc", FCPOOL_CLASSIC, FCPOOL_PREWARM_FORK, 1, 5, 2000);
	struct pool_sb *t = creating_first(&fk);
	create_one(&fk);
	pool_sandbox_ready(fk.p, t, fk.now);
	create_all(&fk);
	ok(f->n_ready == 1, "fork classic: a forked instance is ready at once (probe)");
	struct inv a;
	invoke(&fk, f, &a);
	ok(last(&a)->kind == FCPOOL_EV_STARTED && fk.handovers == 1,
	   "an invocation is handed to it (STARTED)");
	create_all(&fk);
	/* the template crashes: its instances die with it */
	pool_sandbox_exited(fk.p, t, SIGSEGV, fk.now);
	ok(!f->tmpl && f->template_failures == 1 && fk.notices >= 1 &&
	       strstr(fk.last_notice, "template") && strstr(fk.last_notice, "signal 11"),
	   "a template that crashes is reported: %s", fk.last_notice);
	for (struct pool_sb *sb = f->sandboxes, *next; sb; sb = next) {
		next = sb->next;
		pool_sandbox_exited(fk.p, sb, SIGKILL, fk.now);
	}
	ok(last(&a)->kind == FCPOOL_EV_EXIT && last(&a)->status == 137,
	   "the running invocation ends with it (137)");
	ok(!f->tmpl && fk.ncreating == 0, "within the back-off (1 s) no template is made");
	fk.now += 1100 * MS;
	pool_tick(fk.p, fk.now);
	struct pool_sb *t2 = creating_first(&fk);
	ok(t2 && t2->role == POOL_ROLE_TEMPLATE && f->tmpl == t2 && f->templates == 2 &&
	       fk.ncreating == 1 && f->n_creating == 1,
	   "after it, a new template is made; the instance's creation waits for it");
	create_one(&fk);
	fk.now += 2500 * MS;
	pool_tick(fk.p, fk.now);
	ok(fk.nkilled == 1 && fk.killed[0] == t2 && f->template_failures == 2 &&
	       strstr(fk.last_notice, "did not reach fcstart.ready() within 2 s"),
	   "a template not ready within the ready timeout is killed: %s", fk.last_notice);
	reap_killed(&fk);
	fk.now += 2100 * MS;
	pool_tick(fk.p, fk.now);
	struct pool_sb *t3 = creating_first(&fk);
	create_one(&fk);
	pool_sandbox_ready(fk.p, t3, fk.now);
	create_all(&fk);
	ok(f->n_ready == 1 && f->fail_streak == 0, "a third template serves; the back-off ends");
	fake_done(&fk);
}

static void fork_redeploy(void)
{
	struct fake fk;
	fake_init(&fk, 1, 4);
	fk.probe_now = true;
	struct pool_fn *f = deploy_pw(&fk, "pyr", FCPOOL_CLASSIC, FCPOOL_PREWARM_FORK, 1, 5, 0);
	struct pool_sb *t1 = creating_first(&fk);
	create_one(&fk);
	pool_sandbox_ready(fk.p, t1, fk.now);
	create_all(&fk);
	struct inv a;
	invoke(&fk, f, &a);
	struct pool_sb *running = a.pi.sb;
	create_all(&fk);
	deploy_pw(&fk, "pyr", FCPOOL_CLASSIC, FCPOOL_PREWARM_FORK, 1, 5, 0);
	ok(!t1->killed && f->tmpl != t1 && running->tmpl == t1,
	   "redeploy: the old template stays while an instance forked from it runs");
	struct pool_sb *t2 = f->tmpl;
	ok(t2 && t2->role == POOL_ROLE_TEMPLATE && t2->state == POOL_SB_CREATING,
	   "a new template is made for the new spec");
	reap_killed(&fk);
	create_one(&fk);
	pool_sandbox_ready(fk.p, t2, fk.now);
	create_all(&fk);
	ok(f->n_ready == 1 && oldest_ready(f)->tmpl == t2, "new instances come from the new one");
	pool_sandbox_exited(fk.p, running, 0, fk.now);
	ok(t1->killed && last(&a)->kind == FCPOOL_EV_EXIT,
	   "once the last instance of the old one ends, the old template goes");
	reap_killed(&fk);
	pool_remove(fk.p, f, fk.now);
	ok(t2->killed, "removing the function kills its template too");
	settle_all(&fk);
	ok(fk.fns_gone == 1 && !pool_fn_first(fk.p), "and it is forgotten once all are gone");
	fake_done(&fk);
}

int main(void)
{
	refill_and_handover();
	burst_beyond_max();
	queue_timeout();
	death_mid_invocation();
	invocation_timeout();
	scale_down();
	redeploy_while_running();
	redeploy_started();
	redeploy_http_exec();
	idle_reaping();
	failed_creation();
	failed_handover();
	removal();
	http_instances();
	release();
	creator_slots();
	fairness();
	started_http();
	started_deadline();
	started_classic();
	fork_template();
	fork_template_dies();
	fork_redeploy();
	return tap_done();
}
