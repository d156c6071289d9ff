/**
 * Line charts as standalone SVG (loss curves, learning rates): no dependencies, readable in any
 * browser and embeddable in a run's report.md. Series with thousands of points are thinned to
 * at most `maxPoints` by keeping the mean of each bucket.
 */
import { escapeXml } from "./xml.js";

export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Use a log scale for y (values must be > 0). */
  logY?: boolean;
  maxPoints?: number;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

/** Bucket means, so a 50k-step curve stays a small file. */
export function thin(points: [number, number][], maxPoints: number): [number, number][] {
  if (points.length <= maxPoints) return points;
  const out: [number, number][] = [];
  const per = points.length / maxPoints;
  for (let b = 0; b < maxPoints; b++) {
    const lo = Math.floor(b * per);
    const hi = Math.max(lo + 1, Math.floor((b + 1) * per));
    let sx = 0;
    let sy = 0;
    for (let i = lo; i < hi; i++) {
      sx += points[i]![0];
      sy += points[i]![1];
    }
    out.push([sx / (hi - lo), sy / (hi - lo)]);
  }
  return out;
}

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  if (a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export function lineChartSvg(series: Series[], o: LineChartOptions): string {
  const W = o.width ?? 720;
  const H = o.height ?? 400;
  const m = { l: 64, r: 16, t: 36, b: 48 };
  const data = series.map((s) => ({
    ...s,
    points: thin(
      s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0)),
      o.maxPoints ?? 1000,
    ),
  }));
  const all = data.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => (o.logY ? Math.log10(p[1]) : p[1]));
  let [x0, x1] = all.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = all.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(o.title)}</text>`,
  );
  for (const t of ticks(x0, x1)) {
    parts.push(`<line x1="${px(t)}" y1="${m.t}" x2="${px(t)}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${px(t)}" y="${H - m.b + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of ticks(y0, y1)) {
    const label = o.logY ? fmt(10 ** t) : fmt(t);
    parts.push(`<line x1="${m.l}" y1="${py(t)}" x2="${W - m.r}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end">${label}</text>`);
  }
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`,
  );
  parts.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}${o.logY ? " (log)" : ""}</text>`,
  );
  data.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    if (s.points.length) {
      const d = s.points
        .map(
          ([x, y], j) =>
            `${j ? "L" : "M"}${px(x).toFixed(1)},${py(o.logY ? Math.log10(y) : y).toFixed(1)}`,
        )
        .join("");
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    }
    const ly = m.t + 14 + i * 16;
    parts.push(
      `<line x1="${W - m.r - 120}" y1="${ly - 4}" x2="${W - m.r - 100}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${W - m.r - 95}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

export interface Bar {
  value: number;
  /** An interval drawn as an error bar (e.g. a 95% confidence interval). */
  lo?: number;
  hi?: number;
}

export interface BarGroup {
  label: string;
  /** A note under the label (e.g. "n = 40"). */
  note?: string;
  /** One bar per series, in the order of `series`. */
  bars: Bar[];
}

/**
 * Grouped bars with optional error bars: one group per label, one bar per series in each group,
 * y from 0 to `yMax` (default: the largest value).
 */
export function barChartSvg(
  groups: BarGroup[],
  o: {
    title: string;
    xLabel: string;
    yLabel: string;
    series: string[];
    yMax?: number;
    width?: number;
    height?: number;
  },
): string {
  const W = o.width ?? 720;
  const H = o.height ?? 400;
  const m = { l: 64, r: 16, t: 36, b: 64 };
  const all = groups.flatMap((g) => g.bars);
  const top = o.yMax ?? Math.max(1e-9, ...all.map((b) => Math.max(b.value, b.hi ?? 0)));
  const py = (y: number) => H - m.b - (Math.min(Math.max(y, 0), top) / top) * (H - m.t - m.b);
  const slot = (W - m.l - m.r) / Math.max(1, groups.length);
  const k = Math.max(1, o.series.length);
  const w = (slot * 0.7) / k;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(o.title)}</text>`,
  ];
  for (const t of ticks(0, top)) {
    if (t > top) continue;
    parts.push(`<line x1="${m.l}" y1="${py(t)}" x2="${W - m.r}" y2="${py(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  groups.forEach((g, i) => {
    const cx = m.l + (i + 0.5) * slot;
    g.bars.forEach((b, j) => {
      const x = cx - (k * w) / 2 + j * w;
      const y = py(b.value);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(w * 0.9).toFixed(1)}" height="${(H - m.b - y).toFixed(1)}" fill="${PALETTE[j % PALETTE.length]}"/>`,
      );
      if (b.lo !== undefined && b.hi !== undefined) {
        const bx = x + w * 0.45;
        const [y0, y1] = [py(b.lo), py(b.hi)];
        parts.push(
          `<path d="M${bx.toFixed(1)},${y0.toFixed(1)}V${y1.toFixed(1)}M${(bx - 4).toFixed(1)},${y0.toFixed(1)}h8M${(bx - 4).toFixed(1)},${y1.toFixed(1)}h8" stroke="#333" fill="none"/>`,
        );
      }
    });
    parts.push(
      `<text x="${cx}" y="${H - m.b + 16}" text-anchor="middle">${escapeXml(g.label)}</text>`,
    );
    if (g.note)
      parts.push(
        `<text x="${cx}" y="${H - m.b + 30}" text-anchor="middle" fill="#666" font-size="10">${escapeXml(g.note)}</text>`,
      );
  });
  o.series.forEach((name, j) => {
    const ly = m.t + 14 + j * 16;
    parts.push(
      `<rect x="${W - m.r - 190}" y="${ly - 9}" width="12" height="10" fill="${PALETTE[j % PALETTE.length]}"/>`,
      `<text x="${W - m.r - 172}" y="${ly}">${escapeXml(name)}</text>`,
    );
  });
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
