/* SPDX-License-Identifier: MIT */
/* bench-chart.c: the SVG chart of `fcstart bench coldstart`, written by hand.
 * One panel per scenario that has measurements; in each, a group per tier and a
 * bar per path (the median time to the first byte, a whisker up to the p95), on
 * one log-scale y axis shared by all panels, with labelled ticks, units, a
 * legend and a title. */
#include "bench-coldstart.h"

#include <fcntl.h>
#include <math.h>

static const char *const colours[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a",
                                      "#66a61e", "#e6ab02", "#a6761d", "#666666"};

#define W       980
#define PANEL_H 250
#define TOP     78
#define LEFT    92
#define RIGHT   20
#define PLOT_H  170

static void esc(struct fc_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fc_buf_printf(b, "&amp;");
			break;
		case '<':
			fc_buf_printf(b, "&lt;");
			break;
		case '>':
			fc_buf_printf(b, "&gt;");
			break;
		case '"':
			fc_buf_printf(b, "&quot;");
			break;
		default:
			fc_buf_append(b, s, 1);
			break;
		}
	}
}

static void tick_label(char *buf, size_t len, double ms)
{
	if (ms >= 1000)
		snprintf(buf, len, "%g s", ms / 1000);
	else
		snprintf(buf, len, "%g ms", ms);
}

static void value_label(char *buf, size_t len, double ms)
{
	if (ms >= 1000)
		snprintf(buf, len, "%.2f s", ms / 1000);
	else if (ms >= 100)
		snprintf(buf, len, "%.0f", ms);
	else if (ms >= 10)
		snprintf(buf, len, "%.1f", ms);
	else
		snprintf(buf, len, "%.2f", ms);
}

static bool bar_path(const struct cs_run *R, size_t i, int sc)
{
	const struct cs_path *p = &R->paths[i];
	return p->available && p->ops->has_scenario(p, (enum cs_scenario)sc);
}

