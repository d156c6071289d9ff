import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { renderPrompt } from "../chat/render.js";
import { createModel } from "../model/factory.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizer } from "../tokenizer/train.js";
import { ChatSession, requireChatTokens } from "./chat-session.js";
import { createDecoder } from "./decoder.js";

let dir: string;
let tok: Tokenizer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "chatforge-session-"));
  await writeFile(join(dir, "t.txt"), "Tell me about the sea and the ships on it. ".repeat(40));
  tok = await trainTokenizer({ inputs: [join(dir, "t.txt")], vocabSize: 300, quiet: true });
});
after(() => rm(dir, { recursive: true, force: true }));

function session(system?: string) {
  const cfg: ModelConfig = {
    family: "gpt2",
    vocabSize: tok.vocabSize,
    nCtx: 64,
    nEmbd: 16,
    nLayer: 1,
    nHead: 2,
    nInner: 64,
    eps: 1e-5,
  };
  const dec = createDecoder(createModel(cfg, 2), cfg);
  return new ChatSession(dec, tok, { maxNewTokens: 8, temperature: 0, system, probsK: 3 });
}

test("a reply joins the history; the prompt is the rendered history; /probs has one row per token", () => {
  const s = session("Be brief.");
  const r = s.send("Tell me about the sea.");
  assert.deepEqual(
    r.promptIds,
    renderPrompt(tok, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Tell me about the sea." },
    ]),
  );
  assert.equal(s.messages.length, 2);
  assert.equal(s.messages[1]!.role, "assistant");
  assert.equal(s.messages[1]!.content, r.text);
  // one row per sampled token; a stop token other than <|im_end|> is sampled but not kept
  // one row per sampled token, and one for the sampled stop token (not kept unless <|im_end|>)
  const sampled = r.ended ? r.tokens : [...r.tokens, r.probs.at(-1)!.id];
  assert.deepEqual(
    r.probs.map((p) => p.id),
    r.reason === "stop" ? sampled : r.tokens,
  );
  assert.ok(r.probs.every((p) => p.top.length === 3));
  s.reset();
  assert.equal(s.messages.length, 0);
});

test("when the history outgrows the context the oldest exchanges go, the system prompt stays", () => {
  const s = session("Be brief.");
  let dropped = 0;
  for (let i = 0; i < 6; i++) {
    const r = s.send(`Tell me about the ships on the sea, number ${i}.`);
    dropped += r.dropped;
    assert.ok(r.promptIds.length < 64, "the prompt fits the context");
    assert.equal(r.promptIds[0], tok.specialTokenId("<|im_start|>"));
  }
  assert.ok(dropped > 0, "something was dropped");
  assert.equal(s.messages[0]!.role, "user", "history starts with a user turn");
  assert.match(s.messages.at(-2)!.content, /number 5/);
  assert.throws(
    () => s.send("sea ".repeat(100)),
    /the message is too long: the prompt is \d+ tokens/,
  );
});

test("a tokenizer without the chat tokens is refused by name", async () => {
  const plain = await trainTokenizer({
    inputs: [join(dir, "t.txt")],
    vocabSize: 280,
    specialTokens: ["<|endoftext|>"],
    quiet: true,
  });
  assert.throws(
    () => requireChatTokens(plain, "tok/"),
    /tok\/ has no chat special tokens \(<\|im_start\|>/,
  );
  requireChatTokens(tok, "tok/");
});
