/* SPDX-License-Identifier: MIT */
/* test-bench-stats.c: the benchmark's median, p95 and p99 (nearest rank), min and its
 * shuffle (a permutation, and not always the same order). */
#include "bench.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);               \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

int main(void)
{
	struct bench_summary s;
	double a[] = {5, 1, 4, 2, 3};
	bench_summarise(a, 5, &s);
	CHECK(s.n == 5 && s.median == 3 && s.min == 1 && s.max == 5 && s.p95 == 5 && s.mean == 3);

	double b[] = {4, 1, 3, 2};
	bench_summarise(b, 4, &s);
	CHECK(s.median == 2.5 && s.min == 1 && s.p95 == 4);

	double c[100];
	for (int i = 0; i < 100; i++)
		c[i] = 100 - i; /* 100..1 */
	bench_summarise(c, 100, &s);
	CHECK(s.p95 == 95 && s.p99 == 99 && s.median == 50.5 && s.min == 1);

	double d[20];
	for (int i = 0; i < 20; i++)
		d[i] = i + 1;
	bench_summarise(d, 20, &s);
	CHECK(s.p95 == 19); /* rank ceil(0.95 * 20) = 19 */

	bench_summarise(NULL, 0, &s);
	CHECK(s.n == 0 && s.median == 0);

	double one = 7;
	bench_summarise(&one, 1, &s);
	CHECK(s.median == 7 && s.p95 == 7 && s.min == 7);

	uint64_t st = 12345;
	size_t idx[6], first[6];
	int differ = 0;
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < 6; i++)
			idx[i] = i;
		bench_shuffle(idx, 6, &st);
		int seen[6] = {0};
		for (size_t i = 0; i < 6; i++) {
			CHECK(idx[i] < 6);
			if (idx[i] < 6)
				seen[idx[i]]++;
		}
		for (size_t i = 0; i < 6; i++)
			CHECK(seen[i] == 1);
		if (round == 0)
			memcpy(first, idx, sizeof(idx));
		else if (memcmp(first, idx, sizeof(idx)))
			differ = 1;
	}
	CHECK(differ);
	CHECK(bench_seed() != 0);

	if (fails)
		return 1;
	printf("PASS: bench stats\n");
	return 0;
}
