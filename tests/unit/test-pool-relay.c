/* SPDX-License-Identifier: MIT */
/* prewarm/relay.c over a socketpair, in the daemon's loop: a request body
 * larger than the relay's buffer goes out whole while the other end reads,
 * the owner is woken whenever it was told to wait for room (a body that
 * stalled here until the instance gave up was a gateway bug: 502 on a 50 MB
 * upload now and then), and what came out is the head and the body, byte
 * for byte. TAP output. */
#include <sys/socket.h>

#include "relay.h"
#include "tap.h"

#define STALL_NS (3ULL * 1000000000ULL) /* no wake-up for this long: lost */

struct run {
	struct loop *l;
	struct relay *r;
	int peer;
	struct loop_watch *pw;
	size_t chunk, total, sent;
	bool waiting, ended, stalled;
	uint64_t wait_since;
	unsigned waits, wakes;
	/* what the peer read */
	size_t got;
	uint64_t sum, want_sum;
	size_t head_len;
};

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 131u) ^ (i >> 9));
}

static void on_wake(void *owner)
{
	struct run *t = owner;
	t->wakes++;
	t->waiting = false;
}

static void on_peer(void *data, short revents)
{
	struct run *t = data;
	(void)revents;
	unsigned char buf[65536];
	for (;;) {
		ssize_t n = recv(t->peer, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return;
		for (ssize_t i = 0; i < n; i++, t->got++)
			if (t->got >= t->head_len)
				t->sum = t->sum * 31 + buf[i];
	}
}

static int before(void *data, uint64_t now)
{
	(void)data;
	(void)now;
	return 20;
}

/* The owner: body bytes in chunks, as libmicrohttpd hands them over. */
static void after(void *data, uint64_t now)
{
	struct run *t = data;
	if (t->waiting) {
		if (now - t->wait_since > STALL_NS) {
			t->stalled = true;
			loop_stop(t->l);
		}
		return;
	}
	while (t->sent < t->total) {
		static unsigned char chunk[1 << 20];
		size_t len = t->total - t->sent < t->chunk ? t->total - t->sent : t->chunk;
		for (size_t i = 0; i < len; i++)
			chunk[i] = pattern(t->sent + i);
		ssize_t n = relay_write(t->r, chunk, len);
		if (n < 0) {
			loop_stop(t->l);
			return;
		}
		t->sent += (size_t)n;
		if ((size_t)n < len) {
			t->waiting = true; /* told to wait for room: woken by the relay */
			t->waits++;
			t->wait_since = now;
			return;
		}
	}
	if (!t->ended) {
		relay_write_end(t->r);
		t->ended = true;
	}
	if (t->got == t->head_len + t->total)
		loop_stop(t->l);
	else if (now - t->wait_since > STALL_NS && t->wait_since) {
		t->stalled = true;
		loop_stop(t->l);
	}
}

static void run_case(const char *what, size_t chunk, size_t total, int sndbuf)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ok(0, "%s: socketpair: %s", what, strerror(errno));
		return;
	}
	/* a roomy socket takes the relay's whole buffer in one send */
	if (sndbuf && setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	struct run t = {.l = loop_new(), .peer = sv[1], .chunk = chunk, .total = total};
	struct fc_buf head = {0};
	fc_buf_printf(&head, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", total);
	t.head_len = head.len;
	for (size_t i = 0; i < total; i++)
		t.want_sum = t.want_sum * 31 + pattern(i);
	t.r = relay_new(t.l, sv[0], &head, (int64_t)total, false, on_wake, &t);
	t.pw = loop_watch(t.l, sv[1], POLLIN, on_peer, &t);
	loop_hook(t.l, before, after, &t);
	struct fc_error *e = NULL;
	loop_run(t.l, &e);
	fc_error_free(e);
	ok(!t.stalled && t.sent == total,
	   "%s: the body went out whole, the owner woken each time it waited (%zu of %zu bytes "
	   "sent, waited %u times, woken %u)",
	   what, t.sent, total, t.waits, t.wakes);
	ok(t.got == t.head_len + total && t.sum == t.want_sum,
	   "%s: the other end read the head and the body byte for byte (%zu of %zu bytes)", what,
	   t.got, t.head_len + total);
	loop_unwatch(t.pw);
	loop_unhook(t.l, &t);
	relay_free(t.r);
	close(sv[1]);
	loop_free(t.l);
}

int main(void)
{
	/* chunks larger than the relay's buffer (256 KiB) into a socket that
	 * takes it all: a partial write must still get its wake-up */
	run_case("300 KiB chunks, a roomy socket", 300u << 10, 8u << 20, 8 << 20);
	/* libmicrohttpd's usual chunks into a small socket: back-pressure */
	run_case("16 KiB chunks, a small socket", 16u << 10, 4u << 20, 16 << 10);
	/* chunks just under the buffer, so a write often fills it partly */
	run_case("255 KiB chunks, the default socket", 255u << 10, 16u << 20, 0);
	return tap_done();
}
