/**
 * The engine (DESIGN.md §4): generates assistant replies for a batch of rows, each its own
 * conversation in its own cache slot, and runs tools inside generation. When a row closes a tool
 * span (`<|python_start|>code<|python_end|>`, `<|search_start|>query<|search_end|>`), the engine
 * runs the tool and forces `<|output_start|>result<|output_end|>` into that row — fed to the model
 * in the next step with the span's end token, never sampled — and decoding continues. The model
 * can never write the output tokens itself (their logits are masked, as are all special tokens but
 * the stops and span tokens), nor open a span inside a span or close one it did not open, so every
 * reply renders back through src/chat/render.ts.
 *
 * Rows advance independently: each step feeds every active row what it has pending (a prompt, one
 * sampled token, or a span end plus a forced output) in one decoder pass, and rows finish on their
 * own (`<|im_end|>`, the token limit, the context). A row draws from its own generator seeded with
 * its seed, and forced tokens draw nothing, so a row's tokens are those it gets run alone with
 * the same seed (up to float32 rounding of batched matmuls). Requests submitted while others run
 * join at the next step in a free slot (the API's continuous batching); `cancel` frees a row.
 *
 * Everything the chat CLI, the API and the web page show comes as events: each token with its
 * top-k probabilities (marked forced for tool outputs), each tool call and its result, and the
 * finish with its reason.
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import { Rng } from "../tensor/rng.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { Tool, ToolResult } from "../tools/tool.js";
import type { SlotDecoder } from "./decoder.js";
import {
  type SamplingOptions,
  sampleToken,
  topProbabilities,
  validateSampling,
} from "./sampler.js";

export interface EngineRequest {
  /** The prompt ids (a rendered conversation ending in `<|im_start|>assistant<|im_sep|>`). */
  prompt: number[];
  maxNewTokens: number;
  seed?: number;
  sampling?: SamplingOptions;
  /** Top next-token probabilities to report with each sampled token (0 = none). */
  topK?: number;
  /** Report each sampled token's log-probability (under the model, temperature 1). */
  logprobs?: boolean;
}

export type FinishReason =
  /** The model closed its turn (`<|im_end|>`, or another turn or document boundary). */
  | "stop"
  /** maxNewTokens reached. */
  | "length"
  /** The model's context is full. */
  | "context"
  | "cancelled";

export type EngineEvent =
  | {
      type: "token";
      row: number;
      id: number;
      /** The token's text (special tokens as their text); "" while a UTF-8 character is split. */
      text: string;
      /** Written by the engine (a tool output), not sampled. */
      forced: boolean;
      top?: { id: number; prob: number }[];
      /** ln p(token) under the model (temperature 1), when the request asked for logprobs. */
      logprob?: number;
    }
  | { type: "tool-call"; row: number; tool: string; input: string }
  | ({ type: "tool-result"; row: number; tool: string } & ToolResult)
  | {
      type: "finish";
      row: number;
      reason: FinishReason;
      note?: string;
      /** The sampled token that closed the turn, and the top probabilities at that step. */
      stopToken?: number;
      top?: { id: number; prob: number }[];
    };

export interface EngineResult {
  /** Every reply token, sampled and forced, without the closing `<|im_end|>`. */
  tokens: number[];
  /** The reply as assistant content: tool spans and outputs as their special-token text. */
  text: string;
  reason: FinishReason;
  /** Said when the reply ended oddly (a tool span left open). */
  note?: string;
  toolCalls: number;
  /** The sampled token that closed the turn, if one did. */
  stopToken?: number;
}

export interface EngineOptions {
  /** Tool calls allowed per reply; a call beyond it gets an error as its output. Default 4. */
  maxToolCalls?: number;
  /** Tokens of a tool's output injected at most (longer output is cut, with a note). Default 96. */
  maxOutputTokens?: number;
}

interface Span {
  tool: string;
  end: number;
  /** Index in `tokens` of the first token after the span's start. */
  from: number;
}

