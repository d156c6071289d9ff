/**
 * The HTTP API against a real runs/ folder holding a tiny random model (these tests are about the
 * server, not the replies): routes and errors through `app.request()`, and chat completions
 * through a listening server and the real `openai` client (streamed and not, n, logprobs, stop,
 * seeds, error classes, shared decoding steps, disconnects, 429).
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { createApp, type ServeApp } from "./app.js";
import { type RunningServer, startServer } from "./server.js";
import { StopMatcher } from "./stop.js";
import { makeTestRuns } from "./test-runs.js";

let runs: string;
let tok: Tokenizer;
const MODEL = "t/sft";

before(async () => {
  ({ root: runs, tok } = await makeTestRuns({
    prefix: "chatforge-serve-",
    text: "Hello there. I am a small model and I like to chat about words. ",
    nCtx: 512,
  }));
});
after(() => rm(runs, { recursive: true, force: true }));

const post = (s: ServeApp, path: string, body: unknown, headers: Record<string, string> = {}) =>
  s.app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

// biome-ignore lint/suspicious/noExplicitAny: response bodies checked field by field
const json = (r: Response): Promise<any> => r.json();

const user = (content: string) => [{ role: "user" as const, content }];

test("stop strings: cut at the first match, across chunks; text that may start one is held", () => {
  const m = new StopMatcher(["END", "xy"]);
  assert.equal(m.push("abc E"), "abc ");
  assert.equal(m.push("N"), "");
  assert.equal(m.push("Dzzz"), "");
  assert.ok(m.stopped);
  const k = new StopMatcher(["END"]);
  assert.equal(k.push("aE"), "a");
  assert.equal(k.push("b"), "Eb");
  assert.equal(k.push("EN"), "");
  assert.equal(k.flush(), "EN");
  assert.equal(k.released, 5);
});

describe("routes and errors (app.request)", () => {
  let s: ServeApp;
  before(() => {
    s = createApp({ runs: ["t"], runsRoot: runs, maxBodyBytes: 500_000, maxMessages: 100 });
  });
  after(() => s.close());

  test("models, health, tokenize and detokenize", async () => {
    const models = await json(await s.app.request("/v1/models"));
    assert.equal(models.object, "list");
    assert.deepEqual(
      models.data.map((m: { id: string }) => m.id),
      ["t/pretrain", "t/sft"],
    );
    assert.equal(models.data[0].object, "model");
    assert.equal(typeof models.data[0].created, "number");
    assert.equal((await json(await s.app.request("/v1/models/t/sft"))).id, "t/sft");
    const h = await s.app.request("/health");
    assert.equal(h.status, 200);
    assert.equal((await json(h)).status, "ok");
    const t = await json(await post(s, "/tokenize", { content: "Hello there" }));
    assert.deepEqual(t.tokens, tok.encodeOrdinary("Hello there"));
    const d = await json(await post(s, "/detokenize", { tokens: t.tokens, model: MODEL }));
    assert.equal(d.content, "Hello there");
    const p = await json(await post(s, "/tokenize", { content: "Hi", with_pieces: true }));
    assert.equal(p.tokens.map((x: { piece: string }) => x.piece).join(""), "Hi");
    const pre = await s.app.request("/v1/chat/completions", {
      method: "OPTIONS",
      headers: { origin: "http://x.test", "access-control-request-method": "POST" },
    });
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  });

  test("a chat completion and a text completion, not streamed", async () => {
    const r = await post(s, "/v1/chat/completions", {
      model: MODEL,
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hello" }] },
      ],
      max_tokens: 5,
      temperature: 0,
      some_unknown_field: { ignored: true },
    });
    assert.equal(r.status, 200);
    const j = await json(r);
    assert.match(j.id, /^chatcmpl-/);
    assert.equal(j.object, "chat.completion");
    assert.equal(j.choices[0].message.role, "assistant");
    assert.ok(["stop", "length"].includes(j.choices[0].finish_reason));
    assert.ok(j.usage.completion_tokens <= 5);
    const c = await json(
      await post(s, "/v1/completions", {
        model: "t/pretrain",
        prompt: ["Hello", tok.encodeOrdinary("I am")],
        max_tokens: 4,
        n: 2,
        logprobs: 2,
        echo: true,
      }),
    );
    assert.equal(c.object, "text_completion");
    assert.equal(c.choices.length, 4);
    assert.ok(c.choices[0].text.startsWith("Hello"));
    assert.ok(c.choices[2].text.startsWith("I am"));
    assert.equal(c.choices[0].logprobs.tokens.length, c.choices[0].logprobs.token_logprobs.length);
  });

  test("bad input is a 4xx in OpenAI's shape, with the field named", async () => {
    const expect = async (res: Response, status: number, param: string | null, code?: string) => {
      assert.equal(res.status, status);
      const j = (await res.json()) as {
        error: { message: string; param: string | null; code: string | null };
      };
      assert.equal(typeof j.error.message, "string");
      assert.ok(j.error.message.length > 10, j.error.message);
      assert.equal(j.error.param, param, j.error.message);
      if (code) assert.equal(j.error.code, code);
      assert.doesNotMatch(JSON.stringify(j), /\bat .*\.js:\d+/, "no stack trace");
      return j.error.message;
    };
    const chat = (body: unknown) => post(s, "/v1/chat/completions", body);
    await expect(await chat("{not json"), 400, null, "invalid_json");
    await expect(await chat("[1]"), 400, null);
    await expect(await chat({ messages: user("hi") }), 400, "model");
    await expect(
      await chat({ model: "t/nope", messages: user("hi") }),
      404,
      "model",
      "model_not_found",
    );
    await expect(
      await chat({ model: MODEL, messages: user("hi"), temperature: 5 }),
      400,
      "temperature",
    );
    await expect(
      await chat({ model: MODEL, messages: user("hi"), top_logprobs: 30, logprobs: true }),
      400,
      "top_logprobs",
    );
    await expect(
      await chat({ model: MODEL, messages: user("hi"), top_logprobs: 3 }),
      400,
      "top_logprobs",
    );
    await expect(
      await chat({ model: MODEL, messages: user("hi"), stop: ["a", "b", "c", "d", "e"] }),
      400,
      "stop",
    );
    await expect(await chat({ model: MODEL, messages: user("hi"), n: 0 }), 400, "n");
    await expect(
      await chat({ model: MODEL, messages: [{ role: "robot", content: "x" }] }),
      400,
      "messages[0].role",
    );
    await expect(
      await chat({ model: MODEL, messages: [{ role: "user", content: 3 }] }),
      400,
      "messages[0].content",
    );
    await expect(await chat({ model: MODEL, messages: [] }), 400, "messages");
    // turn order comes from src/chat's checks
    const order = await expect(
      await chat({ model: MODEL, messages: [{ role: "assistant", content: "x" }] }),
      400,
      "messages",
    );
    assert.match(order, /cannot come at the start/);
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      role: i % 2 ? "assistant" : "user",
      content: "hi",
    }));
    assert.match(
      await expect(await chat({ model: MODEL, messages: many }), 400, "messages"),
      /limit of 100/,
    );
    const big = await expect(
      await chat({ model: MODEL, messages: user("x".repeat(600_000)) }),
      413,
      null,
      "request_too_large",
    );
    assert.match(big, /500000 bytes/);
    const long = await expect(
      await chat({ model: MODEL, messages: user("words about the sea ".repeat(200)) }),
      400,
      "messages",
      "context_length_exceeded",
    );
    assert.match(long, /context is 512 tokens/);
    await expect(
      await post(s, "/v1/completions", { model: "t/pretrain", prompt: [99999] }),
      400,
      "prompt",
    );
    await expect(await post(s, "/detokenize", { tokens: ["a"] }), 400, "tokens[0]");
    await expect(await s.app.request("/v2/nothing"), 404, null, "not_found");
    // the server still answers
    assert.equal((await s.app.request("/health")).status, 200);
  });

  test("--api-key: Bearer required everywhere but /health", async () => {
    const k = createApp({ runs: ["t"], runsRoot: runs, apiKey: "sekret" });
    const none = await k.app.request("/v1/models");
    assert.equal(none.status, 401);
    assert.equal(
      ((await none.json()) as { error: { code: string } }).error.code,
      "invalid_api_key",
    );
    const wrong = await k.app.request("/v1/models", { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    const ok = await k.app.request("/v1/models", { headers: { authorization: "Bearer sekret" } });
    assert.equal(ok.status, 200);
    assert.equal((await k.app.request("/health")).status, 200);
    await k.close();
  });
});

describe("the openai client against a listening server", () => {
  let srv: RunningServer;
  let client: OpenAI;
  before(async () => {
    srv = await startServer({
      runs: ["t"],
      runsRoot: runs,
      port: 0,
      batch: 4,
      queue: 4,
      apiKey: "k",
    });
    client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "k", maxRetries: 0 });
  });
  after(() => srv.close());

  const metric = async (name: string) => {
    const text = await (
      await fetch(`${srv.url}/metrics`, { headers: { authorization: "Bearer k" } })
    ).text();
    let sum = 0;
    for (const line of text.split("\n"))
      if (line.startsWith(name)) sum += Number(line.split(" ").at(-1));
    return { sum, text };
  };

  test("models.list, a completion, a stream (with usage), the stream helper, n = 2", async () => {
    const list = await client.models.list();
    assert.deepEqual(
      list.data.map((m) => m.id),
      ["t/pretrain", "t/sft"],
    );
    const r = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 6,
      temperature: 0,
    });
    assert.equal(r.object, "chat.completion");
    const text = r.choices[0]!.message.content!;
    let streamed = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    let first = true;
    let finish: string | null = null;
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 6,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      if (chunk.usage) usage = chunk.usage;
      const c = chunk.choices[0];
      if (!c) continue;
      if (first) assert.equal(c.delta.role, "assistant");
      first = false;
      streamed += c.delta.content ?? "";
      if (c.finish_reason) finish = c.finish_reason;
    }
    assert.equal(streamed, text, "streamed = not streamed (greedy)");
    assert.equal(finish, r.choices[0]!.finish_reason);
    assert.deepEqual(usage, r.usage);
    const helper = client.chat.completions.stream({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 6,
      temperature: 0,
    });
    const final = await helper.finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, text);
    const two = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 8,
      n: 2,
      seed: 5,
    });
    assert.deepEqual(
      two.choices.map((c) => c.index),
      [0, 1],
    );
  });

  test("seeds reproduce; max_tokens gives finish_reason length; logprobs with top_logprobs", async () => {
    const ask = (seed: number) =>
      client.chat.completions.create({
        model: MODEL,
        messages: user("Tell me"),
        max_tokens: 10,
        seed,
        temperature: 1,
        logprobs: true,
        top_logprobs: 3,
      });
    const a = await ask(7);
    const b = await ask(7);
    const c = await ask(8);
    assert.equal(a.choices[0]!.message.content, b.choices[0]!.message.content);
    assert.notEqual(a.choices[0]!.message.content, c.choices[0]!.message.content);
    const lp = a.choices[0]!.logprobs!.content!;
    assert.ok(lp.length > 0);
    for (const t of lp) {
      assert.ok(t.logprob <= 0);
      assert.equal(t.top_logprobs.length, 3);
      assert.ok(t.top_logprobs[0]!.logprob >= t.top_logprobs[2]!.logprob);
    }
    if (a.choices[0]!.finish_reason === "length") assert.equal(a.usage!.completion_tokens, 10);
    const short = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_completion_tokens: 2,
      temperature: 0,
    });
    assert.equal(short.choices[0]!.finish_reason, "length");
    assert.equal(short.usage!.completion_tokens, 2);
  });

  test("stop: the reply is cut before the stop string, streamed or not", async () => {
    const base = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 30,
      temperature: 0,
    });
    const full = base.choices[0]!.message.content!;
    assert.ok(full.length >= 8, `a reply long enough to cut: ${JSON.stringify(full)}`);
    const stop = full.slice(4, 6);
    const want = full.slice(0, full.indexOf(stop));
    const cut = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 30,
      temperature: 0,
      stop: [stop, "never-there"],
    });
    assert.equal(cut.choices[0]!.message.content, want);
    assert.equal(cut.choices[0]!.finish_reason, "stop");
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 30,
      temperature: 0,
      stop,
      stream: true,
    });
    let text = "";
    let finish: string | null = null;
    for await (const ch of stream) {
      text += ch.choices[0]?.delta.content ?? "";
      finish = ch.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, want);
    assert.equal(finish, "stop");
  });

  test("errors surface as the client's error classes", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "t/none", messages: user("hi") }),
      (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === "model_not_found",
    );
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, messages: user("hi"), temperature: -1 }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === "temperature",
    );
    const bad = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(
      bad.models.list(),
      (e) =>
        e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === "invalid_api_key",
    );
  });

  test("two concurrent requests share decoding steps", async () => {
    const before = (await metric("chatforge_shared_decode_steps_total")).sum;
    const one = () =>
      client.chat.completions.create({
        model: MODEL,
        messages: user("Hello"),
        max_tokens: 60,
        temperature: 0,
      });
    const [a, b] = await Promise.all([one(), one()]);
    assert.equal(a.choices[0]!.message.content, b.choices[0]!.message.content);
    const shared = (await metric("chatforge_shared_decode_steps_total")).sum - before;
    assert.ok(shared >= 10, `${shared} shared steps`);
  });

  test("a client that disconnects cancels its generation; the server answers the next request", async () => {
    const before = await metric('chatforge_rows_finished_total{model="t/sft",reason="cancelled"}');
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 480,
      temperature: 0,
      stream: true,
    });
    let chunks = 0;
    for await (const ch of stream) {
      if (ch.choices[0]?.delta.content) chunks++;
      if (chunks === 3) break; // leaving the loop aborts the request
    }
    let cancelled = 0;
    for (let i = 0; i < 50 && cancelled === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      cancelled =
        (await metric('chatforge_rows_finished_total{model="t/sft",reason="cancelled"}')).sum -
        before.sum;
    }
    assert.equal(cancelled, 1);
    const again = await client.chat.completions.create({
      model: MODEL,
      messages: user("Hello"),
      max_tokens: 3,
    });
    assert.equal(again.choices.length, 1);
  });

  test("429 with retry-after when the batch and the queue are full", async () => {
    const s = await startServer({ runs: ["t"], runsRoot: runs, port: 0, batch: 1, queue: 1 });
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "x", maxRetries: 0 });
    try {
      const long = () =>
        c.chat.completions.create({
          model: MODEL,
          messages: user("Hello"),
          max_tokens: 480,
          temperature: 0,
          stream: true,
        });
      const a = await long();
      const b = await long();
      await assert.rejects(long(), (e) => {
        assert.ok(e instanceof OpenAI.RateLimitError);
        assert.equal(e.status, 429);
        assert.equal(e.headers?.get("retry-after"), "1");
        return true;
      });
      a.controller.abort();
      b.controller.abort();
    } finally {
      await s.close();
    }
  });
});
