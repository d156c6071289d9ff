/**
 * The "models need tokens to think" tables (issue 13): the same test questions answered in
 * different styles — at once, thinking step by step in tokens, or with a tool — with accuracy
 * per style and difficulty. Each table is built from a task's scored test examples: the column
 * is the style the conversation asked for (its `meta.style`), the row a difficulty or kind, and
 * each cell also counts how many replies actually called the tool (`score.details.usedCode` /
 * `usedSearch`), which is how the "no instruction" column shows the way the model chose.
 */
import type { ScoredExample, TaskResult } from "./task-run.js";
import { wilson } from "./task-run.js";

export interface ThinkCell {
  n: number;
  correct: number;
  accuracy: number;
  ci95: [number, number];
  /** Replies in the cell that called the tool. */
  usedTool: number;
}

export interface ThinkTable {
  task: string;
  title: string;
  /** What the rows are. */
  rowLabel: string;
  columns: { key: string; label: string }[];
  rows: { key: string; label: string; cells: Record<string, ThinkCell> }[];
}

interface Spec {
  title: string;
  rowLabel: string;
  columns: [key: string, label: string][];
  /** The row of an example (its key and label); the "all" row is added after them. */
  row(meta: Record<string, unknown>): [key: string, label: string];
  tool: "usedCode" | "usedSearch";
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

const SPECS: Record<string, Spec> = {
  arithmetic: {
    title: "Arithmetic word problems",
    rowLabel: "difficulty",
    columns: [
      ["answer", "answer first"],
      ["steps", "step by step"],
      ["code", "code tool"],
      ["none", "no instruction"],
    ],
    row: (m) => [
      `${m.steps}/${m.digits}`,
      `${plural(m.steps as number, "step")}, ${plural(m.digits as number, "digit")}`,
    ],
    tool: "usedCode",
  },
  letters: {
    title: "Letters of a word",
    rowLabel: "question",
    columns: [
      ["direct", "direct"],
      ["steps", "spelled out"],
      ["code", "code tool"],
      ["none", "no instruction"],
    ],
    row: (m) => [String(m.kind), String(m.kind)],
    tool: "usedCode",
  },
  lookup: {
    title: "Lookups of rarely seen facts",
    rowLabel: "pretraining mentions",
    columns: [
      ["memory", "from memory"],
      ["search", "search tool"],
      ["none", "no instruction"],
    ],
    row: (m) => [String(m.bucket ?? "all"), String(m.bucket ?? "all")],
    tool: "usedSearch",
  },
};

function cellOf(xs: readonly ScoredExample[], tool: Spec["tool"]): ThinkCell {
  const correct = xs.filter((x) => x.score.correct).length;
  return {
    n: xs.length,
    correct,
    accuracy: xs.length ? correct / xs.length : 0,
    ci95: wilson(correct, xs.length),
    usedTool: xs.filter((x) => x.score.details?.[tool] === true).length,
  };
}

/** The tables for the tasks among `results` that have one (arithmetic, letters, lookup). */
export function thinkTables(results: readonly TaskResult[]): ThinkTable[] {
  const out: ThinkTable[] = [];
  for (const r of results) {
    const spec = SPECS[r.task];
    if (!spec || r.n === 0) continue;
    const rowKeys: [string, string][] = [];
    for (const x of r.examples) {
      const k = spec.row(x.meta);
      if (!rowKeys.some(([key]) => key === k[0])) rowKeys.push(k);
    }
    rowKeys.sort((a, b) => a[0].localeCompare(b[0], "en", { numeric: true }));
    const rows = [...rowKeys, ["all", "all"] as [string, string]].map(([key, label]) => {
      const inRow = r.examples.filter((x) => key === "all" || spec.row(x.meta)[0] === key);
      const cells: Record<string, ThinkCell> = {};
      for (const [col] of spec.columns)
        cells[col] = cellOf(
          inRow.filter((x) => x.meta.style === col),
          spec.tool,
        );
      return { key, label, cells };
    });
    out.push({
      task: r.task,
      title: spec.title,
      rowLabel: spec.rowLabel,
      columns: spec.columns.map(([key, label]) => ({ key, label })),
      rows,
    });
  }
  return out;
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** A table as markdown: accuracy (examples) per cell, and the tool's share where it was used. */
export function formatThinkTable(t: ThinkTable): string[] {
  const L = [
    `| ${t.rowLabel} | ${t.columns.map((c) => c.label).join(" | ")} |`,
    `|---|${t.columns.map(() => "---:").join("|")}|`,
  ];
  for (const row of t.rows) {
    const cells = t.columns.map(({ key }) => {
      const c = row.cells[key]!;
      if (c.n === 0) return "–";
      const tool = c.usedTool > 0 ? ` · tool ${pct(c.usedTool / c.n)}` : "";
      const text = `${pct(c.accuracy)} (${c.n})${tool}`;
      return row.key === "all" ? `**${text}**` : text;
    });
    L.push(`| ${row.label} | ${cells.join(" | ")} |`);
  }
  return L;
}
