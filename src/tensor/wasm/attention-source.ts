/**
 * Causal self-attention as two WebAssembly kernels (forward, backward) that the pool splits
 * over threads by key/value head, so the small per-head matmuls run on every core instead of
 * one BLAS call at a time. Same maths and layout as attention.ts (which calls them):
 *
 *   forward, per head:  S = Q Kᵀ (only the tiles on or below the diagonal), P = softmax(scale·S)
 *                       causal, Y = P V (only k ≤ row).
 *   backward, per head: dP = dY Vᵀ, dV += Pᵀ dY, dS = softmax'(P, dP) in place of dP,
 *                       dQ += dS K, dK += dSᵀ Q (each product skipping the zero triangle).
 *
 * A unit of work is one key/value head of one batch entry with its `group` query heads (GQA),
 * so the heads that add into the same dK and dV run on the same thread. Kᵀ (forward) and Vᵀ
 * (backward) are copied per unit into a scratch area (T·hs floats per unit) so that every
 * product reads 8 contiguous floats of its right operand per step.
 *
 * The products use one 6×8 register tile (12 f32x4 accumulators) whose left operand has
 * arbitrary strides: A(r, k) at A + 4·(r·ars + k·aks). Requires hs and T multiples of 8.
 */

const I = (x: string) => `(local.get ${x})`;
const add = (...xs: string[]) => xs.reduce((a, b) => `(i32.add ${a} ${b})`);
const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;
const x4 = (a: string) => `(i32.shl ${a} (i32.const 2))`;

/** A counted loop for (v = from; v < to; v += step). */
function forLoop(v: string, from: string, to: string, step: number, body: string): string {
  const n = v.slice(1);
  return `
    (local.set ${v} ${from})
    (block $d_${n} (loop $l_${n}
      (br_if $d_${n} (i32.ge_s ${I(v)} ${to}))
      ${body}
      (local.set ${v} (i32.add ${I(v)} (i32.const ${step})))
      (br $l_${n})))`;
}

