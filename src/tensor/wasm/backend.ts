/**
 * The WebAssembly side of the compute core:
 * - `initCompute()` loads the SIMD kernels and the worker pool, then installs the fast
 *   (SIMD, multi-threaded) versions of the row-wise kernels for float32 data — for every
 *   backend, since they are what runs around the matmuls — and registers the `wasm` matmul
 *   backend (our own packed sgemm, split over the threads by row strips).
 * - Without `initCompute()` the core still works, with plain loops around the matmuls.
 */

import { type FusedAttention, setCachedAttention, setFusedAttention } from "../attention.js";
import { type HeadGrads, type Heads, savedFloats, scratchFloats } from "../attention-heads.js";
import {
  type Backend,
  defaultThreads,
  getBackend,
  registerBackend,
  setBackend,
  threadCount,
} from "../backend.js";
import { type Blas, loadBlas, type SgemmFn } from "../blas.js";
import { fastKernels, jsKernels } from "../kernels.js";
import { alloc, inMemory, persistent, release, scope, setZeroFill } from "../memory.js";
import type { Data } from "../tensor.js";
import { KernelPool } from "./pool.js";

let pool: KernelPool | null = null;
let initError = "";

const f32 = (...xs: (Data | null)[]) =>
  xs.every((x) => x === null || (x instanceof Float32Array && inMemory(x)));
const p = (x: Data) => x.byteOffset;

/**
 * Loads the WebAssembly kernels and starts `threads - 1` workers (default: CHATFORGE_THREADS or
 * the CPU count). Safe to call more than once. Returns a one-line description.
 */
export async function initCompute(threads = defaultThreads()): Promise<string> {
  if (!pool || pool.threads !== threads) {
    try {
      // stop the old workers first: the quit signal goes through the shared control block
      await pool?.close();
      pool = await KernelPool.create(threads);
    } catch (e) {
      initError = (e as Error).message;
      if (!pool) return `wasm kernels unavailable (${initError}); plain loops`;
    }
    install(pool);
    if (getBackend().name === "wasm") setBackend("wasm", threads);
  }
  return `${getBackend().description}; kernels: wasm simd${pool.relaxed ? " (relaxed fma)" : ""}, ${threadCount(pool.threads)}`;
}

/**
 * Installs the SIMD kernels on the calling thread only (no workers), synchronously. The ops
 * module calls this on import, so the core is fast even where nobody awaits initCompute();
 * initCompute() then adds the worker threads. Does nothing if the .wasm files are missing.
 */
export function initComputeSync(): void {
  if (pool) return;
  try {
    pool = KernelPool.createSync(1);
    install(pool);
  } catch (e) {
    initError = (e as Error).message;
  }
}

/** The kernel pool, if initCompute() succeeded. */
export function kernelPool(): KernelPool | null {
  return pool;
}

/** Scores of the decoding attention, one row of nCtx per (sequence, head); grown as needed. */
let scoreScratch: Float32Array | null = null;

