/**
 * The run directory layout (DESIGN.md §1). Every stage reads and writes under `runs/<name>/`:
 * `corpus/`, `data/`, `tokenizer/`, `shards/`, `checkpoints/<stage>/`, `logs/*.jsonl`,
 * `plots/*.svg`, `report.md`.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "./errors.js";
import { RunLog } from "./run-log.js";

export const DEFAULT_RUNS_ROOT = "runs";

export class RunDir {
  readonly root: string;
  readonly name: string;

  constructor(name: string, runsRoot = process.env.CHATFORGE_RUNS ?? DEFAULT_RUNS_ROOT) {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name === "." || name === "..") {
      throw new UserError(
        `invalid run name "${name}"`,
        "use letters, digits, '.', '_' and '-' only (e.g. --run tiny-2026)",
      );
    }
    this.name = name;
    this.root = resolve(runsRoot, name);
  }

  /** A path inside the run (directories are created on demand by writers). */
  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  /** A sub-directory of the run, created if missing. */
  dir(...parts: string[]): string {
    const p = this.path(...parts);
    mkdirSync(p, { recursive: true });
    return p;
  }

  /** The JSONL log of one stage: `logs/<stage>.jsonl`. */
  log(stage: string): RunLog {
    return new RunLog(this.path("logs", `${stage}.jsonl`), stage);
  }
}
