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
 * so the heads that add into the same dK and dV run on the same thread. Each product packs its
 * right operand into 8-column strips and its left operand 6 rows at a time (any strides, so Kᵀ,
 * Pᵀ and dSᵀ need no transposed copies), into a per-unit scratch area of T·hs + 6·T + 48 floats,
 * and runs the gemm's 6×8 micro-kernel (`$tile` in source.ts) on them, then adds the tile into
 * C. A first version that read the left operand through six row pointers and stored straight
 * from the accumulators ran 1.5× slower per tile (V8 codegen), and the whole attention 1.4×.
 * Requires hs and T multiples of 8.
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

/** Byte offset of head `head` of batch entry $b in a [B, T, ld] tensor. */
const headOff = (ld: string, head: string) =>
  x4(add(mul(mul(I("$b"), I("$T")), I(ld)), mul(I(head), I("$hs"))));
/** Byte offset of head $h's T×T block of batch entry $b in P or dP. */
const probOff = x4(mul(add(mul(I("$b"), I("$H")), I("$h")), mul(I("$T"), I("$T"))));
/** Locals every driver declares for perHead. */
const headLocals =
  "(local $u i32) (local $g i32) (local $b i32) (local $h i32) (local $kvh i32) (local $Hkv i32) (local $bp i32) (local $ap i32)";

/**
 * The drivers' loops: units u in [u0, u1) (b = u / Hkv, kv head $kvh = u mod Hkv, the unit's
 * scratch $bp / $ap), then `unit`, then for each of the unit's query heads $h: `head`.
 */
function perHead(unit: string, head: string): string {
  return `
    (local.set $Hkv (i32.div_s ${I("$H")} ${I("$group")}))
    ${forLoop(
      "$u",
      I("$u0"),
      I("$u1"),
      1,
      `
      (local.set $b (i32.div_s ${I("$u")} ${I("$Hkv")}))
      (local.set $kvh (i32.rem_s ${I("$u")} ${I("$Hkv")}))
      (local.set $bp ${add(I("$S"), x4(mul(I("$u"), add(mul(I("$T"), add(I("$hs"), "(i32.const 6)")), "(i32.const 48)"))))})
      (local.set $ap ${add(I("$bp"), x4(mul(I("$T"), I("$hs"))))})
      ${unit}
      ${forLoop(
        "$g",
        "(i32.const 0)",
        I("$group"),
        1,
        `
        (local.set $h ${add(mul(I("$kvh"), I("$group")), I("$g"))})
        ${head}`,
      )}`,
    )}`;
}

