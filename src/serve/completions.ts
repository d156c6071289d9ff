/**
 * `POST /v1/completions`, the legacy text-completion API, for base models: the prompt (a
 * string, token ids, or a list of either) is continued as a document, with no chat rendering —
 * generation ends at `<|endoftext|>` (or a chat boundary token), `max_tokens`, the context, or a
 * stop string. Each prompt gets `n` choices, indexed prompt by prompt. `logprobs: k` gives the
 * legacy shape (tokens, token_logprobs, top_logprobs as {token: ln p}, text_offset); `echo`
 * prepends the prompt's text. An empty prompt starts from `<|endoftext|>`, as a new document.
 */
import type { Context } from "hono";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { generationFields, jsonBody, newId, type RouteContext, usageOf } from "./chat.js";
import { badRequest } from "./errors.js";
import { type ChoiceDelta, startGeneration, type TokenLogprob } from "./generation.js";
import { completionRequest, parseBody } from "./schemas.js";
import { sseResponse } from "./sse.js";

function legacyLogprobs(tok: Tokenizer, lps: readonly TokenLogprob[], offset: number) {
  const tokens = lps.map((l) => tok.decode([l.id]));
  const text_offset: number[] = [];
  let at = offset;
  for (const t of tokens) {
    text_offset.push(at);
    at += t.length;
  }
  return {
    tokens,
    token_logprobs: lps.map((l) => l.logprob),
    top_logprobs: lps.map((l) =>
      Object.fromEntries(l.top.map((t) => [tok.decode([t.id]), t.logprob])),
    ),
    text_offset,
  };
}

export async function completions(c: Context, rc: RouteContext): Promise<Response> {
  const req = parseBody(completionRequest, await jsonBody(c));
  const model = await rc.registry.get(req.model);
  const tok = model.tok;
  const raw = req.prompt;
  const list: (string | number[])[] =
    typeof raw === "string"
      ? [raw]
      : raw.length > 0 && typeof raw[0] === "number"
        ? [raw as number[]]
        : (raw as (string | number[])[]);
  const eot = tok.specialTokens.get("<|endoftext|>");
  const prompts = list.map((p, i) => {
    const param = list.length > 1 ? `prompt[${i}]` : "prompt";
    if (typeof p === "string") {
      const ids = tok.encodeOrdinary(p);
      if (ids.length > 0) return ids;
      if (eot === undefined) throw badRequest("the prompt is empty", param);
      return [eot];
    }
    const bad = p.find((id) => id >= tok.vocabSize);
    if (bad !== undefined) {
      throw badRequest(
        `token id ${bad} is not in ${model.info.id}'s vocabulary (0–${tok.vocabSize - 1})`,
        param,
      );
    }
    return p;
  });
  const longest = Math.max(...prompts.map((p) => p.length));
  const f = generationFields(req, req.max_tokens ?? 16, model, longest);
  const k = req.logprobs;
  const abort = new AbortController();
  c.req.raw.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  const spec = {
    prompts,
    n: f.n,
    seed: f.seed,
    maxTokens: f.maxTokens,
    sampling: f.sampling,
    stop: f.stop,
    topLogprobs: k ?? 0,
    logprobs: k !== undefined,
    timeoutMs: rc.timeoutMs,
    signal: abort.signal,
  };
  const promptTokens = prompts.reduce((a, p) => a + p.length, 0);
  const echoText = (i: number) => (req.echo ? tok.decode(prompts[Math.floor(i / f.n)]!) : "");
  const id = newId("cmpl");
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: "text_completion", created, model: model.info.id };

  if (!req.stream) {
    const results = await startGeneration(model, spec, rc.metrics).done;
    return c.json({
      ...base,
      system_fingerprint: null,
      choices: results.map((r) => {
        const echo = echoText(r.index);
        return {
          index: r.index,
          text: echo + r.text,
          logprobs: k === undefined ? null : legacyLogprobs(tok, r.logprobs, echo.length),
          finish_reason: r.finishReason,
        };
      }),
      usage: usageOf(promptTokens, results),
    });
  }

  const includeUsage = req.stream_options?.include_usage ?? false;
  const extra = includeUsage ? { usage: null } : {};
  const offsets = new Map<number, number>();
  const queued: ChoiceDelta[] = [];
  let send: ((d: ChoiceDelta) => void) | null = null;
  const gen = startGeneration(model, spec, rc.metrics, (d) => (send ? send(d) : queued.push(d)));
  const chunk = (index: number, text: string, logprobs: unknown, finish: string | null) => ({
    ...base,
    choices: [{ index, text, logprobs, finish_reason: finish }],
    ...extra,
  });
  return sseResponse(
    async (w) => {
      if (req.echo) {
        for (let i = 0; i < prompts.length * f.n; i++) {
          const e = echoText(i);
          offsets.set(i, e.length);
          w.send(chunk(i, e, null, null));
        }
      }
      send = (d) => {
        const at = offsets.get(d.index) ?? 0;
        offsets.set(d.index, at + d.text.length);
        w.send(
          chunk(
            d.index,
            d.text,
            k === undefined ? null : legacyLogprobs(tok, d.logprobs, at),
            null,
          ),
        );
      };
      for (const d of queued.splice(0)) send(d);
      const results = await gen.done;
      for (const r of results) w.send(chunk(r.index, "", null, r.finishReason));
      if (includeUsage) w.send({ ...base, choices: [], usage: usageOf(promptTokens, results) });
    },
    () => {
      abort.abort();
      gen.cancel();
    },
  );
}
