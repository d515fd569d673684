/* SPDX-License-Identifier: MIT */
/* bench-stats.c: medians, percentiles and random orders for the benchmarks. */
#include "bench.h"

#include <sys/random.h>
#include <time.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

double bench_percentile(const double *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

void bench_summarise(double *v, size_t n, struct bench_summary *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	bench_sort(v, n);
	out->n = n;
	out->min = v[0];
	out->max = v[n - 1];
	out->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	out->p95 = bench_percentile(v, n, 95.0);
	out->p99 = bench_percentile(v, n, 99.0);
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	out->mean = s / (double)n;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void bench_shuffle(size_t *idx, size_t n, uint64_t *state)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(xorshift(state) % i);
		size_t t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

uint64_t bench_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s))
		s = fc_now_ns() ^ ((uint64_t)getpid() << 32);
	return s ? s : 1;
}