export function attentionWat(): string {
  const store: string[] = [];
  for (let r = 0; r < 6; r++) {
    const row = [0, 1]
      .map((c) => {
        const off = `offset=${c * 16}`;
        const v = `(v128.load offset=${r * 32 + c * 16} (local.get $tb))`;
        return `(v128.store ${off} (local.get $C) (if (result v128) (local.get $acc)
            (then (f32x4.add (v128.load ${off} (local.get $C)) ${v})) (else ${v})))`;
      })
      .join("\n        ");
    store.push(`(if (i32.gt_s (local.get $nr) (i32.const ${r})) (then
        ${row}
        (local.set $C (i32.add (local.get $C) (local.get $ldc)))))`);
  }
  return `
  ;; C[r, 0..8) (+)= tb[r, 0..8) for r < nr (<= 6): a 6×8 tile from $tile (gemm) into C
  (func $store68 (param $tb i32) (param $C i32) (param $ldc i32) (param $nr i32) (param $acc i32)
    ${store.join("\n    ")})

  ;; C (+)= op(A) B over an M×N result (N a multiple of 8), strides in floats:
  ;; mode 0: every k < K, only column tiles that reach the diagonal (c0 < r0 + rows)  [Q Kᵀ]
  ;; mode 1: k < min(K, r0 + 6): A is lower triangular                                   [P V]
  ;; mode 2: k >= r0: A is the transpose of a lower-triangular matrix                   [Pᵀ dY]
  (func $mm (param $A i32) (param $ars i32) (param $aks i32) (param $B i32) (param $bks i32)
      (param $bns i32) (param $C i32) (param $ldc i32) (param $M i32) (param $N i32) (param $K i32)
      (param $mode i32) (param $acc i32) (param $Ap i32) (param $Bp i32) (local $tb i32)
      (local $r0 i32) (local $c0 i32) (local $nr i32) (local $k0 i32) (local $k1 i32) (local $cmax i32)
      (local $k i32) (local $dst i32) (local $src i32) (local $step i32)
      (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $s4 i32) (local $s5 i32)
    (local.set $tb ${add(I("$Ap"), x4(mul(I("$K"), "(i32.const 6)")))})
    ;; pack B (element (k, n) at B + 4·(k·bks + n·bns)) into 8-column strips: Bp[n/8][k][n mod 8]
    (local.set $dst ${I("$Bp")})
    ${forLoop(
      "$c0",
      "(i32.const 0)",
      I("$N"),
      8,
      forLoop(
        "$k",
        "(i32.const 0)",
        I("$K"),
        1,
        `(local.set $src ${add(I("$B"), x4(add(mul(I("$k"), I("$bks")), mul(I("$c0"), I("$bns")))))})
        (if (i32.eq ${I("$bns")} (i32.const 1))
          (then
            (v128.store ${I("$dst")} (v128.load ${I("$src")}))
            (v128.store offset=16 ${I("$dst")} (v128.load offset=16 ${I("$src")})))
          (else
            ${[0, 1, 2, 3, 4, 5, 6, 7]
              .map(
                (c) =>
                  `(f32.store offset=${c * 4} ${I("$dst")} (f32.load ${add(I("$src"), x4(mul(`(i32.const ${c})`, I("$bns"))))}))`,
              )
              .join("\n            ")}))
        (local.set $dst (i32.add ${I("$dst")} (i32.const 32)))`,
      ),
    )}
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
      ;; pack the strip: Ap[k - k0][r] = A(r0 + min(r, nr - 1), k), one source pointer per row
      ${[0, 1, 2, 3, 4, 5]
        .map(
          (r) =>
            `(local.set $s${r} ${add(I("$A"), x4(add(mul(add(I("$r0"), `(select (i32.const ${r}) (i32.sub ${I("$nr")} (i32.const 1)) (i32.lt_s (i32.const ${r}) ${I("$nr")}))`), I("$ars")), mul(I("$k0"), I("$aks")))))})`,
        )
        .join("\n      ")}
      (local.set $step ${x4(I("$aks"))})
      (local.set $dst ${I("$Ap")})
      ${forLoop(
        "$k",
        I("$k0"),
        I("$k1"),
        1,
        `${[0, 1, 2, 3, 4, 5]
          .map(
            (r) => `(f32.store offset=${r * 4} ${I("$dst")} (f32.load ${I(`$s${r}`)}))
          (local.set $s${r} (i32.add ${I(`$s${r}`)} ${I("$step")}))`,
          )
          .join("\n          ")}
          (local.set $dst (i32.add ${I("$dst")} (i32.const 24)))`,
      )}
      ${forLoop(
        "$c0",
        "(i32.const 0)",
        I("$cmax"),
        8,
        `(call $tile ${I("$Ap")}
          ${add(I("$Bp"), `(i32.shl ${add(mul(`(i32.shr_u ${I("$c0")} (i32.const 3))`, I("$K")), I("$k0"))} (i32.const 5))`)}
          (i32.sub ${I("$k1")} ${I("$k0")}) ${I("$tb")})
        (call $store68 ${I("$tb")} ${add(I("$C"), x4(add(mul(I("$r0"), I("$ldc")), I("$c0"))))} ${x4(I("$ldc"))}
          ${I("$nr")} ${I("$acc")})`,
      )}`,
    )})

  ;; S is scratch of B·Hkv·(T·hs + 6·T + 48) floats: per unit, the packed strips of B then of A.
  (func (export "attn_fwd") (param $Q i32) (param $K i32) (param $V i32) (param $Y i32) (param $P i32)
      (param $S i32) (param $T i32) (param $hs i32) (param $H i32) (param $group i32)
      (param $qld i32) (param $kld i32) (param $vld i32) (param $yld i32) (param $scale f32)
      (param $u0 i32) (param $u1 i32)
      ${headLocals} (local $kb i32) (local $vb i32) (local $qb i32) (local $pb i32) (local $yb i32)
    ${perHead(
      `(local.set $kb ${add(I("$K"), headOff("$kld", "$kvh"))})
      (local.set $vb ${add(I("$V"), headOff("$vld", "$kvh"))})`,
      `(local.set $qb ${add(I("$Q"), headOff("$qld", "$h"))})
        (local.set $yb ${add(I("$Y"), headOff("$yld", "$h"))})
        (local.set $pb ${add(I("$P"), probOff)})
        ;; S = Q Kᵀ: B(k = c, n = j) = K[j, c]
        (call $mm ${I("$qb")} ${I("$qld")} (i32.const 1) ${I("$kb")} (i32.const 1) ${I("$kld")}
          ${I("$pb")} ${I("$T")} ${I("$T")} ${I("$T")} ${I("$hs")} (i32.const 0) (i32.const 0) ${I("$ap")} ${I("$bp")})
        (call $softmax_fwd ${I("$pb")} ${I("$pb")} ${I("$T")} ${I("$scale")} ${I("$T")} (i32.const 0) (i32.const 0) ${I("$T")})
        ;; Y = P V
        (call $mm ${I("$pb")} ${I("$T")} (i32.const 1) ${I("$vb")} ${I("$vld")} (i32.const 1)
          ${I("$yb")} ${I("$yld")} ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 1) (i32.const 0) ${I("$ap")} ${I("$bp")})`,
    )})

  ;; gQ, gK, gV may be 0 (no gradient wanted); they are added into. dP is B·H·T² scratch, S as
  ;; in attn_fwd.
  (func (export "attn_bwd") (param $Q i32) (param $K i32) (param $V i32) (param $dY i32) (param $P i32)
      (param $dP i32) (param $S i32) (param $gQ i32) (param $gK i32) (param $gV i32)
      (param $T i32) (param $hs i32) (param $H i32) (param $group i32)
      (param $qld i32) (param $kld i32) (param $vld i32) (param $yld i32) (param $scale f32)
      (param $u0 i32) (param $u1 i32)
      ${headLocals} (local $ko i32) (local $vo i32) (local $qo i32) (local $pb i32) (local $db i32) (local $yb i32)
    ${perHead(
      `;; byte offsets of this kv head in K/gK and V/gV
      (local.set $ko ${headOff("$kld", "$kvh")})
      (local.set $vo ${headOff("$vld", "$kvh")})`,
      `(local.set $qo ${headOff("$qld", "$h")})
        (local.set $yb ${add(I("$dY"), headOff("$yld", "$h"))})
        (local.set $pb ${add(I("$P"), probOff)})
        (local.set $db ${add(I("$dP"), probOff)})
        ;; dP = dY Vᵀ: B(k = c, n = j) = V[j, c]
        (call $mm ${I("$yb")} ${I("$yld")} (i32.const 1) ${add(I("$V"), I("$vo"))} (i32.const 1) ${I("$vld")}
          ${I("$db")} ${I("$T")} ${I("$T")} ${I("$T")} ${I("$hs")} (i32.const 0) (i32.const 0) ${I("$ap")} ${I("$bp")})
        ;; dV += Pᵀ dY
        (if ${I("$gV")} (then
          (call $mm ${I("$pb")} (i32.const 1) ${I("$T")} ${I("$yb")} ${I("$yld")} (i32.const 1)
            ${add(I("$gV"), I("$vo"))} ${I("$vld")} ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 2) (i32.const 1) ${I("$ap")} ${I("$bp")})))
        (call $softmax_bwd ${I("$pb")} ${I("$db")} ${I("$db")} ${I("$T")} ${I("$scale")} ${I("$T")} (i32.const 0) (i32.const 0) ${I("$T")})
        ;; dQ += dS K
        (if ${I("$gQ")} (then
          (call $mm ${I("$db")} ${I("$T")} (i32.const 1) ${add(I("$K"), I("$ko"))} ${I("$kld")} (i32.const 1)
            ${add(I("$gQ"), I("$qo"))} ${I("$qld")} ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 1) (i32.const 1) ${I("$ap")} ${I("$bp")})))
        ;; dK += dSᵀ Q
        (if ${I("$gK")} (then
          (call $mm ${I("$db")} (i32.const 1) ${I("$T")} ${add(I("$Q"), I("$qo"))} ${I("$qld")} (i32.const 1)
            ${add(I("$gK"), I("$ko"))} ${I("$kld")} ${I("$T")} ${I("$hs")} ${I("$T")} (i32.const 2) (i32.const 1) ${I("$ap")} ${I("$bp")})))`,
    )})`;
}

/**
 * Decoding attention over a KV cache (infer/kv-cache.ts): each of n new queries per sequence
 * attends to every cached position up to its own. A unit is one (sequence b, query head h),
 * so units never share outputs; each has nCtx floats of scratch for its scores. Per query:
 * s_j = scale · q·K[j] (SIMD over the head), p = softmax(s) (the module's $exp4), out = Σ p_j V[j].
 * K and V are [B, nCtx, kvd] with key/value head ⌊h / group⌋ at column kvh·hs; hs a multiple of 4.
 * `attn_cached` takes any such hs; `attn_cached_16/32/64` keep the query and the output row in
 * registers (about 3× faster at hs 32). `fma(a, b, c)` is a·b + c in the module's flavour.
 */
export function cachedAttentionWat(fma: (a: string, b: string, c: string) => string): string {
  return [null, 16, 32, 64].map((hs) => cachedAttentionKernel(fma, hs)).join("\n");
}

function cachedAttentionKernel(
  fma: (a: string, b: string, c: string) => string,
  fixedHs: number | null,
): string {
  const F = (x: string) => `(local.get ${x})`;
  const byte = (x: string) => x4(x);
  const lanes = (v: string) =>
    `(f32.add (f32.add (f32x4.extract_lane 0 ${F(v)}) (f32x4.extract_lane 1 ${F(v)})) (f32.add (f32x4.extract_lane 2 ${F(v)}) (f32x4.extract_lane 3 ${F(v)})))`;
  const U = fixedHs === null ? 0 : fixedHs / 4; // v128 registers per head row
  const regs = (name: string) => Array.from({ length: U }, (_, r) => `$${name}${r}`);
  const decl = [...regs("q"), ...regs("o")].map((r) => `(local ${r} v128)`).join(" ");
  // s = q·K[j] into $acc: generic loop over the head, or unrolled against the query registers
  const dot =
    U === 0
      ? `(local.set $acc (v128.const i32x4 0 0 0 0))
          ${forLoop(
            "$c",
            "(i32.const 0)",
            I("$hs"),
            4,
            `(local.set $acc ${fma(`(v128.load ${add(I("$qp"), byte(I("$c")))})`, `(v128.load ${add(I("$kp"), byte(I("$c")))})`, F("$acc"))})`,
          )}`
      : `(local.set $acc (f32x4.mul ${F("$q0")} (v128.load ${I("$kp")})))
          ${regs("q")
            .slice(1)
            .map(
              (q, r) =>
                `(local.set $acc ${fma(F(q), `(v128.load offset=${16 * (r + 1)} ${I("$kp")})`, F("$acc"))})`,
            )
            .join("\n          ")}`;
  const loadQ = regs("q")
    .map((q, r) => `(local.set ${q} (v128.load offset=${16 * r} ${I("$qp")}))`)
    .join("\n        ");
  // out = Σ_j p_j V[j] / Σ_j p_j
  const weighted =
    U === 0
      ? forLoop(
          "$c",
          "(i32.const 0)",
          I("$hs"),
          4,
          `
          (local.set $acc (v128.const i32x4 0 0 0 0))
          (local.set $kp ${add(I("$vb"), byte(I("$c")))})
          ${forLoop(
            "$j",
            "(i32.const 0)",
            I("$T"),
            1,
            `(local.set $acc ${fma(`(f32x4.splat (f32.load ${add(I("$sp"), byte(I("$j")))}))`, `(v128.load ${I("$kp")})`, F("$acc"))})
            (local.set $kp ${add(I("$kp"), byte(I("$kvd")))})`,
          )}
          (v128.store ${add(I("$op"), byte(I("$c")))} (f32x4.mul ${F("$acc")} (f32x4.splat ${I("$s")})))`,
        )
      : `${regs("o")
          .map((o) => `(local.set ${o} (v128.const i32x4 0 0 0 0))`)
          .join(" ")}
        (local.set $kp ${I("$vb")})
        ${forLoop(
          "$j",
          "(i32.const 0)",
          I("$T"),
          1,
          `(local.set $e (f32x4.splat (f32.load ${add(I("$sp"), byte(I("$j")))})))
          ${regs("o")
            .map(
              (o, r) =>
                `(local.set ${o} ${fma(F("$e"), `(v128.load offset=${16 * r} ${I("$kp")})`, F(o))})`,
            )
            .join("\n          ")}
          (local.set $kp ${add(I("$kp"), byte(I("$kvd")))})`,
        )}
        ${regs("o")
          .map(
            (o, r) =>
              `(v128.store offset=${16 * r} ${I("$op")} (f32x4.mul ${F(o)} (f32x4.splat ${I("$s")})))`,
          )
          .join("\n        ")}`;
  return `
  (func (export "attn_cached${U ? `_${fixedHs}` : ""}") (param $Q i32) (param $qs i32) (param $K i32)
      (param $V i32) (param $kvd i32) (param $nctx i32) (param $O i32) (param $n i32) (param $t0 i32)
      (param $H i32) (param $group i32) (param $hs i32) (param $scale f32) (param $S i32)
      (param $u0 i32) (param $u1 i32)
      (local $u i32) (local $b i32) (local $h i32) (local $kb i32) (local $vb i32) (local $sp i32)
      (local $i i32) (local $T i32) (local $qp i32) (local $op i32) (local $j i32) (local $kp i32)
      (local $c i32) (local $acc v128) (local $s f32) (local $mx f32) (local $vs v128) (local $sum f32)
      (local $e v128) ${decl}
    ${forLoop(
      "$u",
      I("$u0"),
      I("$u1"),
      1,
      `
      (local.set $b (i32.div_s ${I("$u")} ${I("$H")}))
      (local.set $h (i32.rem_s ${I("$u")} ${I("$H")}))
      (local.set $kb ${add(I("$K"), byte(add(mul(mul(I("$b"), I("$nctx")), I("$kvd")), mul(`(i32.div_s ${I("$h")} ${I("$group")})`, I("$hs")))))})
      (local.set $vb ${add(I("$V"), `(i32.sub ${I("$kb")} ${I("$K")})`)})
      (local.set $sp ${add(I("$S"), byte(mul(I("$u"), I("$nctx"))))})
      ${forLoop(
        "$i",
        "(i32.const 0)",
        I("$n"),
        1,
        `
        (local.set $T ${add(I("$t0"), I("$i"), "(i32.const 1)")})
        (local.set $qp ${add(I("$Q"), byte(add(mul(add(mul(I("$b"), I("$n")), I("$i")), I("$qs")), mul(I("$h"), I("$hs")))))})
        (local.set $op ${add(I("$O"), byte(add(mul(add(mul(I("$b"), I("$n")), I("$i")), mul(I("$H"), I("$hs"))), mul(I("$h"), I("$hs")))))})
        ${loadQ}
        ;; scores and their maximum
        (local.set $mx (f32.const -inf))
        (local.set $kp ${I("$kb")})
        ${forLoop(
          "$j",
          "(i32.const 0)",
          I("$T"),
          1,
          `${dot}
          (local.set $s (f32.mul ${I("$scale")} ${lanes("$acc")}))
          (f32.store ${add(I("$sp"), byte(I("$j")))} ${I("$s")})
          (local.set $mx (f32.max ${I("$mx")} ${I("$s")}))
          (local.set $kp ${add(I("$kp"), byte(I("$kvd")))})`,
        )}
        ;; exponentials in place, and their sum
        (local.set $vs (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $ed (loop $el
          (br_if $ed (i32.gt_s ${add(I("$j"), "(i32.const 4)")} ${I("$T")}))
          (local.set $e (call $exp4 (f32x4.sub (v128.load ${add(I("$sp"), byte(I("$j")))}) (f32x4.splat ${I("$mx")}))))
          (v128.store ${add(I("$sp"), byte(I("$j")))} ${F("$e")})
          (local.set $vs (f32x4.add ${F("$vs")} ${F("$e")}))
          (local.set $j ${add(I("$j"), "(i32.const 4)")})
          (br $el)))
        (local.set $sum ${lanes("$vs")})
        ${forLoop(
          "$j",
          I("$j"),
          I("$T"),
          1,
          `(local.set $s (f32x4.extract_lane 0 (call $exp4 (f32x4.splat (f32.sub (f32.load ${add(I("$sp"), byte(I("$j")))}) ${I("$mx")})))))
          (f32.store ${add(I("$sp"), byte(I("$j")))} ${I("$s")})
          (local.set $sum (f32.add ${I("$sum")} ${I("$s")}))`,
        )}
        (local.set $s (f32.div (f32.const 1) ${I("$sum")}))
        ${weighted}`,
      )}`,
    )})`;
}