/** One request being generated. */
class Row {
  readonly tokens: number[] = [];
  readonly context: number[];
  pending: number[];
  text = "";
  open: Span | null = null;
  toolCalls = 0;
  readonly rng: Rng;
  readonly utf8 = new TextDecoder("utf-8", { fatal: false });

  constructor(
    readonly id: number,
    readonly slot: number,
    readonly req: EngineRequest,
  ) {
    this.context = [...req.prompt];
    this.pending = [...req.prompt];
    this.rng = new Rng(req.seed ?? 0);
  }
}

export class Engine {
  readonly #dec: SlotDecoder;
  readonly #tok: Tokenizer;
  readonly #tools = new Map<number, { tool: Tool | null; name: string; end: number }>();
  readonly #o: Required<EngineOptions>;
  readonly #stops: Set<number>;
  readonly #imEnd: number;
  readonly #outStart: number | undefined;
  readonly #outEnd: number | undefined;
  readonly #spanEnds = new Set<number>();
  /** Special tokens the model may never write (all but the stops and the span tokens). */
  readonly #banned: number[] = [];
  #freeSlots: number[];
  #rows = new Map<number, Row>();
  #queue: { id: number; req: EngineRequest }[] = [];
  #nextId = 0;
  #listeners = new Map<number, (e: EngineEvent) => void>();

