/**
 * The models a server offers: every checkpoint stage of the named runs (folders under
 * `runs/<run>/checkpoints/` holding at least one checkpoint), as ids `<run>/<stage>`, e.g.
 * `speedrun/sft`. The list is read again on every lookup, so a stage that appears while the
 * server runs (a training run writing its first checkpoint) is served without a restart. A stage
 * serves its latest checkpoint, loaded on first use (with the run's tokenizer and tools) onto a
 * decoder with `batch` slots and its own scheduler; at most `maxModels` stay loaded, the least
 * recently used idle one is unloaded first (a busy one finishes its rows, then goes).
 *
 * Unloading frees a model's KV cache (the decoder's cache is returned to the tensor memory when
 * collected) and calls `dispose()` on the tools it got; the weights are persistent buffers of the
 * shared tensor memory, which has no way to free them yet.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { EngineOptions } from "../infer/engine.js";
import { openForGeneration } from "../infer/load.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";
import type { Tool } from "../tools/tool.js";
import { latestCheckpoint } from "../train/checkpoint.js";
import { RunDir } from "../util/run-dir.js";
import { ApiError, modelNotFound } from "./errors.js";
import type { Metrics } from "./metrics.js";
import { Scheduler } from "./scheduler.js";

export interface ModelInfo {
  id: string;
  run: string;
  stage: string;
  /** The stage's folder (checkpoints/<stage>). */
  dir: string;
  /** Unix seconds: when its latest checkpoint was written. */
  created: number;
}

export interface LoadedModel {
  info: ModelInfo;
  tok: Tokenizer;
  /** The checkpoint folder loaded. */
  checkpoint: string;
  contextLength: number;
  scheduler: Scheduler;
  tools: readonly Tool[];
}

export interface RegistryOptions {
  /** Run names (`--run`). */
  runs: readonly string[];
  /** Where runs live (default: CHATFORGE_RUNS or ./runs). */
  runsRoot?: string;
  /** Models kept loaded at once (default 2). */
  maxModels?: number;
  /** Rows decoded together per model (default 4). */
  batch?: number;
  /** Rows that may wait beyond the batch, per model (default 16). */
  queue?: number;
  /** The tools a run's models may call (default: none). */
  tools?: (run: string, tok: Tokenizer) => Promise<Tool[]>;
  engine?: EngineOptions;
  metrics?: Metrics;
}

export class ModelRegistry {
  readonly o: Required<Omit<RegistryOptions, "runsRoot" | "tools" | "metrics" | "engine">> &
    RegistryOptions;
  readonly #runs: RunDir[];
  /** Loaded (or loading) models, least recently used first. */
  readonly #loaded = new Map<string, Promise<LoadedModel>>();
  /** The loaded ones that finished loading. */
  readonly #ready = new Map<string, LoadedModel>();
  readonly #tokenizers = new Map<string, Promise<Tokenizer>>();

  constructor(o: RegistryOptions) {
    this.o = { maxModels: 2, batch: 4, queue: 16, ...o };
    this.#runs = o.runs.map((r) => new RunDir(r, o.runsRoot));
  }

