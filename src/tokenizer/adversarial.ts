/**
 * Hard inputs for tokenizer tests: every Unicode plane, emoji sequences, odd white space, lone
 * surrogates, special-token text, contractions in every case, marks and numbers of many scripts.
 * `long` adds runs of one repeated character (`longLength` code units each).
 */
const PIECES = [
  "Hello, world! I'm here; you're there; they'll go, we've gone, she'd say, it's 'quoted'.",
  "DON'T SHOUT, I'M FINE. 'S 'T 'RE 'VE 'M 'LL 'D 'ſ 'Ll 'rE",
  "\r\n\r\n  \t\t\n \n\n\n   x  \r\r\n\u00a0\u3000\u2028\u2029\u0085\ufeff \u200b \u180e end   ",
  "👨‍👩‍👧‍👦 🏳️‍🌈 👩🏽‍💻 🇫🇷🇩🇪 ❤️‍🔥 1️⃣ 🫶🏿",
  "e\u0301 \u0301abc A\u0301B ǅungla ǈ ǋ ß ẞ İı ﬁ ŉ ΐ Σσς",
  "नमस्ते दुनिया — สวัสดีชาวโลก — 안녕하세요 — مرحبا بالعالم — שָׁלוֹם — 你好，世界。",
  "こんにちは世界 カタカナー ｶﾀｶﾅ Ｆｕｌｌｗｉｄｔｈ １２３",
  "12345678901 ١٢٣٤٥ ०१२३ ½ ¾ Ⅻ ⅻ ① 𝟙𝟚𝟛 3.14159 1,000,000 0x1F 1e-9",
  "lone \ud800 high, lone \udfff low, reversed \udc00\ud800, end \ud83d",
  "<|endoftext|> <|im_start|>user<|im_sep|>hi<|im_end|> <|fim_prefix|><|endofprompt|> <|notatoken|>",
  "path/to/file.ts // comment /* block */ a//b https://example.com/a?b=c&d=e#f",
  "    def f(x):\n        return x  # four spaces\n\tTabbed\n\n\n\nEnd\n",
  "𝐀𝐁𝐂 𝒶𝒷𝒸 𐐀𐐨 𐌰𐌱 𓀀𓀁 𠀀𠀁 🀄 \u{e0001}\u{e0041} \u{f0000}\u{10fffd}",
  "a\u0000b\u0001c\u007f\u0080\u009f",
  "...!!!???---___***###@@@$$$%%%^^^&&&",
  "MixedCASEWords camelCase PascalCase snake_case SCREAMING_CASE kebab-case x86_64 iPhone",
  "Ǆ ǅ ǆ ᾈ ᾉ ᾼ ῌ ῼ ʰʲ ʷ ˢ ᵃ ᵇ ꜰ",
  " \n",
  "\n ",
  " ",
  "\n",
  "'",
  "'s",
  "",
  "a",
  " a",
  "  a",
  "\t",
  "\r",
  "\r\n",
];

/** A sample of code points from every plane (0..16), several per plane. */
export function planeSamples(perPlane = 64): string {
  const out: string[] = [];
  for (let plane = 0; plane <= 16; plane++) {
    for (let k = 0; k < perPlane; k++) {
      let cp = plane * 0x10000 + ((k * 0x10000) / perPlane + ((k * 7919) % 997));
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xe000 + k;
      out.push(String.fromCodePoint(cp));
      if (k % 5 === 4) out.push(k % 2 ? " " : "a");
    }
    out.push("\n");
  }
  return out.join("");
}

/** The adversarial inputs, each as one string. */
export function adversarialInputs(opts: { longLength?: number } = {}): string[] {
  const out = [...PIECES, planeSamples(), PIECES.join(""), PIECES.join("\n")];
  if (opts.longLength) {
    for (const ch of ["a", " ", "\n", "1", "é", "!", "😀", "\u0301", "A"]) {
      out.push(ch.repeat(Math.floor(opts.longLength / ch.length)));
    }
    out.push("ab".repeat(opts.longLength / 2));
  }
  return out;
}
