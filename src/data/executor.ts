/**
 * Runs a data job: N filter tasks, the global dedup step, N finalize tasks, the report.
 * Tasks whose completion marker exists (with the same config hash) are skipped, so a rerun
 * after a crash or kill does only what is missing.
 *
 * - local: a pool of `workers` worker threads (default: all cores) running dist/data/worker.js;
 *   one task at a time per worker.
 * - slurm: writes sbatch scripts under <out>/work/slurm/ and submits the four phases as jobs
 *   chained with `--dependency=afterok` (the two task phases as `--array=0-(N-1)`), each element
 *   running `chatforge data run --out <out> --phase <phase> --task $SLURM_ARRAY_TASK_ID`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { cleanTempFiles, writeFileAtomic, writeJsonAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import { Progress } from "../util/progress.js";
import { type DataConfig, STAGES } from "./config.js";
import {
  type Funnel,
  isDone,
  layout,
  type Phase,
  runDedup,
  runFilterTask,
  runFinalizeTask,
  runReport,
} from "./pipeline.js";

export interface RunOptions {
  /** Worker threads for the task phases (default: all cores; 0 = run in this thread). */
  workers?: number;
  quiet?: boolean;
}

/** Runs one phase (and one task of it) in this process: what a Slurm array element does. */
export async function runPhase(cfg: DataConfig, phase: Phase, task = 0): Promise<void> {
  if ((phase === "filter" || phase === "finalize") && (task < 0 || task >= cfg.tasks)) {
    throw new UserError(`task ${task} is out of range`, `this job has tasks 0…${cfg.tasks - 1}`);
  }
  if (phase === "dedup" || phase === "finalize" || phase === "report") {
    const prev: Phase = phase === "dedup" ? "filter" : phase === "finalize" ? "dedup" : "finalize";
    const missing = prev === "dedup" ? (isDone(cfg, "dedup") ? [] : [0]) : pending(cfg, prev);
    if (missing.length > 0) {
      throw new UserError(
        `phase ${phase} needs phase ${prev} to finish first (missing: ${missing.join(", ")})`,
        "run `chatforge data run` without --phase to run everything in order",
      );
    }
  }
  if (isDone(cfg, phase, phase === "filter" || phase === "finalize" ? task : undefined)) return;
  if (phase === "filter") await runFilterTask(cfg, task);
  else if (phase === "dedup") await runDedup(cfg);
  else if (phase === "finalize") await runFinalizeTask(cfg, task);
  else await runReport(cfg);
}

/** Tasks of a phase without a valid completion marker. */
export function pending(cfg: DataConfig, phase: "filter" | "finalize"): number[] {
  const out: number[] = [];
  for (let t = 0; t < cfg.tasks; t++) if (!isDone(cfg, phase, t)) out.push(t);
  return out;
}

const WORKER_JS = join(dirname(fileURLToPath(import.meta.url)), "worker.js");

/**
 * Worker threads that live for the whole run (filter, then finalize), so each loads its
 * modules and language tables once. Each runs one task at a time.
 */
class WorkerPool {
  readonly #workers: Worker[] = [];
  constructor(
    readonly configPath: string,
    readonly size: number,
  ) {}

