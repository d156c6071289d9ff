/**
 * Split patterns are written in the dialect of the reference implementations (Rust's `regex` /
 * `fancy-regex`, as in tiktoken and HF tokenizers). This file translates one into an equivalent
 * JavaScript `RegExp` (flags `gu`):
 *
 * - `\s` / `\S` become `\p{White_Space}` / `\P{White_Space}` (JS's `\s` is a different set);
 *   `\d` becomes `\p{Nd}`; `.` becomes `[^\n]`; `\pL` becomes `\p{L}`; `(?P<n>` becomes `(?<n>`.
 * - Possessive quantifiers (`?+`, `*+`, `++`, `{n,m}+`), which JS lacks, become the atomic-group
 *   idiom `(?=(?<pK>X*))\k<pK>`: the lookahead matches greedily once and cannot be re-entered.
 * - Case-insensitive groups `(?i:…)`, which Node 20 lacks, get each ASCII letter replaced by the
 *   class of every character that folds to it (so `s` also matches `ſ`, `k` also `K`).
 *
 * Anything else that would not mean the same in both dialects is rejected with a `UserError`.
 */
import { UserError } from "../util/errors.js";

const foldCache = new Map<string, string>();

/** `[…]` of every BMP character that matches `ch` case-insensitively (as /ch/iu does). */
function foldClass(ch: string): string {
  let cls = foldCache.get(ch);
  if (cls === undefined) {
    const re = new RegExp(`^${ch}$`, "iu");
    const members: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCharCode(cp);
      if (re.test(c)) members.push(c);
    }
    cls = members.length > 1 ? `[${members.join("")}]` : ch;
    foldCache.set(ch, cls);
  }
  return cls;
}

function unsupported(pattern: string, what: string): never {
  throw new UserError(
    `split pattern ${JSON.stringify(pattern)}: ${what} is not supported`,
    "use \\p{…} classes, groups, alternation and (possessive) quantifiers; see src/tokenizer/regex.ts",
  );
}

/** Reads the escape sequence starting at `src[i] === "\\"`; returns [jsText, nextIndex]. */
function translateEscape(src: string, i: number): [string, number] {
  const c = src[i + 1];
  if (c === undefined) unsupported(src, "a trailing backslash");
  switch (c) {
    case "s":
      return ["\\p{White_Space}", i + 2];
    case "S":
      return ["\\P{White_Space}", i + 2];
    case "d":
      return ["\\p{Nd}", i + 2];
    case "D":
      return ["\\P{Nd}", i + 2];
    case "w":
    case "W":
    case "b":
    case "B":
      return unsupported(src, `\\${c} (its Unicode meaning differs in JS)`);
    case "p":
    case "P": {
      if (src[i + 2] === "{") {
        const close = src.indexOf("}", i + 3);
        if (close < 0) unsupported(src, "an unclosed \\p{");
        return [src.slice(i, close + 1), close + 1];
      }
      return [`\\${c}{${src[i + 2]}}`, i + 3];
    }
    case "x": {
      if (src[i + 2] === "{") {
        const close = src.indexOf("}", i + 3);
        return [`\\u{${src.slice(i + 3, close)}}`, close + 1];
      }
      return [src.slice(i, i + 4), i + 4];
    }
    case "u":
      if (src[i + 2] === "{") {
        const close = src.indexOf("}", i + 3);
        return [src.slice(i, close + 1), close + 1];
      }
      return [src.slice(i, i + 6), i + 6];
    default:
      if (/[A-Za-z]/.test(c) && !"rntfv".includes(c)) unsupported(src, `the escape \\${c}`);
      return [`\\${c}`, i + 2];
  }
}

