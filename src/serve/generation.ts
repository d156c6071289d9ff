/**
 * One API request's generation, shared by chat and text completions: its choices (n per prompt,
 * with seeds seed, seed+1, …) are rows of the model's scheduler; each row's text goes through its
 * stop strings (src/serve/stop.ts) before it is shown; log-probabilities are kept per sampled
 * token and released with the text they belong to. The request ends when every row has: the
 * model closed its turn ("stop"), a stop string matched ("stop"), max_tokens or the context was
 * reached ("length"), or the per-request timeout cut it ("length", the reply so far). A client
 * that disconnects (`signal`) cancels every row at once.
 *
 * Tool calls the engine ran are part of the text: the span the model wrote and the output the
 * engine forced, as their special-token text (`<|python_start|>2+2<|python_end|><|output_start|>4
 * <|output_end|>`). Forced tokens have no log-probability (the model did not choose them), so they
 * have no logprobs entry.
 */
import type { EngineEvent, EngineResult } from "../infer/engine.js";
import type { SamplingOptions } from "../infer/sampler.js";
import { queueFull } from "./errors.js";
import type { Metrics } from "./metrics.js";
import type { LoadedModel } from "./models.js";
import type { RowHandlers } from "./scheduler.js";
import { StopMatcher } from "./stop.js";

export interface TokenLogprob {
  id: number;
  logprob: number;
  /** The top alternatives at that step (ln p), most probable first. */
  top: { id: number; logprob: number }[];
}

export interface GenerationSpec {
  /** One prompt per distinct input; each gets `n` choices. */
  prompts: number[][];
  n: number;
  seed: number;
  maxTokens: number;
  sampling: SamplingOptions;
  stop: readonly string[];
  /** Top alternatives per token (0 = none); logprobs are kept when `logprobs` is true. */
  topLogprobs: number;
  logprobs: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type FinishReason = "stop" | "length";

export interface ChoiceDelta {
  index: number;
  text: string;
  logprobs: TokenLogprob[];
}

export interface ChoiceResult {
  index: number;
  text: string;
  finishReason: FinishReason;
  /** Tokens generated (sampled and forced) up to the end or the stop string. */
  tokens: number;
  logprobs: TokenLogprob[];
  /** Why, in the server's words (stop_string, timeout, context, cancelled…), for metrics. */
  detail: string;
}

export interface Generation {
  /** Resolves with every choice (by index) when all have finished; rejects on a server fault. */
  done: Promise<ChoiceResult[]>;
  cancel(): void;
}

class Choice {
  readonly matcher: StopMatcher;
  text = "";
  shown = "";
  tokens = 0;
  /** Logprob entries with the end offset of their token's text in `text`. */
  readonly pending: { end: number; start: number; lp: TokenLogprob }[] = [];
  readonly released: TokenLogprob[] = [];
  row = -1;
  finished = false;

  constructor(
    readonly index: number,
    stop: readonly string[],
  ) {
    this.matcher = new StopMatcher(stop);
  }

  /** Logprob entries whose text is now shown. */
  take(all = false): TokenLogprob[] {
    const out: TokenLogprob[] = [];
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      const visible = this.matcher.stopped
        ? p.start < this.matcher.released || p.end === p.start
        : p.end <= this.matcher.released;
      if (!visible && !all) break;
      this.pending.shift();
      if (visible || !this.matcher.stopped) out.push(p.lp);
    }
    this.released.push(...out);
    return out;
  }
}

/**
 * Starts generating; throws a 429 ApiError at once when the model's batch and queue cannot take
 * the request's rows (so a stream can still answer with a status).
 */
