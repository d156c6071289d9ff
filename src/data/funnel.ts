/**
 * The funnel: documents and bytes into and out of every stage, with the top reasons for
 * dropping. Tasks write partial stats; `mergeStats` adds them up; `funnelTable` prints the
 * table and `funnelSvg` draws it (bars of documents kept per stage, reasons beside them).
 */
import { formatBytes } from "../util/progress.js";
import { STAGES } from "./config.js";

export interface StageStats {
  stage: string;
  docsIn: number;
  bytesIn: number;
  docsOut: number;
  bytesOut: number;
  /** CPU seconds spent in this stage (summed over tasks). */
  seconds: number;
  /** Dropped documents per reason. */
  reasons: Record<string, number>;
  /** Extra counters (e.g. lines removed, e-mails replaced). */
  counters: Record<string, number>;
}

export function emptyStats(stage: string): StageStats {
  return {
    stage,
    docsIn: 0,
    bytesIn: 0,
    docsOut: 0,
    bytesOut: 0,
    seconds: 0,
    reasons: {},
    counters: {},
  };
}

/** Adds `b` into `a` (same stage). */
export function addStats(a: StageStats, b: StageStats): void {
  a.docsIn += b.docsIn;
  a.bytesIn += b.bytesIn;
  a.docsOut += b.docsOut;
  a.bytesOut += b.bytesOut;
  a.seconds += b.seconds;
  for (const [k, v] of Object.entries(b.reasons)) a.reasons[k] = (a.reasons[k] ?? 0) + v;
  for (const [k, v] of Object.entries(b.counters)) a.counters[k] = (a.counters[k] ?? 0) + v;
}

/** Merges lists of per-task stats into one list in pipeline order. */
export function mergeStats(parts: StageStats[][]): StageStats[] {
  const by = new Map<string, StageStats>();
  for (const list of parts) {
    for (const s of list) {
      let m = by.get(s.stage);
      if (!m) {
        m = emptyStats(s.stage);
        by.set(s.stage, m);
      }
      addStats(m, s);
    }
  }
  const order = (x: string) => {
    const i = (STAGES as readonly string[]).indexOf(x);
    return i < 0 ? STAGES.length : i;
  };
  return [...by.values()].sort((a, b) => order(a.stage) - order(b.stage));
}

/** Reasons sorted by count, largest first. */
export function topReasons(s: StageStats, k = 3): [string, number][] {
  return Object.entries(s.reasons)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, k);
}

/** The funnel as a plain-text table. */
export function funnelTable(stats: StageStats[]): string {
  const rows = [
    ["stage", "docs in", "docs out", "kept", "bytes in", "bytes out", "time", "top drop reasons"],
  ];
  for (const s of stats) {
    rows.push([
      s.stage,
      String(s.docsIn),
      String(s.docsOut),
      s.docsIn ? `${((100 * s.docsOut) / s.docsIn).toFixed(1)}%` : "-",
      formatBytes(s.bytesIn),
      formatBytes(s.bytesOut),
      `${s.seconds.toFixed(2)}s`,
      topReasons(s)
        .map(([r, n]) => `${r} ${n}`)
        .join(", "),
    ]);
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) =>
        c === 0 || c === r.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0),
      );
      const text = line.join("  ").trimEnd();
      return i === 0 ? `${text}\n${"-".repeat(text.length)}` : text;
    })
    .join("\n");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The funnel as an SVG picture: one bar per stage (documents out of the first stage's in). */
export function funnelSvg(stats: StageStats[], title = "data pipeline funnel"): string {
  const rowH = 34;
  const left = 150;
  const barW = 360;
  const width = left + barW + 420;
  const height = 50 + rowH * stats.length + 20;
  const total = Math.max(1, stats[0]?.docsIn ?? 1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`,
  ];
  stats.forEach((s, i) => {
    const y = 44 + i * rowH;
    const wIn = (barW * s.docsIn) / total;
    const wOut = (barW * s.docsOut) / total;
    const reasons = topReasons(s)
      .map(([r, n]) => `${r} ${n}`)
      .join(", ");
    parts.push(
      `<text x="10" y="${y + 17}">${esc(s.stage)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${wIn.toFixed(1)}" height="20" fill="#f3c3c3"/>`,
      `<rect x="${left}" y="${y + 4}" width="${wOut.toFixed(1)}" height="20" fill="#4a7fc1"/>`,
      `<text x="${left + barW + 8}" y="${y + 13}">${s.docsOut}/${s.docsIn} docs, ${esc(formatBytes(s.bytesOut))}</text>`,
      `<text x="${left + barW + 8}" y="${y + 27}" fill="#a33">${esc(reasons)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
