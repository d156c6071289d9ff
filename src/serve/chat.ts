/**
 * `POST /v1/chat/completions`, OpenAI's contract (DESIGN.md §4). The messages are rendered by
 * src/chat (developer = system; content as a string or a list of text parts; roles and turn order
 * checked, a 400 naming the message otherwise) and the reply generated until the model closes its
 * turn. Not streamed: one `chat.completion`. Streamed: `chat.completion.chunk`s — per choice a
 * first delta with `role: "assistant"`, content deltas, and a last one with `delta: {}` and its
 * `finish_reason`; with `stream_options.include_usage` every chunk has `usage: null` and one more
 * chunk with `choices: []` carries the usage; then `[DONE]`.
 *
 * Tool calls the engine ran inside the reply are in `message.content` as special-token text: the
 * span the model wrote and the output the engine forced, e.g.
 * `<|python_start|>2+2<|python_end|><|output_start|>4<|output_end|>The answer is 4.` — not as
 * OpenAI `tool_calls` (the model runs its tools itself; there is nothing for the client to run),
 * and sending such content back in an assistant message renders to the same tokens.
 *
 * Continuing a partial reply (as vLLM's field of that name): with `continue_final_message: true`
 * the last message must be an assistant message, and the prompt is the conversation with that turn
 * left open — its content rendered as usual, but no `<|im_end|>` after it — so the model goes on
 * from there; the reply carries only the new text. The web page branches a reply from a token
 * this way. Its tool spans must be closed (a prefix ending inside `<|python_start|>…` is a 400).
 */
import { randomBytes } from "node:crypto";
import type { Context } from "hono";
import { z } from "zod";
import type { Message } from "../chat/conversation.js";
import { renderMessages, renderPrompt } from "../chat/render.js";
import { messageFromJson } from "../chat/validate.js";
import { requireChatTokens } from "../infer/chat-session.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { badRequest, toApiError } from "./errors.js";
import {
  type ChoiceDelta,
  type ChoiceResult,
  startGeneration,
  type TokenLogprob,
} from "./generation.js";
import type { Metrics } from "./metrics.js";
import type { LoadedModel, ModelRegistry } from "./models.js";
import { type ChatRequest, chatRequest, parseBody } from "./schemas.js";
import { sseResponse } from "./sse.js";

export interface RouteContext {
  registry: ModelRegistry;
  metrics: Metrics;
  /** Messages per request at most. */
  maxMessages: number;
  timeoutMs: number;
}

/** The JSON body, whatever the content type says (curl -d sends form encoding). */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(
      `the request body is not valid JSON (${(e as Error).message})`,
      null,
      "invalid_json",
    );
  }
}

export const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;

/** Sampling fields → the engine's options, seed, stop strings, and max_tokens within the context. */
export function generationFields(
  r: {
    temperature?: number;
    top_p?: number;
    top_k?: number;
    min_p?: number;
    repetition_penalty?: number;
    n?: number;
    seed?: number;
    stop?: string | string[];
  },
  maxTokens: number | undefined,
  model: LoadedModel,
  promptLength: number,
) {
  const ctx = model.contextLength;
  if (promptLength >= ctx) {
    throw badRequest(
      `the prompt is ${promptLength} tokens and ${model.info.id}'s context is ${ctx} tokens, so ` +
        "there is no room for a reply: shorten the prompt (drop old messages)",
      "messages",
      "context_length_exceeded",
    );
  }
  const n = r.n ?? 1;
  const capacity = model.scheduler.o.batch + model.scheduler.o.queue;
  if (n > capacity)
    throw badRequest(`n is ${n} but this server runs at most ${capacity} rows per model`, "n");
  return {
    n,
    seed: r.seed ?? Math.floor(Math.random() * 2 ** 32),
    maxTokens: Math.min(maxTokens ?? ctx, ctx - promptLength),
    stop: r.stop === undefined ? [] : typeof r.stop === "string" ? [r.stop] : r.stop,
    sampling: {
      temperature: r.temperature ?? 1,
      topP: r.top_p ?? 1,
      topK: r.top_k ?? 0,
      minP: r.min_p ?? 0,
      repetitionPenalty: r.repetition_penalty ?? 1,
    },
  };
}

/** A token as OpenAI's logprobs show it: its text, ln p, and its UTF-8 bytes. */
function tokenInfo(tok: Tokenizer, id: number, logprob: number) {
  return { token: tok.decode([id]), logprob, bytes: Array.from(tok.decodeBytes([id])) };
}

export function chatLogprobs(tok: Tokenizer, lps: readonly TokenLogprob[]) {
  return {
    content: lps.map((l) => ({
      ...tokenInfo(tok, l.id, l.logprob),
      top_logprobs: l.top.map((t) => tokenInfo(tok, t.id, t.logprob)),
    })),
    refusal: null,
  };
}