export function attentionWat(fma: (a: string, b: string, c: string) => string): string {
  const acc: string[] = [];
  for (let r = 0; r < 6; r++) for (let c = 0; c < 2; c++) acc.push(`$c${r}${c}`);
  const step: string[] = [
    "(local.set $b0 (v128.load (local.get $B)))",
    "(local.set $b1 (v128.load offset=16 (local.get $B)))",
  ];
  for (let r = 0; r < 6; r++) {
    step.push(`(local.set $a (v128.load32_splat (local.get $p${r})))`);
    for (let c = 0; c < 2; c++) {
      step.push(
        `(local.set $c${r}${c} ${fma("(local.get $a)", `(local.get $b${c})`, `(local.get $c${r}${c})`)})`,
      );
    }
    step.push(`(local.set $p${r} (i32.add (local.get $p${r}) (local.get $aks)))`);
  }
  const rowPtr: string[] = [];
  for (let r = 0; r < 6; r++) {
    // rows past nr repeat the last valid row (computed, never stored)
    const rr = `(select (i32.const ${r}) (i32.sub (local.get $nr) (i32.const 1)) (i32.lt_s (i32.const ${r}) (local.get $nr)))`;
    rowPtr.push(`(local.set $p${r} (i32.add (local.get $A) (i32.mul ${rr} (local.get $ars))))`);
  }
  const store: string[] = [];
  for (let r = 0; r < 6; r++) {
    const row = [0, 1]
      .map((c) => {
        const off = `offset=${c * 16}`;
        const v = `(local.get $c${r}${c})`;
        return `(v128.store ${off} (local.get $C) (if (result v128) (local.get $acc)
            (then (f32x4.add (v128.load ${off} (local.get $C)) ${v})) (else ${v})))`;
      })
      .join("\n        ");
    store.push(`(if (i32.gt_s (local.get $nr) (i32.const ${r})) (then
        ${row}
        (local.set $C (i32.add (local.get $C) (local.get $ldc)))))`);
  }
  return `
  ;; C[r, 0..8) (+)= Σ_{k<nk} A(r, k) B[k, 0..8) for r < nr (<= 6). Byte addresses; ars, aks,
  ;; bks, ldc are byte strides.
  (func $tile68 (param $A i32) (param $ars i32) (param $aks i32) (param $B i32) (param $bks i32)
      (param $C i32) (param $ldc i32) (param $nk i32) (param $nr i32) (param $acc i32)
      (local $a v128) (local $b0 v128) (local $b1 v128)
      ${acc.map((a) => `(local ${a} v128)`).join(" ")}
      ${[0, 1, 2, 3, 4, 5].map((r) => `(local $p${r} i32)`).join(" ")}
    ${rowPtr.join("\n    ")}
    ${acc.map((a) => `(local.set ${a} (v128.const i32x4 0 0 0 0))`).join("\n    ")}
    (block $done (loop $L
      (br_if $done (i32.le_s (local.get $nk) (i32.const 0)))
      ${step.join("\n      ")}
      (local.set $B (i32.add (local.get $B) (local.get $bks)))
      (local.set $nk (i32.sub (local.get $nk) (i32.const 1)))
      (br $L)))
    ${store.join("\n    ")})

  ;; C (+)= op(A) B over an M×N result (N a multiple of 8), strides in floats:
  ;; mode 0: every k < K, only column tiles that reach the diagonal (c0 < r0 + rows)  [Q Kᵀ]
  ;; mode 1: k < min(K, r0 + 6): A is lower triangular                                   [P V]
  ;; mode 2: k >= r0: A is the transpose of a lower-triangular matrix                   [Pᵀ dY]
  (func $mm (param $A i32) (param $ars i32) (param $aks i32) (param $B i32) (param $bks i32)
      (param $C i32) (param $ldc i32) (param $M i32) (param $N i32) (param $K i32) (param $mode i32)
      (param $acc i32)
      (local $r0 i32) (local $c0 i32) (local $nr i32) (local $k0 i32) (local $k1 i32) (local $cmax i32)
    ${forLoop(
      "$r0",
      "(i32.const 0)",
      I("$M"),
      6,
      `
      (local.set $nr (i32.sub ${I("$M")} ${I("$r0")}))
      (if (i32.gt_s ${I("$nr")} (i32.const 6)) (then (local.set $nr (i32.const 6))))
      (local.set $k0 (select ${I("$r0")} (i32.const 0) (i32.eq ${I("$mode")} (i32.const 2))))
      (local.set $k1 ${I("$K")})
      (if (i32.and (i32.eq ${I("$mode")} (i32.const 1)) (i32.lt_s ${add(I("$r0"), "(i32.const 6)")} ${I("$K")}))
        (then (local.set $k1 ${add(I("$r0"), "(i32.const 6)")})))
      (local.set $cmax ${I("$N")})
      (if (i32.and (i32.eqz ${I("$mode")}) (i32.lt_s ${add(I("$r0"), I("$nr"))} ${I("$N")}))
        (then (local.set $cmax ${add(I("$r0"), I("$nr"))})))
      ${forLoop(
        "$c0",
        "(i32.const 0)",
        I("$cmax"),
        8,
        `(call $tile68
          ${add(I("$A"), x4(add(mul(I("$r0"), I("$ars")), mul(I("$k0"), I("$aks")))))}
          ${x4(I("$ars"))} ${x4(I("$aks"))}
          ${add(I("$B"), x4(add(mul(I("$k0"), I("$bks")), I("$c0"))))} ${x4(I("$bks"))}
          ${add(I("$C"), x4(add(mul(I("$r0"), I("$ldc")), I("$c0"))))} ${x4(I("$ldc"))}
          (i32.sub ${I("$k1")} ${I("$k0")}) ${I("$nr")} ${I("$acc")})`,
      )}`,
    )})

  ;; dst[c, j] = src[j·ld + c] for j < T, c < hs (one head's T×hs block, transposed)
  (func $transpose (param $src i32) (param $ld i32) (param $dst i32) (param $T i32) (param $hs i32)
      (local $j i32) (local $c i32)
    ${forLoop(
      "$j",
      "(i32.const 0)",
      I("$T"),
      1,
      forLoop(
        "$c",
        "(i32.const 0)",
        I("$hs"),
        1,
        `(f32.store ${add(I("$dst"), x4(add(mul(I("$c"), I("$T")), I("$j"))))}
          (f32.load ${add(I("$src"), x4(add(mul(I("$j"), I("$ld")), I("$c"))))}))`,
      ),
    )})

  ;; units u in [u0, u1): b = u / Hkv, kv head u mod Hkv, query heads kvh·group .. +group
  (func (export "attn_fwd") (param $Q i32) (param $K i32) (param $V i32) (param $Y i32) (param $P i32)
      (param $KT i32) (param $T i32) (param $hs i32) (param $H i32) (param $group i32)
      (param $qld i32) (param $kld i32) (param $vld i32) (param $yld i32) (param $scale f32)
      (param $u0 i32) (param $u1 i32)
      (local $u i32) (local $g i32) (local $b i32) (local $h i32) (local $kvh i32) (local $Hkv i32)
      (local $kb i32) (local $vb i32) (local $kt i32) (local $qb i32) (local $pb i32) (local $yb i32)
    (local.set $Hkv (i32.div_s ${I("$H")} ${I("$group")}))
    ${forLoop(
      "$u",
      I("$u0"),
      I("$u1"),
      1,
      `
      (local.set $b (i32.div_s ${I("$u")} ${I("$Hkv")}))
      (local.set $kvh (i32.rem_s ${I("$u")} ${I("$Hkv")}))
      (local.set $kb ${add(I("$K"), x4(add(mul(mul(I("$b"), I("$T")), I("$kld")), mul(I("$kvh"), I("$hs")))))})
      (local.set $vb ${add(I("$V"), x4(add(mul(mul(I("$b"), I("$T")), I("$vld")), mul(I("$kvh"), I("$hs")))))})
      (local.set $kt ${add(I("$KT"), x4(mul(I("$u"), mul(I("$T"), I("$hs")))))})
      (call $transpose ${I("$kb")} ${I("$kld")} ${I("$kt")} ${I("$T")} ${I("$hs")})
      ${forLoop(
        "$g",
        "(i32.const 0)",
        I("$group"),
        1,
        `
        (local.set $h ${add(mul(I("$kvh"), I("$group")), I("$g"))})
        (local.set $qb ${add(I("$Q"), x4(add(mul(mul(I("$b"), I("$T")), I("$qld")), mul(I("$h"), I("$hs")))))})
        (local.set $yb ${add(I("$Y"), x4(add(mul(mul(I("$b"), I("$T")), I("$yld")), mul(I("$h"), I("$hs")))))})
        (local.set $pb ${add(I("$P"), x4(mul(add(mul(I("$b"), I("$H")), I("$h")), mul(I("$T"), I("$T")))))})
        (call $mm ${I("$qb")} ${I("$qld")} (i32.const 1) ${I("$kt")} ${I("$T")} ${I("$pb")} ${I("$T")}
          ${I("$T")} ${I("$T")} ${I("$hs")} (i32.const 0) (i32.const 0))
        (call $softmax_fwd ${I("$pb")} ${I("$pb")} ${I("$T")} ${I("$scale")} ${I("$T")} (i32.const 0) ${I("$T")})
        (call $mm ${I("$pb")} ${I("$T")} (i32.const 1) ${I("$vb")} ${I("$vld")} ${I("$yb")} ${I("$yld")}
          ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 1) (i32.const 0))`,
      )}`,
    )})

  ;; gQ, gK, gV may be 0 (no gradient wanted); they are added into. dP is scratch (B·H·T²).
  (func (export "attn_bwd") (param $Q i32) (param $K i32) (param $V i32) (param $dY i32) (param $P i32)
      (param $dP i32) (param $VT i32) (param $gQ i32) (param $gK i32) (param $gV i32)
      (param $T i32) (param $hs i32) (param $H i32) (param $group i32)
      (param $qld i32) (param $kld i32) (param $vld i32) (param $yld i32) (param $scale f32)
      (param $u0 i32) (param $u1 i32)
      (local $u i32) (local $g i32) (local $b i32) (local $h i32) (local $kvh i32) (local $Hkv i32)
      (local $ko i32) (local $vo i32) (local $qo i32) (local $vt i32) (local $pb i32) (local $db i32) (local $yb i32)
    (local.set $Hkv (i32.div_s ${I("$H")} ${I("$group")}))
    ${forLoop(
      "$u",
      I("$u0"),
      I("$u1"),
      1,
      `
      (local.set $b (i32.div_s ${I("$u")} ${I("$Hkv")}))
      (local.set $kvh (i32.rem_s ${I("$u")} ${I("$Hkv")}))
      ;; byte offsets of this kv head in K/gK and V/gV
      (local.set $ko ${x4(add(mul(mul(I("$b"), I("$T")), I("$kld")), mul(I("$kvh"), I("$hs"))))})
      (local.set $vo ${x4(add(mul(mul(I("$b"), I("$T")), I("$vld")), mul(I("$kvh"), I("$hs"))))})
      (local.set $vt ${add(I("$VT"), x4(mul(I("$u"), mul(I("$T"), I("$hs")))))})
      (call $transpose ${add(I("$V"), I("$vo"))} ${I("$vld")} ${I("$vt")} ${I("$T")} ${I("$hs")})
      ${forLoop(
        "$g",
        "(i32.const 0)",
        I("$group"),
        1,
        `
        (local.set $h ${add(mul(I("$kvh"), I("$group")), I("$g"))})
        (local.set $qo ${x4(add(mul(mul(I("$b"), I("$T")), I("$qld")), mul(I("$h"), I("$hs"))))})
        (local.set $yb ${add(I("$dY"), x4(add(mul(mul(I("$b"), I("$T")), I("$yld")), mul(I("$h"), I("$hs")))))})
        (local.set $pb ${add(I("$P"), x4(mul(add(mul(I("$b"), I("$H")), I("$h")), mul(I("$T"), I("$T")))))})
        (local.set $db ${add(I("$dP"), x4(mul(add(mul(I("$b"), I("$H")), I("$h")), mul(I("$T"), I("$T")))))})
        (call $mm ${I("$yb")} ${I("$yld")} (i32.const 1) ${I("$vt")} ${I("$T")} ${I("$db")} ${I("$T")}
          ${I("$T")} ${I("$T")} ${I("$hs")} (i32.const 0) (i32.const 0))
        (if ${I("$gV")} (then
          (call $mm ${I("$pb")} (i32.const 1) ${I("$T")} ${I("$yb")} ${I("$yld")} ${add(I("$gV"), I("$vo"))} ${I("$vld")}
            ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 2) (i32.const 1))))
        (call $softmax_bwd ${I("$pb")} ${I("$db")} ${I("$db")} ${I("$T")} ${I("$scale")} ${I("$T")} (i32.const 0) ${I("$T")})
        (if ${I("$gQ")} (then
          (call $mm ${I("$db")} ${I("$T")} (i32.const 1) ${add(I("$K"), I("$ko"))} ${I("$kld")} ${add(I("$gQ"), I("$qo"))} ${I("$qld")}
            ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 1) (i32.const 1))))
        (if ${I("$gK")} (then
          (call $mm ${I("$db")} (i32.const 1) ${I("$T")} ${add(I("$Q"), I("$qo"))} ${I("$qld")} ${add(I("$gK"), I("$ko"))} ${I("$kld")}
            ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 2) (i32.const 1))))`,
      )}`,
    )})`;
}