/** Translates a Rust-dialect split pattern into an equivalent JS `RegExp` with flags `gu`. */
export function translatePattern(pattern: string): RegExp {
  let out = "";
  let i = 0;
  let possessive = 0;
  // For each open group: where it starts in `out`, and whether it is case-insensitive.
  const groups: { at: number; ci: boolean }[] = [];
  let ci = false;
  let atom = -1; // where the last quantifiable atom starts in `out`
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "\\") {
      const [js, next] = translateEscape(pattern, i);
      atom = out.length;
      out += js;
      i = next;
    } else if (c === "[") {
      // A character class: copy it, translating escapes.
      atom = out.length;
      let j = i + 1;
      let cls = "[";
      if (pattern[j] === "^") {
        cls += "^";
        j++;
      }
      if (pattern[j] === "]") {
        cls += "\\]";
        j++;
      }
      while (j < pattern.length && pattern[j] !== "]") {
        if (pattern[j] === "\\") {
          const [js, next] = translateEscape(pattern, j);
          cls += js;
          j = next;
        } else {
          if (pattern[j] === "[") unsupported(pattern, "a nested character class");
          if (ci && /[A-Za-z]/.test(pattern[j]!)) {
            unsupported(pattern, "a letter inside a class inside (?i:…)");
          }
          cls += pattern[j];
          j++;
        }
      }
      if (j >= pattern.length) unsupported(pattern, "an unclosed [");
      out += `${cls}]`;
      i = j + 1;
    } else if (c === "(") {
      let open = "(";
      let newCi: boolean = ci;
      if (pattern.startsWith("(?i:", i)) {
        open = "(?:";
        newCi = true;
        i += 4;
      } else if (pattern.startsWith("(?i)", i)) {
        if (i !== 0) unsupported(pattern, "(?i) anywhere but at the start");
        ci = true;
        i += 4;
        continue;
      } else if (pattern.startsWith("(?P<", i)) {
        open = "(?<";
        i += 4;
      } else if (pattern[i + 1] === "?") {
        const m = /^\(\?(?::|=|!|<=|<!|<(?=[A-Za-z]))/.exec(pattern.slice(i));
        if (!m) unsupported(pattern, `the group ${pattern.slice(i, i + 4)}`);
        open = m[0];
        i += m[0].length;
      } else {
        i += 1;
      }
      groups.push({ at: out.length, ci });
      ci = newCi;
      out += open;
      atom = -1;
    } else if (c === ")") {
      const g = groups.pop();
      if (!g) unsupported(pattern, "an unbalanced )");
      out += ")";
      ci = g.ci;
      atom = g.at;
      i++;
    } else if (c === "?" || c === "*" || c === "+" || c === "{") {
      let q = c;
      let j = i + 1;
      if (c === "{") {
        const close = pattern.indexOf("}", i);
        if (close < 0) unsupported(pattern, "an unclosed {");
        q = pattern.slice(i, close + 1);
        j = close + 1;
      }
      if (atom < 0) unsupported(pattern, `a quantifier with nothing before it at ${i}`);
      if (pattern[j] === "+") {
        // Possessive: match greedily once, never give back.
        const name = `p${possessive++}`;
        out = `${out.slice(0, atom)}(?=(?<${name}>${out.slice(atom)}${q}))\\k<${name}>`;
        j++;
      } else {
        out += q;
        if (pattern[j] === "?") {
          out += "?";
          j++;
        }
      }
      atom = -1;
      i = j;
    } else if (c === ".") {
      atom = out.length;
      out += "[^\\n]";
      i++;
    } else if (c === "|" || c === "^" || c === "$") {
      out += c;
      atom = -1;
      i++;
    } else {
      atom = out.length;
      out += ci && /[A-Za-z]/.test(c) ? foldClass(c) : /[/-]/.test(c) ? `\\${c}` : c;
      i++;
    }
  }
  if (groups.length) unsupported(pattern, "an unclosed (");
  try {
    return new RegExp(out, "gu");
  } catch (err) {
    throw new UserError(
      `split pattern ${JSON.stringify(pattern)} is not a valid regex: ${(err as Error).message}`,
    );
  }
}
