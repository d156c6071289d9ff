/**
 * Continuous batching for one loaded model. The scheduler owns an `Engine` on a decoder with
 * `batch` cache slots and runs `engine.step()` in a loop while there is work, yielding to the event
 * loop between steps (`setImmediate`): a request that arrives mid-generation is submitted at once
 * and joins the running batch at the next step (its prompt is fed in the same decoder pass as the
 * other rows' next tokens), finished rows leave and free their slot, and a cancelled row (a client
 * that disconnected, a stop string, a timeout) is freed before the next step.
 *
 * Admission is bounded: at most `batch` rows generate and `queue` more wait; a request whose rows
 * do not fit is refused (the route answers 429 with retry-after). A throw inside a row's event
 * handler fails only that row; a throw inside a step (a bug) fails the rows in flight and the
 * scheduler starts over on a fresh engine, so the server keeps serving.
 */
import type { SlotDecoder } from "../infer/decoder.js";
import {
  Engine,
  type EngineEvent,
  type EngineOptions,
  type EngineRequest,
  type EngineResult,
} from "../infer/engine.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { Tool } from "../tools/tool.js";

export interface RowHandlers {
  onEvent?(e: EngineEvent): void;
  onDone(r: EngineResult): void;
  /** The scheduler failed (a bug in a step); the row is gone. */
  onError(e: unknown): void;
}

export interface SchedulerStats {
  /** Engine steps run. */
  steps: number;
  /** Steps in which two or more rows advanced together. */
  sharedSteps: number;
  /** The most rows that advanced in one step. */
  maxRows: number;
}

export interface SchedulerOptions {
  /** Rows generated together (the decoder's slots). */
  batch: number;
  /** Rows that may wait for a slot beyond the batch. */
  queue: number;
  /** Called after each step with the rows it advanced and the tokens they got. */
  onStep?(rows: number, tokens: number): void;
}

export class Scheduler {
  readonly stats: SchedulerStats = { steps: 0, sharedSteps: 0, maxRows: 0 };
  #engine: Engine;
  readonly #rows = new Map<number, RowHandlers>();
  #running = false;
  #closed = false;
  /** Rows touched and tokens produced in the current step. */
  #touched = new Set<number>();
  #tokens = 0;
  #idle: (() => void)[] = [];
  #stepping = false;

  constructor(
    readonly decoder: SlotDecoder,
    readonly tok: Tokenizer,
    readonly tools: readonly Tool[],
    readonly o: SchedulerOptions,
    readonly engineOptions: EngineOptions = {},
  ) {
    this.#engine = new Engine(decoder, tok, tools, engineOptions);
  }

  /** Rows generating now. */
  get active(): number {
    return this.#engine.active;
  }
  /** Rows waiting for a slot. */
  get queued(): number {
    return this.#engine.queued;
  }
  get idle(): boolean {
    return this.#rows.size === 0;
  }

  /** Whether `n` more rows can be admitted now. */
  canAdmit(n: number): boolean {
    return this.#rows.size + n <= this.o.batch + this.o.queue && !this.#closed;
  }

  /**
   * Submits rows (all or none: returns null when they do not fit). Returns their row ids, for
   * `cancel`. Each row's handlers get its events and its result.
   */
  submit(reqs: readonly EngineRequest[], handlers: readonly RowHandlers[]): number[] | null {
    if (!this.canAdmit(reqs.length)) return null;
    const ids: number[] = [];
    reqs.forEach((req, i) => {
      const h = handlers[i]!;
      const id = this.#engine.submit(req, (e) => this.#dispatch(e, h));
      this.#rows.set(id, h);
      ids.push(id);
    });
    this.#kick();
    return ids;
  }

  /**
   * Stops a row (it frees its slot before the next step); its onDone gets "cancelled". Called
   * from an event handler (inside a step), it takes effect right after that step.
   */
  cancel(id: number): void {
    if (this.#stepping) {
      queueMicrotask(() => this.cancel(id));
      return;
    }
    if (!this.#rows.has(id)) return;
    const r = this.#engine.cancel(id);
    const h = this.#rows.get(id);
    this.#rows.delete(id);
    if (h && r) this.#safe(h, () => h.onDone(r));
    this.#settle();
  }

  /** Resolves when no row is left (for unloading a model). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Refuses new rows; running ones finish. */
  close(): void {
    this.#closed = true;
  }

  #dispatch(e: EngineEvent, h: RowHandlers): void {
    this.#touched.add(e.row);
    if (e.type === "token") this.#tokens++;
    if (h.onEvent) this.#safe(h, () => h.onEvent!(e), e.row);
  }

  /** Runs a handler; if it throws, that row alone is cancelled and told. */
  #safe(h: RowHandlers, f: () => void, row?: number): void {
    try {
      f();
    } catch (err) {
      if (row !== undefined && this.#rows.has(row)) {
        this.#rows.delete(row);
        // not inside the step that is advancing the row: right after it
        const engine = this.#engine;
        queueMicrotask(() => {
          try {
            engine.cancel(row);
          } catch {
            // the row is gone either way
          }
          this.#settle();
        });
      }
      try {
        h.onError(err);
      } catch {
        // nothing more to tell
      }
    }
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    setImmediate(() => this.#loop());
  }

  #loop(): void {
    if (this.#rows.size === 0) {
      this.#running = false;
      this.#settle();
      return;
    }
    this.#touched = new Set();
    this.#tokens = 0;
    let done: Map<number, EngineResult>;
    this.#stepping = true;
    try {
      done = this.#engine.step();
    } catch (err) {
      this.#stepping = false;
      this.#fail(err);
      this.#running = false;
      return;
    } finally {
      this.#stepping = false;
    }
    const rows = this.#touched.size;
    this.stats.steps++;
    if (rows >= 2) this.stats.sharedSteps++;
    this.stats.maxRows = Math.max(this.stats.maxRows, rows);
    try {
      this.o.onStep?.(rows, this.#tokens);
    } catch {
      // metrics must not stop generation
    }
    for (const [id, r] of done) {
      const h = this.#rows.get(id);
      this.#rows.delete(id);
      if (h) this.#safe(h, () => h.onDone(r));
    }
    setImmediate(() => this.#loop());
  }

  /** A step threw: every row in flight fails, and a fresh engine takes over. */
  #fail(err: unknown): void {
    process.stderr.write(`serve: engine step failed: ${(err as Error)?.stack ?? String(err)}\n`);
    const rows = [...this.#rows.values()];
    this.#rows.clear();
    this.#engine = new Engine(this.decoder, this.tok, this.tools, this.engineOptions);
    for (const h of rows) {
      try {
        h.onError(err);
      } catch {
        // keep going
      }
    }
    this.#settle();
  }

  #settle(): void {
    if (this.#rows.size > 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const f of waiting) f();
  }
}