export function startGeneration(
  model: LoadedModel,
  spec: GenerationSpec,
  metrics: Metrics | undefined,
  onDelta?: (d: ChoiceDelta) => void,
): Generation {
  const sched = model.scheduler;
  const rows = spec.prompts.length * spec.n;
  const id = model.info.id;
  if (!sched.canAdmit(rows)) {
    metrics?.rejected.inc({ model: id });
    throw queueFull(1);
  }
  const t0 = performance.now();
  let firstToken = false;
  const choices = Array.from({ length: rows }, (_, i) => new Choice(i, spec.stop));
  let timedOut = false;
  let resolve!: (r: ChoiceResult[]) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<ChoiceResult[]>((a, b) => {
    resolve = a;
    reject = b;
  });
  let left = rows;
  let failed = false;
  const results: ChoiceResult[] = new Array(rows);

  const emit = (c: Choice, text: string, all = false) => {
    const lps = c.take(all);
    c.shown += text;
    if (onDelta && (text.length > 0 || lps.length > 0))
      onDelta({ index: c.index, text, logprobs: lps });
  };

  const onEvent = (c: Choice) => (e: EngineEvent) => {
    if (e.type !== "token" || c.matcher.stopped) return;
    if (!firstToken) {
      firstToken = true;
      metrics?.ttft.observe((performance.now() - t0) / 1000);
    }
    c.tokens++;
    const start = c.text.length;
    c.text += e.text;
    if (spec.logprobs && e.logprob !== undefined) {
      const top = (e.top ?? []).map((t) => ({ id: t.id, logprob: Math.log(t.prob) }));
      c.pending.push({ start, end: c.text.length, lp: { id: e.id, logprob: e.logprob, top } });
    }
    const out = c.matcher.push(e.text);
    emit(c, out);
    if (c.matcher.stopped) sched.cancel(c.row);
  };

  const onDone = (c: Choice) => (r: EngineResult) => {
    if (c.finished) return;
    c.finished = true;
    let finishReason: FinishReason;
    let detail: string;
    if (c.matcher.stopped) {
      finishReason = "stop";
      detail = "stop_string";
    } else {
      // the engine's text ends with the UTF-8 decoder's flush; show what is left
      const tail = r.text.length > c.text.length ? r.text.slice(c.text.length) : "";
      c.text += tail;
      const out = c.matcher.push(tail);
      emit(c, out + (c.matcher.stopped ? "" : c.matcher.flush()), true);
      if (c.matcher.stopped) {
        finishReason = "stop";
        detail = "stop_string";
      } else if (r.reason === "stop") {
        finishReason = "stop";
        detail = "stop";
      } else if (r.reason === "cancelled") {
        finishReason = "length";
        detail = timedOut ? "timeout" : "cancelled";
      } else {
        finishReason = "length";
        detail = r.reason;
      }
    }
    metrics?.finished.inc({ model: id, reason: detail });
    results[c.index] = {
      index: c.index,
      text: c.shown,
      finishReason,
      tokens: c.tokens,
      logprobs: c.released,
      detail,
    };
    if (--left === 0) finish();
  };

  const handlers: RowHandlers[] = choices.map((c) => ({
    onEvent: onEvent(c),
    onDone: onDone(c),
    onError: (e) => {
      c.finished = true;
      if (!failed) {
        failed = true;
        cancel();
        clear();
        reject(e);
      }
    },
  }));

  const reqs = choices.map((c) => ({
    prompt: spec.prompts[Math.floor(c.index / spec.n)]!,
    maxNewTokens: spec.maxTokens,
    seed: (spec.seed + c.index) >>> 0,
    sampling: spec.sampling,
    topK: spec.logprobs ? spec.topLogprobs : 0,
    logprobs: spec.logprobs,
  }));
  const ids = sched.submit(reqs, handlers);
  if (!ids) {
    metrics?.rejected.inc({ model: id });
    throw queueFull(1);
  }
  ids.forEach((rowId, i) => {
    choices[i]!.row = rowId;
  });
  for (const p of spec.prompts) metrics?.promptTokens.inc({ model: id }, p.length);

  function cancel(): void {
    for (const c of choices) if (!c.finished) sched.cancel(c.row);
  }
  const timer = setTimeout(() => {
    timedOut = true;
    cancel();
  }, spec.timeoutMs);
  timer.unref();
  const onAbort = () => cancel();
  spec.signal?.addEventListener("abort", onAbort, { once: true });
  if (spec.signal?.aborted) queueMicrotask(onAbort);
  function clear(): void {
    clearTimeout(timer);
    spec.signal?.removeEventListener("abort", onAbort);
  }
  function finish(): void {
    clear();
    if (!failed) resolve(results);
  }
  return { done, cancel };
}
