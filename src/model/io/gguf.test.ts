import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Tokenizer } from "../../tokenizer/index.js";
import { UserError } from "../../util/errors.js";
import { GgmlType, GgufType, ggufTensorF32, kv, parseGguf, serializeGguf } from "./gguf.js";
import { buildGguf, exportGguf, importGguf } from "./gguf-export.js";
import { buildGgufVocab, byteToUnicode, readGgufVocab } from "./gguf-tokenizer.js";
import type { ModelConfig } from "./hf-config.js";
import { randomWeights } from "./random-model.js";
import { ropePermute, transpose2d } from "./tensor-names.js";

test("gguf: every byte of a small file", () => {
  const md = new Map([
    ["general.architecture", kv.str("gpt2")],
    ["general.alignment", kv.u32(32)],
    ["a.list", kv.strings(["x", "yz"])],
  ]);
  const bytes = serializeGguf(md, [
    { name: "w", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]), type: GgmlType.F32 },
    { name: "h", shape: [2], data: new Float32Array([1, -2]), type: GgmlType.F16 },
  ]);
  const b = Buffer.from(bytes);
  let p = 0;
  const u32 = () => {
    const v = b.readUInt32LE(p);
    p += 4;
    return v;
  };
  const u64 = () => {
    const v = Number(b.readBigUInt64LE(p));
    p += 8;
    return v;
  };
  const str = () => {
    const n = u64();
    const s = b.toString("utf8", p, p + n);
    p += n;
    return s;
  };
  assert.equal(b.toString("latin1", 0, 4), "GGUF");
  p = 4;
  assert.equal(u32(), 3); // version
  assert.equal(u64(), 2); // tensors
  assert.equal(u64(), 3); // kvs
  assert.equal(str(), "general.architecture");
  assert.equal(u32(), GgufType.STRING);
  assert.equal(str(), "gpt2");
  assert.equal(str(), "general.alignment");
  assert.equal(u32(), GgufType.UINT32);
  assert.equal(u32(), 32);
  assert.equal(str(), "a.list");
  assert.equal(u32(), GgufType.ARRAY);
  assert.equal(u32(), GgufType.STRING);
  assert.equal(u64(), 2);
  assert.equal(str(), "x");
  assert.equal(str(), "yz");
  // tensor infos: dims reversed (ne[0] = columns)
  assert.equal(str(), "w");
  assert.equal(u32(), 2);
  assert.deepEqual([u64(), u64()], [3, 2]);
  assert.equal(u32(), GgmlType.F32);
  assert.equal(u64(), 0);
  assert.equal(str(), "h");
  assert.equal(u32(), 1);
  assert.equal(u64(), 2);
  assert.equal(u32(), GgmlType.F16);
  assert.equal(u64(), 32); // 24 bytes of w, padded to 32
  const dataStart = Math.ceil(p / 32) * 32;
  assert.ok(b.subarray(p, dataStart).every((x) => x === 0));
  assert.deepEqual(
    [...new Float32Array(b.buffer.slice(b.byteOffset + dataStart, b.byteOffset + dataStart + 24))],
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual([...b.subarray(dataStart + 32, dataStart + 36)], [0x00, 0x3c, 0x00, 0xc0]);
  assert.equal(b.length, dataStart + 64); // each tensor padded to 32, the last one too

  const f = parseGguf(bytes);
  assert.equal(f.version, 3);
  assert.deepEqual(f.metadata.get("a.list"), kv.strings(["x", "yz"]));
  assert.deepEqual(f.tensors[0]!.shape, [2, 3]);
  assert.deepEqual(f.tensors[0]!.ne, [3, 2]);
  assert.deepEqual([...ggufTensorF32(f.tensors[1]!)], [1, -2]);
});

test("gguf: truncated and foreign files give UserErrors", () => {
  const bytes = serializeGguf(new Map([["k", kv.u32(1)]]), [
    { name: "w", shape: [4], data: new Float32Array(4), type: GgmlType.F32 },
  ]);
  for (const cut of [3, 20, 40, bytes.length - 20]) {
    assert.throws(
      () => parseGguf(bytes.subarray(0, cut), "m.gguf"),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /^m\.gguf: /);
        return true;
      },
    );
  }
  const wrong = Uint8Array.from(bytes);
  wrong[0] = 0x47 + 1;
  assert.throws(() => parseGguf(wrong), /does not start with "GGUF"/);
});

