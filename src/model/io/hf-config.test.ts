import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../util/errors.js";
import { type ModelConfig, parseHfConfig, toHfConfig } from "./hf-config.js";

/** The config.json of the released 124M GPT-2 (openai-community/gpt2), abridged to what matters. */
const GPT2_124M = {
  activation_function: "gelu_new",
  architectures: ["GPT2LMHeadModel"],
  attn_pdrop: 0.1,
  bos_token_id: 50256,
  embd_pdrop: 0.1,
  eos_token_id: 50256,
  initializer_range: 0.02,
  layer_norm_epsilon: 1e-5,
  model_type: "gpt2",
  n_ctx: 1024,
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  resid_pdrop: 0.1,
  vocab_size: 50257,
};

/** A TinyLlama-style config (GQA 32/4). */
const LLAMA = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  hidden_act: "silu",
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  rope_scaling: null,
  tie_word_embeddings: false,
  vocab_size: 32000,
  bos_token_id: 1,
  eos_token_id: 2,
};

test("config.json: GPT-2 124M parses to our fields", () => {
  assert.deepEqual(parseHfConfig(GPT2_124M), {
    family: "gpt2",
    vocabSize: 50257,
    nCtx: 1024,
    nEmbd: 768,
    nLayer: 12,
    nHead: 12,
    nInner: 3072,
    eps: 1e-5,
    bosTokenId: 50256,
    eosTokenId: 50256,
  });
});

test("config.json: Llama parses, GQA kept", () => {
  const c = parseHfConfig(LLAMA);
  assert.equal(c.family, "llama");
  if (c.family !== "llama") return;
  assert.equal(c.nKvHead, 4);
  assert.equal(c.nInner, 5632);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.tieWordEmbeddings, false);
});

test("config.json: both directions round-trip", () => {
  for (const src of [GPT2_124M, LLAMA]) {
    const c = parseHfConfig(src);
    const again = parseHfConfig(JSON.parse(JSON.stringify(toHfConfig(c))));
    assert.deepEqual(again, c);
  }
  const small: ModelConfig = {
    family: "gpt2",
    vocabSize: 300,
    nCtx: 64,
    nEmbd: 32,
    nLayer: 2,
    nHead: 4,
    nInner: 96,
    eps: 1e-5,
  };
  assert.equal(toHfConfig(small).n_inner, 96);
  assert.deepEqual(parseHfConfig(toHfConfig(small)), small);
});

test("config.json: errors name the bad field", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...GPT2_124M, n_head: 7 }, /"n_head" \(7\) must divide n_embd \(768\)/],
    [{ ...GPT2_124M, n_embd: "768" }, /"n_embd" must be an integer/],
    [{ ...GPT2_124M, activation_function: "relu" }, /"activation_function" is "relu"/],
    [{ ...GPT2_124M, tie_word_embeddings: false }, /"tie_word_embeddings" is false/],
    [{ ...GPT2_124M, vocab_size: undefined }, /"vocab_size" is missing/],
    [{ ...GPT2_124M, layer_norm_epsilon: -1 }, /"layer_norm_epsilon" must be a positive number/],
    [{ ...LLAMA, num_key_value_heads: 5 }, /"num_key_value_heads" \(5\) must divide/],
    [{ ...LLAMA, rope_scaling: { type: "linear", factor: 2 } }, /"rope_scaling"/],
    [{ ...LLAMA, hidden_act: "gelu" }, /"hidden_act" is "gelu"/],
    [{ ...LLAMA, head_dim: 128 }, /"head_dim" is 128/],
    [{ ...LLAMA, attention_bias: true }, /"attention_bias" is true/],
    [{ architectures: ["BertModel"] }, /"architectures" is \["BertModel"\]/],
  ];
  for (const [json, re] of cases) {
    assert.throws(
      () => parseHfConfig(json, "ckpt/config.json"),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /^ckpt\/config\.json: /);
        assert.match(e.message, re);
        return true;
      },
    );
  }
});
