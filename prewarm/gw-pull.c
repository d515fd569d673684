/* SPDX-License-Identifier: MIT */
/* gw-pull.c: a deploy whose image the store lacks waits suspended while a
 * child pulls it (pulls.c), the daemon serving the rest; resumed at the
 * pull's end, its route deploys or answers the pull's error. */
#include "gw-pull.h"
#include "pulls.h"

#ifdef FC_HAVE_MHD

struct gw_pull {
	struct pull_wait *w; /* NULL once it ended */
	struct fc_error *err;
};

static void on_pulled(void *owner, const struct fc_error *err)
{
	struct gw_req *q = owner;
	q->pull->w = NULL;
	if (err)
		fc_error_set(&q->pull->err, err->errnum, "%s", err->msg);
	gw_resume(q); /* its route asks gw_pull_result */
}

int gw_pull_start(struct gw_req *q, const char *ref, struct fc_error **err)
{
	struct gw_pull *p = fc_calloc(1, sizeof(*p));
	if (pulls_wait(daemon_pulls(q->g->d), ref, on_pulled, q, &p->w, err) < 0) {
		free(p);
		return fc_error_code(*err);
	}
	q->pull = p;
	gw_suspend(q);
	return 0;
}

int gw_pull_result(struct gw_req *q, struct fc_error **err)
{
	struct gw_pull *p = q->pull;
	if (!p)
		return -1;
	if (p->w)
		return 0;
	if (p->err)
		*err = TAKE_PTR(p->err);
	return 1;
}

void gw_pull_free(struct gw_req *q)
{
	struct gw_pull *p = q->pull;
	if (!p)
		return;
	q->pull = NULL;
	pull_wait_cancel(p->w);
	fc_error_free(p->err);
	free(p);
}

#endif /* FC_HAVE_MHD */