test("gguf: RoPE permutation and transpose invert, and the permutation interleaves halves", () => {
  // One head of size 4, two columns: HF rows [r0 r1 | r2 r3] → GGUF rows [r0 r2 r1 r3].
  const t = { shape: [4, 2], data: new Float32Array([0, 0, 1, 1, 2, 2, 3, 3]) };
  assert.deepEqual([...ropePermute(t, 1).data], [0, 0, 2, 2, 1, 1, 3, 3]);
  const big = { shape: [12, 5], data: new Float32Array(60).map((_, i) => i) };
  assert.deepEqual(ropePermute(ropePermute(big, 3), 3, true), big);
  assert.deepEqual(transpose2d(transpose2d(big)), big);
});

test("gguf tokenizer: merges recovered from r50k ranks are GPT-2's merges.txt", () => {
  const tok = Tokenizer.fromTiktoken("r50k_base");
  const v = buildGgufVocab(tok);
  assert.equal(v.tokens.length, 50257);
  assert.equal(v.merges.length, 50000); // 50,256 ranked tokens − 256 bytes
  assert.deepEqual(v.unreachable, []);
  // The first lines of GPT-2's merges.txt (Ġ is the byte map's space).
  assert.deepEqual(v.merges.slice(0, 7), ["Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he"]);
  assert.equal(v.tokens[50256], "<|endoftext|>");
  assert.equal(v.tokenTypes[50256], 3);
  assert.equal(v.tokens[tok.encodeOrdinary(" hello")[0]!], "Ġhello");
  const b2u = byteToUnicode();
  assert.equal(b2u[32], "Ġ");
  assert.equal(b2u[10], "Ċ");
  assert.equal(new Set(b2u).size, 256);
});

test("gguf: model export → import gives back config, weights and vocabulary", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cf-gguf-"));
  try {
    const tok = Tokenizer.fromTiktoken("r50k_base");
    const configs: ModelConfig[] = [
      {
        family: "gpt2",
        vocabSize: 50257,
        nCtx: 16,
        nEmbd: 8,
        nLayer: 2,
        nHead: 2,
        nInner: 32,
        eps: 1e-5,
        eosTokenId: 50256,
        bosTokenId: 50256,
      },
      {
        family: "llama",
        vocabSize: 50304,
        nCtx: 16,
        nEmbd: 8,
        nLayer: 2,
        nHead: 2,
        nKvHead: 1,
        nInner: 24,
        eps: 1e-6,
        ropeTheta: 10000,
        tieWordEmbeddings: false,
        eosTokenId: 50256,
        bosTokenId: 50256,
      },
    ];
    for (const cfg of configs) {
      const weights = randomWeights(cfg, 3);
      const path = join(dir, `${cfg.family}.gguf`);
      await exportGguf(path, cfg, weights, tok);
      const back = await importGguf(path);
      assert.deepEqual(back.config, cfg);
      assert.deepEqual([...back.weights.keys()].sort(), [...weights.keys()].sort());
      for (const [name, t] of weights) assert.deepEqual(back.weights.get(name), t, name);
      assert.equal(back.vocab.pre, "gpt-2");
      assert.equal(back.vocab.tokens.length, cfg.vocabSize);
      for (const id of [0, 300, 50255]) assert.deepEqual(back.vocab.tokens[id], tok.tokenBytes(id));
      assert.equal(back.vocab.tokens[50257], undefined); // padding rows of the llama config
      assert.deepEqual(back.vocab.specialTokens, { "<|endoftext|>": 50256 });
      // f16: 2-D weights as F16 within half precision, 1-D kept F32.
      const { tensors } = buildGguf(cfg, weights, tok, { dtype: "f16" });
      for (const t of tensors)
        assert.equal(t.type, t.shape.length === 2 ? GgmlType.F16 : GgmlType.F32);
    }
    assert.deepEqual((await readdir(dir)).sort(), ["gpt2.gguf", "llama.gguf"]);
    const v = readGgufVocab((await importGguf(join(dir, "gpt2.gguf"))).file.metadata);
    assert.equal(v.merges[0], "Ġ t");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