  /** Runs the tasks of a phase; rejects on the first failure. */
  async run(
    phase: "filter" | "finalize",
    tasks: number[],
    progress: Progress | null,
  ): Promise<void> {
    const queue = [...tasks];
    const n = Math.min(this.size, tasks.length);
    while (this.#workers.length < n) {
      this.#workers.push(new Worker(WORKER_JS, { workerData: { configPath: this.configPath } }));
    }
    let failed = false;
    const drive = (w: Worker): Promise<void> =>
      new Promise((resolve, reject) => {
        const cleanup = () => {
          w.off("message", onMessage);
          w.off("error", onError);
        };
        const next = () => {
          const t = queue.shift();
          if (t === undefined || failed) {
            cleanup();
            resolve();
          } else w.postMessage({ phase, task: t });
        };
        const onMessage = (m: { ok: boolean; error?: string }) => {
          if (!m.ok) {
            failed = true;
            cleanup();
            reject(new Error(`${phase} task failed: ${m.error}`));
            return;
          }
          progress?.tick(1);
          next();
        };
        const onError = (e: Error) => {
          failed = true;
          cleanup();
          reject(e);
        };
        w.on("message", onMessage);
        w.on("error", onError);
        next();
      });
    await Promise.all(this.#workers.slice(0, n).map(drive));
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers.length = 0;
  }
}

/** Runs `tasks` of a phase in this thread, or on the pool. */
async function runTasks(
  cfg: DataConfig,
  phase: "filter" | "finalize",
  tasks: number[],
  pool: WorkerPool | null,
  progress: Progress | null,
): Promise<void> {
  if (pool) return pool.run(phase, tasks, progress);
  for (const t of tasks) {
    await runPhase(cfg, phase, t);
    progress?.tick(1);
  }
}

/**
 * Saves the configuration the tasks will read, and removes clean shards numbered beyond this
 * job's tasks (left by an earlier run with more tasks), so the folder holds one run's output.
 */
export async function saveConfig(cfg: DataConfig): Promise<void> {
  await writeJsonAtomic(layout(cfg.outDir).config, cfg);
  for (const name of readdirSync(cfg.outDir)) {
    const m = /^clean-(\d+)\.jsonl\.gz$/.exec(name);
    if (m && Number(m[1]) >= cfg.tasks) await rm(join(cfg.outDir, name), { force: true });
  }
}

/** Runs the whole job locally; returns the funnel. */
export async function runLocal(cfg: DataConfig, opts: RunOptions = {}): Promise<Funnel> {
  const workers = opts.workers ?? availableParallelism();
  // temp files of a killed run (their final names never appeared, so nothing else to undo)
  const dirs = ["", "work", "work/filtered", "work/sigs", "work/stats", "markers", "removed"];
  for (const st of STAGES) dirs.push(`work/removed/${st}`);
  for (const d of dirs) await cleanTempFiles(join(cfg.outDir, d));
  await saveConfig(cfg);
  const pool = workers > 0 ? new WorkerPool(layout(cfg.outDir).config, workers) : null;
  try {
    const filterTasks = pending(cfg, "filter");
    if (filterTasks.length > 0) {
      const p = opts.quiet
        ? null
        : new Progress("data filter", { total: filterTasks.length, unit: "tasks" });
      await runTasks(cfg, "filter", filterTasks, pool, p);
      p?.finish();
    }
    await runPhase(cfg, "dedup");
    const finalizeTasks = pending(cfg, "finalize");
    if (finalizeTasks.length > 0) {
      const p = opts.quiet
        ? null
        : new Progress("data finalize", { total: finalizeTasks.length, unit: "tasks" });
      await runTasks(cfg, "finalize", finalizeTasks, pool, p);
      p?.finish();
    }
  } finally {
    await pool?.close();
  }
  await runReport(cfg);
  const { readFileSync } = await import("node:fs");
  return JSON.parse(readFileSync(layout(cfg.outDir).funnelJson, "utf8")) as Funnel;
}

export interface SlurmOptions {
  /** Extra `#SBATCH` lines (e.g. "--partition=cpu"). */
  sbatchArgs?: string[];
  /** The command that runs chatforge on the nodes (default: this Node + bin/chatforge.js). */
  command?: string;
  /** Only write the scripts; do not call sbatch. */
  dryRun?: boolean;
  /** Array elements allowed to run at once (`%k`), 0 = no limit. */
  maxParallel?: number;
}

export interface SlurmSubmission {
  scripts: Record<Phase, string>;
  jobIds: Partial<Record<Phase, string>>;
}

function defaultCommand(): string {
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "chatforge.js");
  return `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)}`;
}

/** The sbatch script of one phase. */
export function sbatchScript(cfg: DataConfig, phase: Phase, opts: SlurmOptions = {}): string {
  const dir = join(cfg.outDir, "work", "slurm");
  const array = phase === "filter" || phase === "finalize";
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=chatforge-data-${phase}`,
    `#SBATCH --output=${dir}/${phase}-%A_%a.out`,
    "#SBATCH --ntasks=1",
    "#SBATCH --cpus-per-task=1",
    ...(opts.sbatchArgs ?? []).map((a) => `#SBATCH ${a}`),
    "set -euo pipefail",
    `cd ${JSON.stringify(process.cwd())}`,
    `exec ${opts.command ?? defaultCommand()} data run --out ${JSON.stringify(cfg.outDir)} --phase ${phase}${
      array ? " --task $SLURM_ARRAY_TASK_ID" : ""
    }`,
    "",
  ];
  return lines.join("\n");
}