export function usageOf(promptTokens: number, results: readonly ChoiceResult[]) {
  const completion = results.reduce((a, r) => a + r.tokens, 0);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
  };
}

/** The chat request plus `continue_final_message` (see the file comment). */
export const chatRequestWithContinue = chatRequest.extend({
  continue_final_message: z
    .boolean()
    .nullish()
    .transform((v) => v ?? undefined),
});

/**
 * The prompt ids of `messages`: the turns so far plus an open assistant turn, or, with
 * `continueFinal`, the conversation up to its final assistant message left open.
 */
export function chatPromptIds(
  tok: Tokenizer,
  messages: readonly Message[],
  continueFinal: boolean,
): number[] {
  if (!continueFinal) return renderPrompt(tok, messages, { where: "messages" });
  const last = messages.at(-1);
  if (last?.role !== "assistant") {
    throw badRequest(
      `continue_final_message needs the last message to be an assistant message, not ${last?.role ?? "none"}`,
      "continue_final_message",
    );
  }
  const { ids } = renderMessages(tok, messages, "any", { where: "messages" });
  ids.pop(); // the <|im_end|> closing the final assistant turn
  return ids;
}

export async function chatCompletions(c: Context, rc: RouteContext): Promise<Response> {
  const req: ChatRequest & { continue_final_message?: boolean } = parseBody(
    chatRequestWithContinue,
    await jsonBody(c),
  );
  if (req.messages.length > rc.maxMessages) {
    throw badRequest(
      `${req.messages.length} messages, more than this server's limit of ${rc.maxMessages}: drop old ones`,
      "messages",
    );
  }
  if (req.top_logprobs !== undefined && req.top_logprobs > 0 && !req.logprobs) {
    throw badRequest("top_logprobs needs logprobs: true", "top_logprobs");
  }
  const model = await rc.registry.get(req.model);
  const tok = model.tok;
  let prompt: number[];
  try {
    requireChatTokens(tok, `${model.info.run}'s tokenizer`);
    const messages = req.messages.map((m, i) => messageFromJson(m, `messages[${i}]`));
    prompt = chatPromptIds(tok, messages, req.continue_final_message ?? false);
  } catch (e) {
    throw toApiError(e, "messages");
  }
  const f = generationFields(
    req,
    req.max_completion_tokens ?? req.max_tokens,
    model,
    prompt.length,
  );
  const id = newId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "chat.completion.chunk", created, model: model.info.id };
  const logprobs = req.logprobs ?? false;
  const abort = new AbortController();
  c.req.raw.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  const spec = {
    prompts: [prompt],
    n: f.n,
    seed: f.seed,
    maxTokens: f.maxTokens,
    sampling: f.sampling,
    stop: f.stop,
    topLogprobs: req.top_logprobs ?? 0,
    logprobs,
    timeoutMs: rc.timeoutMs,
    signal: abort.signal,
  };

  if (!req.stream) {
    const results = await startGeneration(model, spec, rc.metrics).done;
    return c.json({
      id,
      object: "chat.completion",
      created,
      model: model.info.id,
      system_fingerprint: null,
      choices: results.map((r) => ({
        index: r.index,
        message: { role: "assistant", content: r.text, refusal: null },
        logprobs: logprobs ? chatLogprobs(tok, r.logprobs) : null,
        finish_reason: r.finishReason,
      })),
      usage: usageOf(prompt.length, results),
    });
  }

  const includeUsage = req.stream_options?.include_usage ?? false;
  const extra = includeUsage ? { usage: null } : {};
  const queued: ChoiceDelta[] = [];
  let send: ((d: ChoiceDelta) => void) | null = null;
  // admission happens before the 200, so a full queue is still a 429
  const gen = startGeneration(model, spec, rc.metrics, (d) => (send ? send(d) : queued.push(d)));
  return sseResponse(
    async (w) => {
      for (let i = 0; i < f.n; i++) {
        w.send({
          ...base,
          system_fingerprint: null,
          choices: [
            {
              index: i,
              delta: { role: "assistant", content: "" },
              logprobs: null,
              finish_reason: null,
            },
          ],
          ...extra,
        });
      }
      send = (d) =>
        w.send({
          ...base,
          system_fingerprint: null,
          choices: [
            {
              index: d.index,
              delta: { content: d.text },
              logprobs: logprobs ? chatLogprobs(tok, d.logprobs) : null,
              finish_reason: null,
            },
          ],
          ...extra,
        });
      for (const d of queued.splice(0)) send(d);
      const results = await gen.done;
      for (const r of results) {
        w.send({
          ...base,
          system_fingerprint: null,
          choices: [{ index: r.index, delta: {}, logprobs: null, finish_reason: r.finishReason }],
          ...extra,
        });
      }
      if (includeUsage) {
        w.send({
          ...base,
          system_fingerprint: null,
          choices: [],
          usage: usageOf(prompt.length, results),
        });
      }
    },
    () => {
      abort.abort();
      gen.cancel();
    },
  );
}