  /** Every servable stage of every run, sorted by id. */
  async list(): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    for (const run of this.#runs) {
      const root = run.path("checkpoints");
      let stages: string[];
      try {
        stages = await readdir(root);
      } catch {
        continue;
      }
      for (const stage of stages.sort()) {
        const dir = join(root, stage);
        const latest = await latestCheckpoint(dir).catch(() => undefined);
        if (!latest) continue;
        const mtime = await stat(latest).then(
          (s) => Math.floor(s.mtimeMs / 1000),
          () => 0,
        );
        out.push({ id: `${run.name}/${stage}`, run: run.name, stage, dir, created: mtime });
      }
    }
    return out;
  }

  async info(id: string): Promise<ModelInfo> {
    const all = await this.list();
    const m = all.find((x) => x.id === id);
    if (!m)
      throw modelNotFound(
        id,
        all.map((x) => x.id),
      );
    return m;
  }

  /** Ids of the models in memory. */
  loadedIds(): string[] {
    return [...this.#loaded.keys()];
  }

  /** The run's tokenizer (`runs/<run>/tokenizer`), loaded once. */
  async tokenizer(info: ModelInfo): Promise<Tokenizer> {
    let t = this.#tokenizers.get(info.run);
    if (!t) {
      const dir = this.#runs.find((r) => r.name === info.run)!.path("tokenizer");
      t = Tokenizer.load(dir);
      this.#tokenizers.set(info.run, t);
      t.catch(() => this.#tokenizers.delete(info.run));
    }
    return t;
  }

  /** The loaded model `id`, loading it (and unloading the LRU one) if needed. */
  async get(id: string): Promise<LoadedModel> {
    const hit = this.#loaded.get(id);
    if (hit) {
      this.#loaded.delete(id);
      this.#loaded.set(id, hit); // most recently used
      return hit;
    }
    const info = await this.info(id);
    const again = this.#loaded.get(id); // another request may have started it meanwhile
    if (again) return again;
    const p = this.#load(info);
    this.#loaded.set(id, p);
    p.then(
      (m) => {
        if (this.#loaded.get(id) === p) this.#ready.set(id, m);
      },
      () => {
        if (this.#loaded.get(id) === p) this.#loaded.delete(id);
      },
    );
    this.#evict(id);
    return p;
  }

  /** Stops accepting rows on every model; resolves when they are idle. */
  async close(): Promise<void> {
    const all = await Promise.allSettled(this.#loaded.values());
    this.#loaded.clear();
    this.#ready.clear();
    await Promise.all(
      all.map(async (r) => {
        if (r.status !== "fulfilled") return;
        r.value.scheduler.close();
        await r.value.scheduler.whenIdle();
        for (const t of r.value.tools) t.dispose?.();
      }),
    );
  }

  async #load(info: ModelInfo): Promise<LoadedModel> {
    let tok: Tokenizer;
    try {
      tok = await this.tokenizer(info);
    } catch (e) {
      throw new ApiError(
        400,
        `model ${info.id}: cannot load its tokenizer (${(e as Error).message})`,
        "invalid_request_error",
        "model_unavailable",
        "model",
      );
    }
    let opened: Awaited<ReturnType<typeof openForGeneration>>;
    try {
      opened = await openForGeneration(info.dir, tok, this.o.batch);
    } catch (e) {
      process.stderr.write(`serve: loading ${info.id}: ${(e as Error)?.stack ?? String(e)}\n`);
      throw new ApiError(
        500,
        `model ${info.id} could not be loaded: ${(e as Error).message}`,
        "server_error",
        "model_load_failed",
        "model",
      );
    }
    const { ckpt, decoder } = opened;
    const tools = this.o.tools ? await this.o.tools(info.run, tok) : [];
    const metrics = this.o.metrics;
    const scheduler = new Scheduler(
      decoder,
      tok,
      tools,
      {
        batch: this.o.batch,
        queue: this.o.queue,
        onStep: metrics ? (rows, n) => metrics.step(info.id, rows, n) : undefined,
      },
      this.o.engine,
    );
    return {
      info,
      tok,
      checkpoint: ckpt.dir,
      contextLength: decoder.contextLength,
      scheduler,
      tools,
    };
  }

  /** Unloads least recently used models beyond the limit, idle ones first (never `keep`). */
  #evict(keep: string): void {
    while (this.#loaded.size > this.o.maxModels) {
      const ids = [...this.#loaded.keys()].filter((id) => id !== keep);
      const id = ids.find((i) => this.#ready.get(i)?.scheduler.idle) ?? ids[0];
      if (id === undefined) return;
      const p = this.#loaded.get(id)!;
      this.#loaded.delete(id);
      this.#ready.delete(id);
      p.then(
        async (m) => {
          m.scheduler.close();
          await m.scheduler.whenIdle();
          for (const t of m.tools) t.dispose?.();
        },
        () => {},
      );
    }
  }

  /** Rows generating and waiting, by loaded model (for /metrics and /health). */
  usage(): { id: string; active: number; queued: number }[] {
    return [...this.#ready.values()].map((m) => ({
      id: m.info.id,
      active: m.scheduler.active,
      queued: m.scheduler.queued,
    }));
  }
}