/** Slurm's array syntax for a sorted list of task ids: runs collapse to ranges ("0-3,7,9-10"). */
export function arraySpec(tasks: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < tasks.length; ) {
    let j = i;
    while (j + 1 < tasks.length && tasks[j + 1] === (tasks[j] as number) + 1) j++;
    parts.push(i === j ? String(tasks[i]) : `${tasks[i]}-${tasks[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Writes the four scripts and (unless dryRun) submits them chained by dependencies. */
export async function submitSlurm(
  cfg: DataConfig,
  opts: SlurmOptions = {},
): Promise<SlurmSubmission> {
  await saveConfig(cfg);
  const dir = join(cfg.outDir, "work", "slurm");
  const phases: Phase[] = ["filter", "dedup", "finalize", "report"];
  const scripts = {} as Record<Phase, string>;
  for (const p of phases) {
    scripts[p] = join(dir, `${p}.sbatch`);
    await writeFileAtomic(scripts[p], sbatchScript(cfg, p, opts));
  }
  const jobIds: Partial<Record<Phase, string>> = {};
  if (opts.dryRun) return { scripts, jobIds };
  // only unfinished work is submitted: array elements for tasks without markers, and the
  // single-job phases when their marker is missing
  const todo: Record<Phase, number[]> = {
    filter: pending(cfg, "filter"),
    dedup: isDone(cfg, "dedup") ? [] : [0],
    finalize: pending(cfg, "finalize"),
    report: isDone(cfg, "report") ? [] : [0],
  };
  let prev: string | undefined;
  for (const p of phases) {
    if (todo[p].length === 0) continue;
    const args = ["--parsable"];
    if (p === "filter" || p === "finalize") {
      args.push(`--array=${arraySpec(todo[p])}${opts.maxParallel ? `%${opts.maxParallel}` : ""}`);
    }
    if (prev) args.push(`--dependency=afterok:${prev}`);
    args.push(scripts[p]);
    let out: string;
    try {
      out = execFileSync("sbatch", args, { encoding: "utf8" });
    } catch (e) {
      throw new UserError(
        `sbatch failed for phase ${p}: ${(e as Error).message.split("\n")[0]}`,
        existsSync("/usr/bin/sbatch")
          ? "check `sinfo` and the scripts in work/slurm/"
          : "install Slurm (sbatch) or use --executor local",
      );
    }
    prev = out.trim().split(";")[0] as string;
    jobIds[p] = prev;
  }
  return { scripts, jobIds };
}

/**
 * Waits until the submitted jobs have left the queue (polling `squeue`), then checks that the
 * report phase finished; returns the funnel. (`sacct` needs slurmdbd, which a small cluster
 * may not run, so completion is judged by our own markers.)
 */
export async function waitForSlurm(
  cfg: DataConfig,
  sub: SlurmSubmission,
  pollMs = 1000,
  timeoutMs = 3_600_000,
): Promise<Funnel> {
  const ids = Object.values(sub.jobIds).join(",");
  const t0 = Date.now();
  for (;;) {
    let queued = "";
    try {
      queued = execFileSync("squeue", ["-h", "-j", ids, "-o", "%i %T"], {
        encoding: "utf8",
      }).trim();
    } catch {
      queued = ""; // squeue forgets finished jobs (and then errors on their ids)
    }
    if (!queued) break;
    if (/DependencyNeverSatisfied|FAILED/.test(queued)) break;
    if (Date.now() - t0 > timeoutMs)
      throw new UserError(`Slurm jobs ${ids} still queued after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const L = layout(cfg.outDir);
  if (!isDone(cfg, "report")) {
    throw new UserError(
      `the Slurm jobs ${ids} ended but the report phase did not finish`,
      `see the logs in ${join(cfg.outDir, "work", "slurm")}; rerunning submits only the unfinished tasks`,
    );
  }
  const { readFileSync } = await import("node:fs");
  return JSON.parse(readFileSync(L.funnelJson, "utf8")) as Funnel;
}
