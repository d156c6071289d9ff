import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CHAT_TOKENS } from "../chat/conversation.js";
import { renderConversation, renderPrompt } from "../chat/render.js";
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { createCodeTool } from "../tools/code.js";
import type { Tool } from "../tools/tool.js";
import { createDecoder, type SlotDecoder } from "./decoder.js";
import { Engine, type EngineEvent, type EngineRequest } from "./engine.js";
import type { FeedPart } from "./kv-cache.js";

let dir: string;
let tok: Tokenizer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "chatforge-engine-"));
  await writeFile(
    join(dir, "t.txt"),
    "Count the apples: 1+2 is 3, and the sea is blue. ".repeat(40),
  );
  tok = await trainTokenizer({ inputs: [join(dir, "t.txt")], vocabSize: 300, quiet: true });
});
after(() => rm(dir, { recursive: true, force: true }));

function realDecoder(maxBatch: number): SlotDecoder {
  const cfg: ModelConfig = {
    family: "gpt2",
    vocabSize: tok.vocabSize,
    nCtx: 96,
    nEmbd: 16,
    nLayer: 2,
    nHead: 2,
    nInner: 64,
    eps: 1e-5,
  };
  return createDecoder(createModel(cfg, 3), cfg, maxBatch);
}

/**
 * A real (random) model whose logits get a large bias toward a script per prompt, so rows write
 * tool calls: the script's k-th token is favoured after k tokens the model wrote itself (forced
 * outputs are skipped). The bias depends only on the row's own history, so batching cannot change it.
 */