function install(k: KernelPool): void {
  const js = jsKernels;
  registerBackend("wasm", (threads) => ({
    name: "wasm",
    description: `wasm (simd${k.relaxed ? " + relaxed fma" : ""}, ${threadCount(Math.min(threads, k.threads))})`,
    sgemm: makeSgemm(k),
    threads: k.threads,
  }));
  // Work per thread below which a job stays on this thread: waking a sleeping worker costs
  // tens of µs here (measured: a decode step's 8192-element gelu took 100 µs on two threads
  // against 10 µs on one), so a share must be worth more than that.
  const E = 32768; // elements
  const R = 128; // rows of a layer norm
  fastKernels.add = (a, b, y, n) =>
    f32(a, b, y) ? k.run("add", [p(a), p(b), p(y)], n, 16, E) : js.add(a, b, y, n);
  fastKernels.addBias = (x, bias, y, rows, C) =>
    f32(x, bias, y)
      ? k.run("add_bias", [x ? p(x) : 0, p(bias), p(y), C], rows, 1, Math.ceil(E / C))
      : js.addBias(x, bias, y, rows, C);
  fastKernels.sumSquares = (x, n) =>
    f32(x)
      ? (k.exports.sumsq as unknown as (...a: number[]) => number)(p(x), 0, n)
      : js.sumSquares(x, n);
  fastKernels.expSum = (x, y, n, shift, scale) =>
    f32(x, y)
      ? (k.exports.exp_sum as unknown as (...a: number[]) => number)(p(x), p(y), shift, scale, 0, n)
      : js.expSum(x, y, n, shift, scale);
  fastKernels.sampleRows = (x, ld, rows, V, scale, u, e, out) => {
    if (!f32(x, e)) return js.sampleRows(x, ld, rows, V, scale, u, e, out);
    scope(() => {
      const ub = alloc(3 * rows); // float64 u, then int32 picks, in the shared memory
      const uf = new Float64Array(ub.buffer, ub.byteOffset, rows);
      const picks = new Int32Array(ub.buffer, ub.byteOffset + 8 * rows, rows);
      uf.set(u);
      const args = [p(x), ld, V, scale, uf.byteOffset, picks.byteOffset, p(e)];
      k.run("sample_rows", args, rows, 1, k.awake() ? 1 : rows);
      out.set(picks.subarray(0, rows));
    });
  };
  fastKernels.scaleInPlace = (x, s, n) =>
    f32(x) ? k.run("scale", [p(x), s], n, 16, E) : js.scaleInPlace(x, s, n);
  // one thread: split over two (by rows into partial sums, or by columns) it measured slower
  // here, 0.73 against 0.63 ms for 4096 rows of 1024
  fastKernels.colSumAdd = (x, out, rows, C) =>
    f32(x, out) ? k.exports.colsum!(p(x), p(out), C, 0, rows) : js.colSumAdd(x, out, rows, C);
  fastKernels.geluFwd = (x, y, n, s) => {
    if (!f32(x, y, s ?? null)) js.geluFwd(x, y, n, s);
    else if (s) k.run("gelu_fwd_s", [p(x), p(y), p(s)], n, 16, E);
    else k.run("gelu_fwd", [p(x), p(y)], n, 16, E);
  };
  fastKernels.geluBwd = (x, dy, dx, n, accumulate = true, s) => {
    const set = accumulate ? "" : "_set";
    if (!f32(x, dy, dx, s ?? null)) js.geluBwd(x, dy, dx, n, accumulate, s);
    else if (s) k.run(`gelu_bwd_s${set}`, [p(x), p(s), p(dy), p(dx)], n, 16, E);
    else k.run(`gelu_bwd${set}`, [p(x), p(dy), p(dx)], n, 16, E);
  };
  fastKernels.softmaxFwd = (x, y, rows, C, scale, T, row0 = 0) =>
    f32(x, y)
      ? k.run("softmax_fwd", [p(x), p(y), C, scale, T, row0], rows, 1, Math.ceil(E / C))
      : js.softmaxFwd(x, y, rows, C, scale, T, row0);
  fastKernels.softmaxBwd = (y, dy, dx, rows, C, scale, T = 0, row0 = 0) =>
    f32(y, dy, dx)
      ? k.run("softmax_bwd", [p(y), p(dy), p(dx), C, scale, T, row0], rows, 1, Math.ceil(E / C))
      : js.softmaxBwd(y, dy, dx, rows, C, scale, T, row0);
  fastKernels.layerNormFwd = (x, w, b, y, mean, rstd, rows, C, eps) =>
    b && C % 4 === 0 && f32(x, w, b, y, mean, rstd)
      ? k.run("ln_fwd", [p(x), p(w), p(b), p(y), p(mean), p(rstd), C, eps], rows, 1, R)
      : js.layerNormFwd(x, w, b, y, mean, rstd, rows, C, eps);
  fastKernels.layerNormBwd = (dy, x, w, mean, rstd, dx, dw, db, rows, C) => {
    if (!(C % 4 === 0 && f32(dy, x, w, mean, rstd, dx, dw, db) && dw && db)) {
      js.layerNormBwd(dy, x, w, mean, rstd, dx, dw, db, rows, C);
      return;
    }
    // dw, db: one partial sum per thread (slot ⌊r0 / per⌋), added up here
    const nt = Math.max(1, Math.min(k.threads, Math.floor(rows / R)));
    const per = Math.ceil(rows / nt);
    scope(() => {
      const part = alloc(2 * nt * C);
      part.fill(0);
      const args = [
        p(dy),
        p(x),
        p(w),
        p(mean),
        p(rstd),
        dx ? p(dx) : 0,
        p(part),
        p(part) + 4 * nt * C,
      ];
      k.run("ln_bwd", [...args, C, per], rows, 1, R);
      for (let t = 0; t < nt; t++) {
        for (let i = 0; i < C; i++) {
          dw[i]! += part[t * C + i]!;
          db[i]! += part[(nt + t) * C + i]!;
        }
      }
    });
  };
  fastKernels.crossEntropyFwd = (logits, targets, weights, lse, rows, V, grad, f) => {
    const w = weights instanceof Float32Array ? weights : null;
    if (!f32(logits, lse, w, grad, f) || (weights && !w) || (grad && !f)) {
      return js.crossEntropyFwd(logits, targets, weights, lse, rows, V, grad, f);
    }
    return scope(() => {
      const tg = keptTargets(targets, weights, rows);
      const loss = alloc(rows);
      const g = grad && f ? [p(grad), p(f)] : [0, 0];
      k.run("ce_fwd", [p(logits), tg.byteOffset, p(lse), p(loss), ...g, V], rows, 1, 4);
      let total = 0;
      for (let r = 0; r < rows; r++) if (tg[r]! >= 0) total += (w ? w[r]! : 1) * loss[r]!;
      return total;
    });
  };
  // Attention: on the BLAS backend each thread runs its share of the heads through OpenBLAS,
  // set to one thread for the job (host-kernels.ts); elsewhere the wasm attention kernels.
  const supports = (hs: number, T: number, ...xs: (Data | null)[]) =>
    hs % 8 === 0 && T % 8 === 0 && f32(...xs);
  const grads = (d: HeadGrads) =>
    [d.gQ, d.gK, d.gV].map((x, i) => (x ? p(x) + 4 * [d.gq, d.gk, d.gv][i]! : 0));
  const oneBlasThread = (blas: Blas, job: () => void) => {
    blas.setThreads(1);
    try {
      job();
    } finally {
      blas.setThreads(getBackend().threads);
    }
  };
  const blasAttention = (blas: Blas): FusedAttention => ({
    supports,
    savedFloats,
    forward: (c) => {
      const args = [...heads(c), p(c.Y) + 4 * c.y, saved(c), c.B, ...shape(c)];
      oneBlasThread(blas, () => k.run("attn_blas_fwd", args, c.B * c.Hkv));
    },
    // the backward's threads each take a scratch slot: the one of their first unit / per
    backward: (c, d) =>
      oneBlasThread(blas, () =>
        scope(() => {
          const units = c.B * c.Hkv;
          const nt = Math.min(k.threads, units);
          const scratch = alloc(nt * scratchFloats(c.T));
          const per = Math.ceil(units / nt);
          const args = [...heads(c), p(d.dY) + 4 * d.dy, saved(c), p(scratch), per, ...grads(d)];
          k.run("attn_blas_bwd", [...args, c.B, ...shape(c)], units);
        }),
      ),
  });
  const wasmAttention: FusedAttention = {
    supports,
    savedFloats: (B, H, T) => B * H * T * T,
    forward: (c) =>
      scope(() => {
        const units = c.B * c.Hkv;
        const KT = alloc(units * (c.T * (c.hs + 6) + 48));
        k.run("attn_fwd", [...heads(c), p(c.Y) + 4 * c.y, saved(c), p(KT), ...shape(c)], units);
      }),
    backward: (c, d) =>
      scope(() => {
        const units = c.B * c.Hkv;
        const VT = alloc(units * (c.T * (c.hs + 6) + 48));
        const dP = alloc(c.B * c.H * c.T * c.T);
        const dY = p(d.dY) + 4 * d.dy;
        const args = [...heads(c), dY, saved(c), p(dP), p(VT), ...grads(d), ...shape(c)];
        k.run("attn_bwd", args, units);
      }),
  };
  let onBlas: FusedAttention | null = null;
  setFusedAttention(() => {
    const blas = getBackend().name === "blas" ? loadBlas() : null;
    if (!blas) return wasmAttention;
    onBlas ??= blasAttention(blas);
    return onBlas;
  });
  setCachedAttention((c) => {
    if (c.hs % 4 !== 0 || !f32(c.q, c.K, c.V, c.out)) return false;
    const units = c.B * c.nHead;
    // split over threads when the workers are being kept awake (batched decoding) or there is
    // enough work to pay for waking one (a prompt)
    const work = units * c.n * (c.t0 + c.n) * c.hs;
    if (!scoreScratch || scoreScratch.length < units * c.nCtx) {
      if (scoreScratch) release(scoreScratch);
      scoreScratch = persistent(() => alloc(units * c.nCtx));
    }
    const args = [p(c.q) + 4 * c.qOff, c.qStride, p(c.K), p(c.V), c.kvDim, c.nCtx, p(c.out)];
    const rest = [c.n, c.t0, c.nHead, c.nHead / c.nKvHead, c.hs, 1 / Math.sqrt(c.hs)];
    const name = [16, 32, 64].includes(c.hs) ? `attn_cached_${c.hs}` : "attn_cached";
    k.run(
      name,
      [...args, ...rest, p(scoreScratch)],
      units,
      1,
      k.awake() || work >= 1 << 20 ? 1 : units,
    );
    return true;
  });
  setZeroFill((buf) =>
    buf.length >= 65536 && inMemory(buf)
      ? k.run("zero", [p(buf)], buf.length, 16, 65536)
      : buf.fill(0),
  );
  fastKernels.adamw = (pp, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2) =>
    f32(pp, g, m, v)
      ? k.run("adamw", [p(pp), p(g), p(m), p(v), lr, b1, b2, eps, wd, bc1, bc2], n, 16, E)
      : js.adamw(pp, g, m, v, n, lr, b1, b2, eps, wd, bc1, bc2);
}

