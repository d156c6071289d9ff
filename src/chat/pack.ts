/**
 * Packing rendered conversations into training rows for SFT.
 *
 * A row is a stretch of T+1 tokens: conversations laid end to end, then `padId` (`<|endoftext|>`)
 * to the end. Its inputs are the first T (x), its targets the last T shifted by one:
 * y[t] = s[t+1] where the mask of s[t+1] is 1, −1 (ignored) otherwise, padding included. So a
 * conversation of L ≤ T+1 tokens fits in a row, and its first token is only ever an input.
 *
 * No target crosses a conversation boundary: the token after a conversation is the next one's
 * `<|im_start|>` (mask 0) or padding, both −1. Attention does see the earlier conversations of the
 * same row (no per-document masking), as in nanochat's SFT.
 *
 * Placement is deterministic: "best-fit" (default) takes conversations longest first (ties in
 * input order) and puts each into the open row with the least room that still fits it, else a new
 * row; "greedy" keeps the input order and opens a new row when the next one does not fit. Rows
 * keep the order their conversations were placed in.
 */
import { UserError } from "../util/errors.js";
import type { RenderedConversation } from "./render.js";

export interface PackOptions {
  /** The id padding is made of (`<|endoftext|>`). */
  padId: number;
  /** Placement (see the file comment). Default "best-fit". */
  strategy?: "best-fit" | "greedy";
  /** Cut conversations longer than T+1 tokens to T+1 instead of failing. */
  truncate?: boolean;
  /** Names conversation i in errors (default "conversation i+1"). */
  where?: (i: number) => string;
}

export interface PackedConversations {
  /** rows × T inputs, row-major. */
  x: Int32Array;
  /** rows × T targets, −1 where nothing is trained. */
  y: Int32Array;
  rows: number;
  T: number;
  /** For each input conversation: its row and the offset of its first token in the row. */
  placement: { row: number; offset: number }[];
  /** Targets that are not −1. */
  trained: number;
  /** Conversations cut to T+1 tokens (only with `truncate`). */
  truncated: number;
}

/** Packs `rendered` into rows of T inputs (see the file comment). */
export function packConversations(
  rendered: readonly RenderedConversation[],
  T: number,
  opts: PackOptions,
): PackedConversations {
  if (!Number.isInteger(T) || T < 1) throw new UserError(`packing: bad row length T=${T}`);
  const cap = T + 1;
  const name = opts.where ?? ((i: number) => `conversation ${i + 1}`);
  const lengths = rendered.map((r, i) => {
    if (r.ids.length !== r.mask.length) {
      throw new Error(`${name(i)}: ${r.ids.length} ids but ${r.mask.length} mask entries`);
    }
    if (r.ids.length > cap && !opts.truncate) {
      throw new UserError(
        `${name(i)}: ${r.ids.length} tokens, ${r.ids.length - cap} more than a row holds (T+1 = ${cap})`,
        "drop or shorten it, raise the context length, or truncate (--truncate)",
      );
    }
    return Math.min(r.ids.length, cap);
  });
  const truncated = rendered.filter((r) => r.ids.length > cap).length;

  // Placement: row contents as lists of conversation indices.
  const rows: number[][] = [];
  const used: number[] = [];
  if ((opts.strategy ?? "best-fit") === "greedy") {
    lengths.forEach((L, i) => {
      if (L === 0) return;
      const r = rows.length - 1;
      if (r >= 0 && used[r]! + L <= cap) {
        rows[r]!.push(i);
        used[r]! += L;
      } else {
        rows.push([i]);
        used.push(L);
      }
    });
  } else {
    // byRoom[k]: open rows with exactly k free slots, in the order they reached it.
    const byRoom: number[][] = Array.from({ length: cap + 1 }, () => []);
    const order = lengths.map((_, i) => i).filter((i) => lengths[i]! > 0);
    order.sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    for (const i of order) {
      const L = lengths[i]!;
      let room = L;
      while (room <= cap && byRoom[room]!.length === 0) room++;
      let r: number;
      if (room <= cap) r = byRoom[room]!.shift()!;
      else {
        r = rows.length;
        rows.push([]);
        used.push(0);
        room = cap;
      }
      rows[r]!.push(i);
      used[r]! += L;
      if (room - L > 0) byRoom[room - L]!.push(r);
    }
  }

  const n = rows.length;
  const x = new Int32Array(n * T);
  const y = new Int32Array(n * T).fill(-1);
  const placement: { row: number; offset: number }[] = rendered.map(() => ({
    row: -1,
    offset: -1,
  }));
  const seq = new Int32Array(cap);
  const m = new Uint8Array(cap);
  let trained = 0;
  rows.forEach((list, r) => {
    seq.fill(opts.padId);
    m.fill(0);
    let o = 0;
    for (const i of list) {
      const { ids, mask } = rendered[i]!;
      const L = lengths[i]!;
      placement[i] = { row: r, offset: o };
      for (let k = 0; k < L; k++) {
        seq[o + k] = ids[k]!;
        m[o + k] = mask[k]!;
      }
      o += L;
    }
    const base = r * T;
    for (let t = 0; t < T; t++) {
      x[base + t] = seq[t]!;
      if (m[t + 1]) {
        y[base + t] = seq[t + 1]!;
        trained++;
      }
    }
  });
  return { x, y, rows: n, T, placement, trained, truncated };
}
