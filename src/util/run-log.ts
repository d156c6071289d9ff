/**
 * Structured run logs: one JSON object per line in `runs/<name>/logs/<stage>.jsonl`.
 * Every stage records its config, tool versions and timings, so a run can be audited later.
 * Appends are single `write` calls of whole lines, so a kill leaves at most one torn last line,
 * which readers skip.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { versions } from "./versions.js";

export interface LogRecord {
  /** ISO time. */
  t: string;
  event: string;
  [key: string]: unknown;
}

export class RunLog {
  readonly path: string;
  readonly stage: string;
  readonly #t0 = performance.now();

  constructor(path: string, stage: string) {
    this.path = path;
    this.stage = stage;
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Appends one event. */
  write(event: string, fields: Record<string, unknown> = {}): void {
    const rec: LogRecord = { t: new Date().toISOString(), event, stage: this.stage, ...fields };
    appendFileSync(this.path, `${JSON.stringify(rec)}\n`);
  }

  /** Logs the start of a stage with its full config and the versions in use. */
  start(config: Record<string, unknown>): void {
    this.write("start", { config, versions: versions(), argv: process.argv.slice(2) });
  }

  /** Logs the end of a stage with its wall time and a summary. */
  end(summary: Record<string, unknown> = {}): void {
    this.write("end", { seconds: (performance.now() - this.#t0) / 1000, ...summary });
  }
}

/** Reads a JSONL log, skipping a torn last line. */
export function readLog(path: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // a line torn by a kill: ignore
    }
  }
  return out;
}