/** Byte address of what the attention's forward keeps for its backward. */
const saved = (c: Heads) => p(c.saved) + 4 * c.sv;
/** Byte addresses of head 0 in Q, K, V. */
const heads = (c: Heads) => [p(c.Q) + 4 * c.q, p(c.K) + 4 * c.k, p(c.V) + 4 * c.v];
/** T, hs, H, group, the row strides of Q, K, V and Y, and the softmax scale. */
const shape = (c: Heads) => [c.T, c.hs, c.H, c.H / c.Hkv, c.qld, c.kld, c.vld, c.yld, c.scale];

/** Targets copied into the shared memory, with rows of weight 0 marked ignored (-1). */
function keptTargets(targets: Int32Array, weights: Data | null, rows: number): Int32Array {
  const buf = alloc(rows);
  const tg = new Int32Array(buf.buffer, buf.byteOffset, rows);
  for (let r = 0; r < rows; r++) tg[r] = weights && weights[r] === 0 ? -1 : targets[r]!;
  return tg;
}

const KC = 256; // depth of one packed block
const NC = 2048; // columns of one packed B block (multiple of 8)

/**
 * Our sgemm (all in wasm, split over the threads): for each depth block of KC and column
 * block of NC, the threads pack B into 8-column strips, then each thread packs its own 6-row
 * strips of A and computes their 6×8 tiles straight into C (C = alpha·A·B + beta·C).
 */
