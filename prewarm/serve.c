/* SPDX-License-Identifier: MIT */
/* serve.c: `fcstart serve` put together: the daemon (daemon.c, over the pool
 * core) and its front ends (the unix-socket API, the OpenFaaS gateway) in one
 * poll loop, until SIGTERM or SIGINT. */
#include "frontends.h"

int fcpool_serve(const struct fcpool_serve_opts *o, struct fc_error **err)
{
	struct loop *l = loop_new();
	struct daemon *d = NULL;
	struct api *api = NULL;
	struct gateway *gw = NULL;
	_cleanup_free_ char *sock = NULL;
	int r = daemon_new(o, l, &d, err);
	if (r >= 0) {
		sock = o->socket ? fc_strdup(o->socket)
		                 : fc_asprintf("%s/fcstart.sock", daemon_root(d));
		r = api_start(d, l, sock, &api, err);
	}
	if (r >= 0 && o->http)
		r = gateway_start(d, l, o, &gw, err);
	if (r >= 0) {
		fc_log(FC_LOG_INFO, "serving on `%s` (root `%s`, store `%s`)", sock, daemon_root(d),
		       daemon_store_path(d));
		r = loop_run(l, err);
		fc_log(FC_LOG_INFO, "stopping: removing every sandbox");
	}
	gateway_stop(gw);
	api_stop(api);
	daemon_free(d);
	loop_free(l);
	return r;
}
