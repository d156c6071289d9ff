/** Packing: exact rows, the mask carried over exactly, no target across a boundary, placement. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { seededUniform } from "../model/io/random-model.js";
import { UserError } from "../util/errors.js";
import type { Message } from "./conversation.js";
import { packConversations } from "./pack.js";
import { type RenderedConversation, renderConversation } from "./render.js";
import { chatTestTokenizer } from "./test-tokenizer.js";

const PAD = 99;
const conv = (ids: number[], mask: number[]): RenderedConversation => ({
  ids,
  mask: Uint8Array.from(mask),
});

test("exact rows: inputs, shifted targets where the mask is 1, padding -1", () => {
  // Two conversations in one row of T = 8 (9 slots); 1 = <|im_start|> (mask 0).
  const a = conv([1, 10, 11, 12], [0, 0, 1, 1]);
  const b = conv([1, 20, 21], [0, 1, 0]);
  const p = packConversations([a, b], 8, { padId: PAD });
  assert.equal(p.rows, 1);
  assert.deepEqual([...p.x], [1, 10, 11, 12, 1, 20, 21, PAD]);
  assert.deepEqual([...p.y], [-1, 11, 12, -1, 20, -1, -1, -1]);
  assert.equal(p.trained, 3);
  assert.deepEqual(p.placement, [
    { row: 0, offset: 0 },
    { row: 0, offset: 4 },
  ]);
});

test("a conversation of exactly T+1 tokens fills a row; its last token is only a target", () => {
  const p = packConversations([conv([1, 2, 3, 4], [0, 1, 1, 1])], 3, { padId: PAD });
  assert.deepEqual([...p.x], [1, 2, 3]);
  assert.deepEqual([...p.y], [2, 3, 4]);
});

/** The targets the mask says, rebuilt from the placement independently of the packer. */
function expectedTargets(
  rs: RenderedConversation[],
  T: number,
  p: ReturnType<typeof packConversations>,
) {
  const y = new Int32Array(p.rows * T).fill(-1);
  const x = new Int32Array(p.rows * T).fill(PAD);
  rs.forEach((r, i) => {
    const { row, offset } = p.placement[i]!;
    for (let k = 0; k < r.ids.length; k++) {
      const t = offset + k;
      if (t < T) x[row * T + t] = r.ids[k]!;
      if (k > 0 && r.mask[k]) y[row * T + t - 1] = r.ids[k]!;
    }
  });
  return { x, y };
}

function randomConversations(n: number, maxLen: number, seed: number): RenderedConversation[] {
  const rnd = seededUniform(seed);
  return Array.from({ length: n }, () => {
    const L = 1 + Math.floor(rnd() * maxLen);
    const ids = Array.from({ length: L }, (_, k) => (k === 0 ? 1 : 2 + Math.floor(rnd() * 50)));
    const mask = ids.map((_, k) => (k === 0 ? 0 : rnd() < 0.5 ? 1 : 0));
    return conv(ids, mask);
  });
}

test("the mask survives packing exactly (both strategies, many random conversations)", () => {
  for (const strategy of ["best-fit", "greedy"] as const) {
    const T = 32;
    const rs = randomConversations(300, T + 1, 5);
    const p = packConversations(rs, T, { padId: PAD, strategy });
    const want = expectedTargets(rs, T, p);
    assert.deepEqual(p.y, want.y, strategy);
    assert.deepEqual(p.x, want.x, strategy);
    // Trained targets = mask-1 tokens after each conversation's first position.
    let sum = 0;
    for (const r of rs) for (let k = 1; k < r.mask.length; k++) sum += r.mask[k]!;
    assert.equal(p.trained, sum);
    assert.equal(p.y.filter((v) => v >= 0).length, sum);
    // Every conversation placed once, without overlap, inside its row.
    const used = new Map<number, number>();
    rs.forEach((r, i) => {
      const { row, offset } = p.placement[i]!;
      assert.ok(row >= 0 && offset + r.ids.length <= T + 1);
      used.set(row, (used.get(row) ?? 0) + r.ids.length);
    });
    for (const n of used.values()) assert.ok(n <= T + 1);
  }
});

test("no target crosses a conversation boundary (real renderings)", () => {
  const tok = chatTestTokenizer();
  const u = (content: string): Message => ({ role: "user", content });
  const a = (content: string): Message => ({ role: "assistant", content });
  const rs = [
    renderConversation(tok, { messages: [u("Hi"), a("Hello!")] }),
    renderConversation(tok, { messages: [u("What is 2+2?"), a("4"), u("And 3+3?"), a("6")] }),
    renderConversation(tok, {
      messages: [u("2+2?"), a("<|python_start|>2+2<|python_end|><|output_start|>4<|output_end|>4")],
    }),
  ];
  const imStart = tok.specialTokenId("<|im_start|>");
  const pad = tok.specialTokenId("<|endoftext|>");
  for (const r of rs) assert.deepEqual([r.ids[0], r.mask[0]], [imStart, 0]);
  const T = 40;
  const p = packConversations(rs, T, { padId: pad });
  assert.deepEqual(p.y, expectedTargets(rs, T, p).y);
  rs.forEach((r, i) => {
    const { row, offset } = p.placement[i]!;
    const last = offset + r.ids.length - 1; // input position whose target is the next conversation
    if (last < T) assert.equal(p.y[row * T + last], -1);
    // The conversation's final <|im_end|> is trained, predicted from the token before it.
    assert.equal(p.y[row * T + last - 1], tok.specialTokenId("<|im_end|>"));
  });
  for (let t = 0; t < p.x.length; t++) if (p.x[t] === pad) assert.equal(p.y[t], -1);
});

test("best-fit: longest first into the fullest row that fits; deterministic", () => {
  const len = (n: number) => conv([1, ...Array(n - 1).fill(5)], [0, ...Array(n - 1).fill(1)]);
  const rs = [len(2), len(5), len(3), len(4), len(2)];
  const p = packConversations(rs, 6, { padId: PAD }); // 7 slots a row
  // 5 → row 0; 4 → row 1; 3 → row 1 (full); 2 → row 0 (full); 2 → row 2.
  assert.equal(p.rows, 3);
  assert.deepEqual(
    p.placement.map((q) => [q.row, q.offset]),
    [
      [0, 5],
      [0, 0],
      [1, 4],
      [1, 0],
      [2, 0],
    ],
  );
  assert.deepEqual(packConversations(rs, 6, { padId: PAD }), p);
  const g = packConversations(rs, 6, { padId: PAD, strategy: "greedy" });
  assert.deepEqual(
    g.placement.map((q) => q.row),
    [0, 0, 1, 1, 2],
  );
});

test("too long: an error naming the conversation and the excess, or truncation", () => {
  const long = conv([1, 2, 3, 4, 5, 6], [0, 1, 1, 1, 1, 1]);
  assert.throws(
    () => packConversations([conv([1, 2], [0, 1]), long], 4, { padId: PAD }),
    (e: unknown) =>
      e instanceof UserError &&
      e.message === "conversation 2: 6 tokens, 1 more than a row holds (T+1 = 5)",
  );
  assert.throws(
    () => packConversations([long], 4, { padId: PAD, where: (i) => `sft.jsonl:${i + 3}` }),
    /sft\.jsonl:3: 6 tokens/,
  );
  const p = packConversations([long], 4, { padId: PAD, truncate: true });
  assert.equal(p.truncated, 1);
  assert.deepEqual([...p.x], [1, 2, 3, 4]);
  assert.deepEqual([...p.y], [2, 3, 4, 5]);
});