class Scripted implements SlotDecoder {
  readonly #hist: number[][];
  constructor(
    readonly inner: SlotDecoder,
    readonly scripts: Map<string, number[]>,
  ) {
    this.#hist = Array.from({ length: inner.maxBatch }, () => []);
  }
  get maxBatch() {
    return this.inner.maxBatch;
  }
  get slotPos() {
    return this.inner.slotPos;
  }
  get contextLength() {
    return this.inner.contextLength;
  }
  get pos() {
    return this.inner.pos;
  }
  reset() {
    this.inner.reset();
    for (const h of this.#hist) h.length = 0;
  }
  step(): Float32Array {
    throw new Error("not used");
  }
  clearSlot(slot: number) {
    this.inner.clearSlot(slot);
    this.#hist[slot]!.length = 0;
  }
  feed(parts: readonly FeedPart[]): Float32Array {
    const logits = this.inner.feed(parts);
    const V = logits.length / parts.length;
    const sep = tok.specialTokenId(CHAT_TOKENS.imSep);
    const os = tok.specialTokenId(CHAT_TOKENS.outputStart);
    const oe = tok.specialTokenId(CHAT_TOKENS.outputEnd);
    parts.forEach((p, j) => {
      const h = this.#hist[p.slot]!;
      h.push(...Array.from(p.ids));
      const replyFrom = h.lastIndexOf(sep) + 1;
      const key = h.slice(0, replyFrom).join(",");
      const script = this.scripts.get(key);
      if (!script) return;
      let written = 0;
      let inOutput = false;
      for (const id of h.slice(replyFrom)) {
        if (id === os) inOutput = true;
        else if (id === oe) inOutput = false;
        else if (!inOutput) written++;
      }
      const want = script[written];
      if (want !== undefined) logits[j * V + want]! += 30;
    });
    return logits;
  }
}

const ids = (s: string) => tok.encode(s, { allowedSpecial: "all" });

describe("engine", () => {
  const calls: string[] = [];
  const python: Tool = {
    name: "python",
    spanStart: CHAT_TOKENS.pythonStart,
    spanEnd: CHAT_TOKENS.pythonEnd,
    run(input) {
      calls.push(input);
      if (input.includes("sea")) throw new Error("the tool broke");
      return { ok: true, output: `len ${input.length}` };
    },
  };
  const prompt = (text: string) => renderPrompt(tok, [{ role: "user", content: text }]);
  const scripts = () => {
    const m = new Map<string, number[]>();
    const add = (p: number[], reply: string) => m.set(p.join(","), ids(reply));
    add(prompt("a"), "<|python_start|>1+2<|python_end|> is 3<|im_end|>");
    add(prompt("b"), "the sea is blue<|im_end|>");
    add(prompt("c"), "<|python_start|>the sea<|python_end|> broke?<|im_end|>");
    add(prompt("d"), "<|search_start|>apples<|search_end|> no<|im_end|>");
    add(
      prompt("e"),
      "<|python_start|>1<|python_end|><|python_start|>2<|python_end|><|python_start|>3<|python_end|> done<|im_end|>",
    );
    add(prompt("f"), "<|python_start|>1+2 1+2 1+2 1+2 1+2 1+2 1+2 1+2 1+2 1+2 1+2 1+2");
    return m;
  };
  const requests = (): EngineRequest[] =>
    ["a", "b", "c", "d", "e", "f", "g", "Count the apples"].map((t, i) => ({
      prompt: prompt(t),
      maxNewTokens: 24,
      seed: 100 + i,
      sampling: { temperature: 1 },
      topK: 3,
    }));

  test("8 rows, some calling tools, batched 4 at a time, give each row its tokens alone", () => {
    const batched = new Engine(new Scripted(realDecoder(4), scripts()), tok, [python], {
      maxToolCalls: 2,
    });
    const events: EngineEvent[] = [];
    const all = batched.generate(requests(), (e) => events.push(e));
    const single = new Engine(new Scripted(realDecoder(1), scripts()), tok, [python], {
      maxToolCalls: 2,
    });
    requests().forEach((req, i) => {
      const [alone] = single.generate([req]);
      assert.deepEqual(all[i]!.tokens, alone!.tokens, `row ${i}`);
      assert.equal(all[i]!.reason, alone!.reason);
    });
    const [a, b, c, d, e, f] = all;
    assert.equal(
      a!.text,
      "<|python_start|>1+2<|python_end|><|output_start|>len 3<|output_end|> is 3",
    );
    assert.equal(a!.reason, "stop");
    assert.equal(b!.text, "the sea is blue");
    assert.equal(b!.toolCalls, 0);
    // a tool that throws: the model reads an error; the other rows are untouched (checked above)
    assert.match(
      c!.text,
      /<\|output_start\|>error: the tool failed \(the tool broke\)<\|output_end\|>/,
    );
    assert.match(
      d!.text,
      /<\|output_start\|>error: the search tool is not available here<\|output_end\|>/,
    );
    assert.match(
      e!.text,
      /<\|output_start\|>error: tool call limit reached \(2 per reply\)<\|output_end\|>/,
    );
    assert.equal(e!.toolCalls, 3);
    assert.equal(f!.reason, "length");
    assert.match(f!.note ?? "", /never closed/);
    // every finished reply renders back as assistant content (spans closed, outputs masked)
    for (const r of [a, b, c, d, e]) {
      const conv = {
        messages: [
          { role: "user", content: "x" },
          { role: "assistant", content: r!.text },
        ],
      };
      renderConversation(tok, conv as never);
    }
    // events: forced tokens marked, sampled ones carry top-k, one finish per row
    const forced = events.filter((x) => x.type === "token" && x.forced);
    assert.ok(forced.length > 0);
    assert.ok(events.every((x) => x.type !== "token" || x.forced || x.top?.length === 3));
    assert.equal(events.filter((x) => x.type === "finish").length, 8);
    const toolEvents = events.filter((x) => x.type === "tool-result" && x.row === 0);
    assert.deepEqual(
      toolEvents.map((x) => x.type === "tool-result" && x.output),
      ["len 3"],
    );
  });

  test("the model never samples output tokens; a row joining a running batch gets its own result", () => {
    const engine = new Engine(realDecoder(2), tok, [python]);
    const first = engine.submit({
      prompt: prompt("b"),
      maxNewTokens: 40,
      seed: 1,
      sampling: { temperature: 2 },
    });
    const got = new Map<number, { tokens: number[] }>();
    for (let i = 0; i < 3; i++) for (const [id, r] of engine.step()) got.set(id, r);
    const second = engine.submit({
      prompt: prompt("a"),
      maxNewTokens: 40,
      seed: 2,
      sampling: { temperature: 2 },
    });
    while (got.size < 2) for (const [id, r] of engine.step()) got.set(id, r);
    const [alone] = new Engine(realDecoder(1), tok, [python]).generate([
      { prompt: prompt("a"), maxNewTokens: 40, seed: 2, sampling: { temperature: 2 } },
    ]);
    assert.deepEqual(got.get(second)!.tokens, alone!.tokens);
    const os = tok.specialTokenId(CHAT_TOKENS.outputStart);
    assert.ok(!got.get(first)!.tokens.includes(os));
  });

  test("logprobs: a greedy token's log-probability is that of the top alternative", () => {
    const engine = new Engine(realDecoder(1), tok, []);
    const events: EngineEvent[] = [];
    engine.generate(
      [
        {
          prompt: prompt("b"),
          maxNewTokens: 5,
          sampling: { temperature: 0 },
          topK: 2,
          logprobs: true,
        },
      ],
      (e) => events.push(e),
    );
    const tokens = events.filter((e) => e.type === "token");
    assert.ok(tokens.length > 0);
    for (const e of tokens) {
      if (e.type !== "token") continue;
      assert.equal(e.top![0]!.id, e.id);
      assert.ok(Math.abs(e.logprob! - Math.log(e.top![0]!.prob)) < 1e-6);
    }
  });

  test("the real code tool: a row whose code loops forever or exhausts memory leaves the others as they are", async () => {
    const code = await createCodeTool({ timeMs: 300 });
    try {
      const m = new Map<string, number[]>();
      const add = (p: string, reply: string) => m.set(prompt(p).join(","), ids(reply));
      add("x", "<|python_start|>while (true) {}<|python_end|> ok<|im_end|>");
      add("y", "<|python_start|>2 * 3<|python_end|> six<|im_end|>");
      add("z", "<|python_start|>'x'.repeat(2 ** 28)<|python_end|> big<|im_end|>");
      const reqs = ["x", "y", "z", "b"].map((t, i) => ({
        prompt: prompt(t),
        maxNewTokens: 24,
        seed: 7 + i,
        sampling: { temperature: 1 },
      }));
      const out = new Engine(new Scripted(realDecoder(4), m), tok, [code]).generate(reqs);
      assert.match(out[0]!.text, /<\|output_start\|>Error: timed out after 0\.3 s<\|output_end\|>/);
      assert.match(out[1]!.text, /<\|output_start\|>6<\|output_end\|>/);
      assert.match(
        out[2]!.text,
        /<\|output_start\|>Error: out of memory \(limit 32 MiB\)<\|output_end\|>/,
      );
      const single = new Engine(new Scripted(realDecoder(1), m), tok, [code]);
      for (const [i, req] of reqs.entries())
        assert.deepEqual(single.generate([req])[0]!.tokens, out[i]!.tokens, `row ${i}`);
      const t0 = performance.now();
      const [next] = single.generate([reqs[1]!]);
      assert.deepEqual(next!.tokens, out[1]!.tokens);
      assert.ok(performance.now() - t0 < 1000, "the next request is served within a second");
    } finally {
      code.dispose?.();
    }
  });

  test("cancel frees the slot at once", () => {
    const engine = new Engine(realDecoder(1), tok, []);
    const a = engine.submit({
      prompt: prompt("a"),
      maxNewTokens: 50,
      sampling: { temperature: 1 },
    });
    const b = engine.submit({ prompt: prompt("b"), maxNewTokens: 3, sampling: { temperature: 1 } });
    engine.step();
    assert.equal(engine.queued, 1);
    assert.equal(engine.cancel(a)?.reason, "cancelled");
    let done = engine.step();
    while (!done.has(b)) done = engine.step();
    assert.equal(engine.active, 0);
  });
});