  constructor(
    decoder: SlotDecoder,
    tok: Tokenizer,
    tools: readonly Tool[] = [],
    o: EngineOptions = {},
  ) {
    this.#dec = decoder;
    this.#tok = tok;
    this.#o = { maxToolCalls: o.maxToolCalls ?? 4, maxOutputTokens: o.maxOutputTokens ?? 96 };
    this.#freeSlots = Array.from({ length: decoder.maxBatch }, (_, i) => decoder.maxBatch - 1 - i);
    const special = (s: string) => tok.specialTokens.get(s);
    this.#imEnd = tok.specialTokenId(CHAT_TOKENS.imEnd);
    this.#stops = new Set([this.#imEnd, tok.specialTokenId(CHAT_TOKENS.imStart)]);
    const eot = special("<|endoftext|>");
    if (eot !== undefined) this.#stops.add(eot);
    this.#outStart = special(CHAT_TOKENS.outputStart);
    this.#outEnd = special(CHAT_TOKENS.outputEnd);
    // every span the tokenizer has is known; a span without a tool answers with an error
    const spans = [
      { name: "python", start: CHAT_TOKENS.pythonStart, end: CHAT_TOKENS.pythonEnd },
      { name: "search", start: CHAT_TOKENS.searchStart, end: CHAT_TOKENS.searchEnd },
    ];
    for (const s of spans) {
      const a = special(s.start);
      const b = special(s.end);
      if (a === undefined || b === undefined) continue;
      const tool = tools.find((t) => t.spanStart === s.start) ?? null;
      this.#tools.set(a, { tool, name: tool?.name ?? s.name, end: b });
      this.#spanEnds.add(b);
    }
    for (const id of tok.specialTokens.values()) {
      if (!this.#stops.has(id) && !this.#tools.has(id) && !this.#spanEnds.has(id))
        this.#banned.push(id);
    }
  }

  /** Rows generating now and requests waiting for a slot. */
  get active(): number {
    return this.#rows.size;
  }
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues a request; it starts at the next step with a free slot. Returns its row id, which
   * every event of it carries. `onEvent` receives only this row's events.
   */
  submit(req: EngineRequest, onEvent?: (e: EngineEvent) => void): number {
    if (req.prompt.length === 0) throw new RangeError("engine: empty prompt");
    if (req.sampling) validateSampling(req.sampling);
    const id = this.#nextId++;
    if (onEvent) this.#listeners.set(id, onEvent);
    this.#queue.push({ id, req });
    return id;
  }

  /** Stops a row (queued or running); it finishes with reason "cancelled" at once. */
  cancel(id: number): EngineResult | null {
    const q = this.#queue.findIndex((r) => r.id === id);
    if (q >= 0) {
      this.#queue.splice(q, 1);
      this.#emit({ type: "finish", row: id, reason: "cancelled" });
      this.#listeners.delete(id);
      return { tokens: [], text: "", reason: "cancelled", toolCalls: 0 };
    }
    const row = this.#rows.get(id);
    return row ? this.#finish(row, "cancelled") : null;
  }

  /**
   * One decoding step for every active row (new rows' prompts are fed in the same pass).
   * Returns the results of the rows that finished in it.
   */
  step(): Map<number, EngineResult> {
    const done = new Map<number, EngineResult>();
    while (this.#queue.length > 0 && this.#freeSlots.length > 0) {
      const { id, req } = this.#queue.shift()!;
      const slot = this.#freeSlots.pop()!;
      this.#dec.clearSlot(slot);
      const row = new Row(id, slot, req);
      this.#rows.set(id, row);
      if (req.prompt.length >= this.#dec.contextLength) {
        const note = `the prompt has ${req.prompt.length} tokens and the context is ${this.#dec.contextLength}`;
        done.set(id, this.#finish(row, "context", note));
      }
    }
    const rows = [...this.#rows.values()].filter((r) => r.pending.length > 0);
    if (rows.length === 0) return done;
    const logits = this.#dec.feed(rows.map((r) => ({ slot: r.slot, ids: r.pending })));
    const V = logits.length / rows.length;
    rows.forEach((row, j) => {
      row.pending = [];
      const l = logits.subarray(j * V, (j + 1) * V);
      const result = this.#advance(row, l);
      if (result) done.set(row.id, result);
    });
    return done;
  }

  /** Runs requests to completion, batched (at most the decoder's maxBatch at a time). */
  generate(reqs: readonly EngineRequest[], onEvent?: (e: EngineEvent) => void): EngineResult[] {
    const ids = reqs.map((r) => this.submit(r, onEvent));
    const results = new Map<number, EngineResult>();
    while (results.size < ids.length) {
      for (const [id, r] of this.step()) results.set(id, r);
    }
    return ids.map((id) => results.get(id)!);
  }

  /** Samples the row's next token from its logits and acts on it; the result if it finished. */
  #advance(row: Row, logits: Float32Array): EngineResult | null {
    this.#mask(row, logits);
    const o = row.req.sampling ?? {};
    const k = row.req.topK ?? 0;
    const top = k > 0 ? topProbabilities(logits, k) : undefined;
    const id = sampleToken(logits, o, row.rng, o.repetitionPenalty ? row.context : undefined);
    const logprob = row.req.logprobs ? logSoftmaxAt(logits, id) : undefined;
    if (this.#stops.has(id)) {
      return this.#finish(row, "stop", row.open ? this.#openNote(row) : undefined, id, top);
    }
    this.#push(row, id, false, top, logprob);
    const span = this.#tools.get(id);
    if (span) row.open = { tool: span.name, end: span.end, from: row.tokens.length };
    row.pending = [id];
    if (row.open && id === row.open.end) {
      const forced = this.#runTool(row, row.open);
      row.open = null;
      for (const f of forced) this.#push(row, f, true);
      row.pending.push(...forced);
    }
    return this.#limits(row);
  }

  /**
   * The model writes ordinary tokens, the stops and span tokens only (output tokens are the
   * engine's; other special tokens would make the reply unrenderable); a span end only closes
   * the open span; spans do not nest.
   */
  #mask(row: Row, logits: Float32Array): void {
    const ban = (id: number) => {
      if (id < logits.length) logits[id] = Number.NEGATIVE_INFINITY;
    };
    for (const id of this.#banned) ban(id);
    for (let id = this.#tok.vocabSize; id < logits.length; id++) ban(id); // padded vocabulary
    for (const end of this.#spanEnds) if (!row.open || row.open.end !== end) ban(end);
    if (row.open) for (const start of this.#tools.keys()) ban(start);
  }

  /** The token limit and the context, counting what is pending (a forced output too). */
  #limits(row: Row): EngineResult | null {
    const ctx = this.#dec.contextLength;
    const used = this.#dec.slotPos[row.slot]! + row.pending.length;
    if (row.tokens.length >= row.req.maxNewTokens) {
      return this.#finish(row, "length", row.open ? this.#openNote(row) : undefined);
    }
    if (used >= ctx)
      return this.#finish(row, "context", row.open ? this.#openNote(row) : undefined);
    return null;
  }

  #openNote(row: Row): string {
    const start = [...this.#tools.entries()].find(([, s]) => s.end === row.open!.end)?.[0];
    const name = start === undefined ? "a tool span" : this.#tok.decode([start]);
    return `the reply ended inside ${name}: the tool call was never closed, so it did not run`;
  }

  /** Runs the span's tool on its text; returns the forced tokens `<|output_start|>…<|output_end|>`. */
  #runTool(row: Row, span: Span): number[] {
    const input = this.#tok.decode(row.tokens.slice(span.from, row.tokens.length - 1));
    const entry = [...this.#tools.values()].find((s) => s.end === span.end)!;
    this.#emit({ type: "tool-call", row: row.id, tool: span.tool, input });
    row.toolCalls++;
    let result: ToolResult;
    if (row.toolCalls > this.#o.maxToolCalls) {
      const n = this.#o.maxToolCalls;
      result = {
        ok: false,
        error: "limit",
        output: `error: tool call limit reached (${n} per reply)`,
      };
    } else if (!entry.tool) {
      result = {
        ok: false,
        error: "unavailable",
        output: `error: the ${span.tool} tool is not available here`,
      };
    } else {
      try {
        result = entry.tool.run(input);
      } catch (e) {
        // a tool must not throw; if one does, the model reads an error and the engine goes on
        result = {
          ok: false,
          error: "crash",
          output: `error: the tool failed (${(e as Error).message})`,
        };
      }
    }
    this.#emit({ type: "tool-result", row: row.id, tool: span.tool, ...result });
    if (this.#outStart === undefined || this.#outEnd === undefined) return [];
    let ids = this.#tok.encodeOrdinary(result.output);
    const max = this.#o.maxOutputTokens;
    if (ids.length > max) {
      const note = this.#tok.encodeOrdinary(" …(cut)");
      ids = [...ids.slice(0, Math.max(0, max - note.length)), ...note];
    }
    return [this.#outStart, ...ids, this.#outEnd];
  }

  #push(
    row: Row,
    id: number,
    forced: boolean,
    top?: { id: number; prob: number }[],
    logprob?: number,
  ): void {
    row.tokens.push(id);
    row.context.push(id);
    const text = row.utf8.decode(this.#tok.decodeBytes([id]), { stream: true });
    row.text += text;
    const e: EngineEvent = { type: "token", row: row.id, id, text, forced };
    if (top) e.top = top;
    if (logprob !== undefined) e.logprob = logprob;
    this.#emit(e);
  }

  #finish(
    row: Row,
    reason: FinishReason,
    note?: string,
    stopToken?: number,
    top?: { id: number; prob: number }[],
  ): EngineResult {
    row.text += row.utf8.decode();
    const r: EngineResult = {
      tokens: row.tokens,
      text: row.text,
      reason,
      toolCalls: row.toolCalls,
    };
    if (note) r.note = note;
    if (stopToken !== undefined) r.stopToken = stopToken;
    this.#rows.delete(row.id);
    this.#freeSlots.push(row.slot);
    const e: EngineEvent = { type: "finish", row: row.id, reason };
    if (note) e.note = note;
    if (stopToken !== undefined) e.stopToken = stopToken;
    if (top) e.top = top;
    this.#emit(e);
    this.#listeners.delete(row.id);
    return r;
  }

  #emit(e: EngineEvent): void {
    this.#listeners.get(e.row)?.(e);
  }
}

/** ln softmax(logits)[id], max-subtracted, summed in float64. */
function logSoftmaxAt(logits: Float32Array, id: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return logits[id]! - max - Math.log(sum);
}