int cs_write_svg(const char *path, const struct cs_run *R, struct fc_error **err)
{
	_cleanup_buf_ struct fc_buf b = {0};
	int tiers[CS_NTIERS], nt = 0, scens[CS_NSCEN], ns = 0;
	double lo = INFINITY, hi = 0;
	for (int k = 0; k < CS_NTIERS; k++)
		if (R->tiers.t[k].ok)
			tiers[nt++] = k;
	for (int sc = 0; sc < CS_NSCEN; sc++) {
		bool any = false;
		for (int ti = 0; ti < nt; ti++)
			for (size_t i = 0; i < R->n_paths; i++) {
				struct bench_summary s;
				cs_stat_of(&R->cells[tiers[ti]][sc][i], PH_TOTAL, &s);
				if (!s.n)
					continue;
				any = true;
				lo = fmin(lo, s.median);
				hi = fmax(hi, fmax(s.p95, s.median));
			}
		if (any)
			scens[ns++] = sc;
	}
	if (!ns) {
		lo = 1;
		hi = 1000;
	}
	double dlo = floor(log10(lo)), dhi = ceil(log10(hi));
	if (dhi <= dlo)
		dhi = dlo + 1;
	int height = TOP + (ns ? ns : 1) * PANEL_H + 20;
	int plot_w = W - LEFT - RIGHT;

	fc_buf_printf(&b,
	              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	              "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	              "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
	              "sans-serif\" font-size=\"12\">\n",
	              W, height, W, height);
	fc_buf_printf(&b, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fc_buf_printf(&b,
	              "<text x=\"%d\" y=\"24\" font-size=\"17\" font-weight=\"bold\" "
	              "text-anchor=\"middle\">Cold start to first response by storage tier and "
	              "start path</text>\n",
	              W / 2);
	fc_buf_printf(&b, "<text x=\"%d\" y=\"42\" text-anchor=\"middle\" fill=\"#444\">", W / 2);
	const char *img = R->image_abs ? strrchr(R->image_abs, '/') : NULL;
	fc_buf_printf(&b, "image ");
	esc(&b, img ? img + 1 : R->image);
	fc_buf_printf(&b, " (%.1f MB), %d round(s), %s; bar: median, whisker: p95</text>\n",
	              (double)R->image_bytes / 1e6, R->rounds_done, R->started ? R->started : "");

	/* legend */
	int lx = LEFT;
	for (size_t i = 0; i < R->n_paths; i++) {
		const struct cs_path *p = &R->paths[i];
		fc_buf_printf(&b,
		              "<rect x=\"%d\" y=\"52\" width=\"12\" height=\"12\" fill=\"%s\"%s/>"
		              "<text x=\"%d\" y=\"62\">%s%s</text>\n",
		              lx, colours[i % FC_ARRAY_SIZE(colours)],
		              p->available ? "" : " fill-opacity=\"0.25\"", lx + 16, p->name,
		              p->available ? "" : " (not available)");
		lx += 30 + 8 * (int)(strlen(p->name) + (p->available ? 0 : 16));
	}

	for (int pi = 0; pi < ns; pi++) {
		int sc = scens[pi];
		int y0 = TOP + pi * PANEL_H + 28; /* top of the plot area */
		int yb = y0 + PLOT_H;             /* its bottom */
		fc_buf_printf(&b, "<g class=\"panel\" id=\"scenario-%s\">\n",
		              cs_scenario_names[sc]);
		fc_buf_printf(&b,
		              "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">%s"
		              "</text>\n",
		              LEFT, y0 - 10, cs_scenario_titles[sc]);
		/* y axis: decades with labels, 2 and 5 as minor lines */
		for (double d = dlo; d <= dhi + 1e-9; d++) {
			for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
				double v = (double)m * pow(10, d);
				double lv = log10(v);
				if (lv > dhi + 1e-9)
					break;
				double y = yb - (lv - dlo) / (dhi - dlo) * PLOT_H;
				fc_buf_printf(&b,
				              "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
				              "stroke=\"%s\" stroke-width=\"1\"/>\n",
				              LEFT, LEFT + plot_w, y, y, m == 1 ? "#bbb" : "#eee");
				char t[32];
				tick_label(t, sizeof(t), v);
				if (m == 1)
					fc_buf_printf(
					    &b,
					    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">"
					    "%s</text>\n",
					    LEFT - 6, y + 4, t);
				else if (dhi - dlo <=
				         3) /* more decades: no room for minor labels */
					fc_buf_printf(
					    &b,
					    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
					    "font-size=\"9\" fill=\"#888\">%s</text>\n",
					    LEFT - 6, y + 3, t);
			}
		}
		fc_buf_printf(&b,
		              "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
		              LEFT, LEFT, y0, yb);
		fc_buf_printf(&b,
		              "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
		              LEFT, LEFT + plot_w, yb, yb);
		fc_buf_printf(&b,
		              "<text transform=\"translate(%d,%d) rotate(-90)\" "
		              "text-anchor=\"middle\">time to first byte (log scale)</text>\n",
		              18, (y0 + yb) / 2);
		/* groups */
		size_t nb = 0;
		for (size_t i = 0; i < R->n_paths; i++)
			nb += bar_path(R, i, sc);
		double gw = (double)plot_w / (nt ? nt : 1);
		double bw = fmin(48, (gw - 24) / (double)(nb ? nb : 1));
		for (int ti = 0; ti < nt; ti++) {
			int k = tiers[ti];
			double gx = LEFT + ti * gw;
			double bx = gx + (gw - bw * (double)nb) / 2;
			fc_buf_printf(&b, "<g class=\"tier\" id=\"%s-%s\">\n",
			              cs_scenario_names[sc], cs_tier_names[k]);
			fc_buf_printf(&b,
			              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
			              "font-weight=\"bold\">%s</text>\n",
			              gx + gw / 2, yb + 16, cs_tier_names[k]);
			for (size_t i = 0; i < R->n_paths; i++) {
				if (!bar_path(R, i, sc))
					continue;
				struct bench_summary s;
				cs_stat_of(&R->cells[k][sc][i], PH_TOTAL, &s);
				const char *col = colours[i % FC_ARRAY_SIZE(colours)];
				if (!s.n) {
					fc_buf_printf(
					    &b,
					    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
					    "font-size=\"9\" fill=\"#a00\">%s</text>\n",
					    bx + bw / 2, yb - 4,
					    R->cells[k][sc][i].failed ? "failed" : "n/a");
					bx += bw;
					continue;
				}
				double ym = yb - (log10(s.median) - dlo) / (dhi - dlo) * PLOT_H;
				double yp = yb - (log10(s.p95) - dlo) / (dhi - dlo) * PLOT_H;
				if (ym > yb)
					ym = yb;
				fc_buf_printf(&b,
				              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				              "height=\"%.1f\" fill=\"%s\"><title>%s %s %s: median "
				              "%.2f ms, p95 %.2f ms, p99 %.2f ms (n=%zu)</title>"
				              "</rect>\n",
				              bx + 2, ym, bw - 4, yb - ym, col, cs_tier_names[k],
				              cs_scenario_names[sc], R->paths[i].name, s.median,
				              s.p95, s.p99, s.n);
				fc_buf_printf(
				    &b,
				    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
				    "stroke=\"#222\"/><line x1=\"%.1f\" x2=\"%.1f\" "
				    "y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>\n",
				    bx + bw / 2, bx + bw / 2, ym, yp, bx + bw / 2 - 4,
				    bx + bw / 2 + 4, yp, yp);
				char v[32];
				value_label(v, sizeof(v), s.median);
				fc_buf_printf(&b,
				              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				              "font-size=\"9\">%s</text>\n",
				              bx + bw / 2, fmin(ym, yp) - 3, v);
				bx += bw;
			}
			fc_buf_printf(&b, "</g>\n");
		}
		fc_buf_printf(&b, "</g>\n");
	}
	if (!ns)
		fc_buf_printf(&b,
		              "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">nothing was "
		              "measured</text>\n",
		              W / 2, TOP + 60);
	fc_buf_printf(&b,
	              "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\">values in ms "
	              "unless marked s; ",
	              LEFT, height - 6);
	esc(&b, R->cmdline);
	fc_buf_printf(&b, "</text>\n</svg>\n");
	return fc_write_file_atomic_at(AT_FDCWD, path, b.data, b.len, 0644, err);
}
