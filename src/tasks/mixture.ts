/**
 * SFT mixtures: the train (or val) splits of several tasks, in chosen proportions, shuffled
 * deterministically. A weight is a task's share of the mixture: with weights identity=3,
 * knowledge-qa=1 and 4,000 examples, 3,000 are identity examples. A task with fewer examples
 * than its share is repeated (every example once before any twice); one with more is sampled.
 */
import { UserError } from "../util/errors.js";
import { rngFor, shuffle } from "./common.js";
import { TASK_NAMES, taskByName } from "./registry.js";
import type { Split, Task, TaskContext, TaskExample } from "./task.js";

export type MixtureWeights = Record<string, number>;

/**
 * Defaults for a ≈2M-parameter model trained for minutes: identity is heavy (a small model
 * only learns its name from many examples, and it is the most visible behaviour), knowledge-qa
 * teaches the answer format, smalltalk and spelling the rest; arithmetic and letters teach the
 * three ways to answer (at once, thinking in tokens, calling the code tool) and which one an
 * instruction asks for, lookup to search for a fact it rarely saw.
 */
export const DEFAULT_MIXTURE_WEIGHTS: Readonly<MixtureWeights> = {
  identity: 3,
  smalltalk: 2,
  "knowledge-qa": 3,
  spelling: 2,
  arithmetic: 2,
  letters: 2,
  lookup: 2,
};

/** Examples in a mixture by default (about 200k tokens at ~40 tokens per example). */
export const DEFAULT_MIXTURE_SIZE = 5000;

export interface MixtureOptions {
  /** Examples in the mixture (default DEFAULT_MIXTURE_SIZE). */
  size?: number;
  /** Resolves task names (default: the registry); tests pass their own tasks. */
  tasks?: (name: string) => Task;
}

/**
 * Parses "identity=2,knowledge-qa=1" (spaces allowed; a task may appear once; weights are
 * non-negative numbers, not all zero). Unknown task names are a UserError listing the known ones.
 */
export function parseMixtureWeights(
  spec: string,
  known: readonly string[] = TASK_NAMES,
): MixtureWeights {
  const out: MixtureWeights = {};
  const parts = spec
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) {
    throw new UserError(
      "empty task mixture",
      'write it as name=weight pairs, e.g. "identity=2,knowledge-qa=1"',
    );
  }
  for (const part of parts) {
    const m = /^([A-Za-z0-9_-]+)\s*=\s*(\S+)$/.exec(part);
    if (!m) {
      throw new UserError(
        `bad mixture entry "${part}"`,
        'each entry is name=weight, e.g. "identity=2"',
      );
    }
    const [, name, w] = m as unknown as [string, string, string];
    if (!known.includes(name)) {
      throw new UserError(`unknown task "${name}" in mixture`, `known tasks: ${known.join(", ")}`);
    }
    const weight = Number(w);
    if (!/^\d*\.?\d+(?:e[+-]?\d+)?$/i.test(w) || !Number.isFinite(weight)) {
      throw new UserError(
        `bad weight "${w}" for task "${name}"`,
        "a weight is a non-negative number, e.g. 2 or 0.5",
      );
    }
    if (name in out) throw new UserError(`task "${name}" appears twice in the mixture`);
    out[name] = weight;
  }
  if (Object.values(out).every((w) => w === 0)) {
    throw new UserError(
      "every weight in the mixture is 0",
      "give at least one task a positive weight",
    );
  }
  return out;
}

/**
 * How many examples each task gets: shares of `size` by weight, rounded by largest remainder
 * (so they add up to `size` exactly; ties go to the task listed first).
 */
export function mixtureCounts(weights: MixtureWeights, size: number): Record<string, number> {
  const names = Object.keys(weights).filter((n) => weights[n]! > 0);
  const total = names.reduce((s, n) => s + weights[n]!, 0);
  if (!(total > 0)) throw new UserError("every weight in the mixture is 0");
  const exact = names.map((n) => (size * weights[n]!) / total);
  const counts = exact.map(Math.floor);
  let left = size - counts.reduce((s, c) => s + c, 0);
  const order = names
    .map((_, i) => i)
    .sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    counts[i]!++;
    left--;
  }
  return Object.fromEntries(names.map((n, i) => [n, counts[i]!]));
}

/**
 * A deterministic shuffled mixture of the tasks' `split` examples. Repeated examples get
 * `#2`, `#3`, … appended to their ids, so ids stay unique.
 */
export function sftMixture(
  ctx: TaskContext,
  weights: MixtureWeights = DEFAULT_MIXTURE_WEIGHTS,
  split: Split = "train",
  opts: MixtureOptions = {},
): TaskExample[] {
  const size = opts.size ?? DEFAULT_MIXTURE_SIZE;
  if (!Number.isInteger(size) || size < 0) {
    throw new UserError(`bad mixture size ${size}`, "the size is a whole number of examples");
  }
  const resolve = opts.tasks ?? taskByName;
  const counts = mixtureCounts(weights, size);
  const out: TaskExample[] = [];
  for (const [name, count] of Object.entries(counts)) {
    if (count === 0) continue;
    const task = resolve(name);
    const pool = task.examples(split, ctx);
    if (pool.length === 0) {
      throw new UserError(
        `task "${name}" has no ${split} examples`,
        "drop it from the mixture or give it data",
      );
    }
    const rng = rngFor(ctx.seed, "mixture", split, name);
    let order: TaskExample[] = [];
    for (let i = 0; i < count; i++) {
      const k = i % pool.length;
      if (k === 0) order = shuffle([...pool], rng);
      const round = Math.floor(i / pool.length);
      const ex = order[k]!;
      out.push(round === 0 ? ex : { ...ex, id: `${ex.id}#${round + 1}` });
    }
  }
  return shuffle(out, rngFor(ctx.seed, "mixture", split, "all"));
}