function makeSgemm(k: KernelPool): SgemmFn {
  return (tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) => {
    if (M === 0 || N === 0) return;
    scope(() => {
      if (!inMemory(A)) A = copyIn(A);
      if (!inMemory(B)) B = copyIn(B);
      const out = inMemory(C) ? C : copyIn(C);
      if (K === 0) {
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[i * ldc + j]! *= beta;
      }
      const M6 = Math.ceil(M / 6);
      const Np = Math.ceil(N / 8) * 8;
      const Ap = alloc(M6 * 6 * Math.min(KC, K || 1));
      const Bp = alloc(Math.min(KC, K || 1) * Math.min(NC, Np));
      const tiles = alloc(M6 * 48);
      for (let k0 = 0; k0 < K; k0 += KC) {
        const kc = Math.min(KC, K - k0);
        const b = k0 === 0 ? beta : 1;
        for (let n0 = 0; n0 < Np; n0 += NC) {
          const nc = Math.min(NC, Np - n0);
          k.run("pack_b", [p(B), ldb, tB ? 1 : 0, k0, kc, n0, N, p(Bp)], nc / 8, 1, 64);
          const args = [p(A), lda, tA ? 1 : 0, p(Ap), p(Bp), p(out), ldc, M, N, n0, nc, k0, kc];
          k.run("gemm_rows", [...args, alpha, b, p(tiles)], M6, 1, Math.ceil(65536 / (kc * nc)));
        }
      }
      if (out !== C) C.set(out);
    });
  };
}

function copyIn(a: Float32Array): Float32Array {
  const t = alloc(a.length);
  t.set(a);
  return t;
}

export type { Backend };
