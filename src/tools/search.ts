/**
 * The search tool (DESIGN.md §4, "Tools"): the model writes `<|search_start|>query<|search_end|>`,
 * the engine calls `run(query)`, and the top passages of the run's BM25 index (src/search) come
 * back as `<|output_start|>…<|output_end|>`.
 *
 * The output is one line per passage, `Title: text`, best first, cut so that the whole output
 * fits `budgetTokens` tokens of the run's tokenizer: passages that fit are given whole, the
 * first that does not is cut at a word (ending "…") if enough of it fits, and the rest are left
 * out. The default budget, 96 tokens, is what the engine injects at most (`maxOutputTokens`), so
 * the engine never has to cut an output mid-word; and it keeps a lookup exchange (question,
 * query, output, answer: about 170 tokens) inside the 256-token context of the smallest models,
 * with room for a system prompt. The top reference passage of an entity (20–60 tokens) always
 * fits whole.
 *
 * What the model wrote that cannot be searched is answered, never thrown: an empty query and a
 * query over `maxQueryTokens` are errors (`ok: false`, "empty" / "too-long"); a query that
 * matches nothing is a notice (`ok: true`, "No results for …"). Same index, same query, same
 * output.
 */
import { CHAT_TOKENS } from "../chat/conversation.js";
import type { PassageSearch } from "../search/search-index.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { Tool, ToolResult } from "./tool.js";

export interface SearchToolOptions {
  /** Passages returned at most (default 3). */
  topK?: number;
  /** Tokens the whole output may take (default 96, the engine's injection limit). */
  budgetTokens?: number;
  /** Longest query, in tokens (default 32). */
  maxQueryTokens?: number;
}

export const SEARCH_TOOL_DEFAULTS = { topK: 3, budgetTokens: 96, maxQueryTokens: 32 } as const;

/** A passage as the tool shows it. */
export interface ShownPassage {
  title: string;
  text: string;
}

/** Fewest words of a cut passage worth showing. */
const MIN_CUT_WORDS = 8;

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();
/** A title as a line's label: "Moby-Dick — Chapter 16. The Ship." → "… The Ship". */
const label = (s: string) => oneLine(s).replace(/[\s.:;,]+$/, "");

/**
 * The tool's output for passages, best first: `Title: text` lines within `budgetTokens` as
 * counted by `countTokens` (no budget without a counter: every passage whole).
 */
export function formatSearchOutput(
  passages: readonly ShownPassage[],
  countTokens?: (text: string) => number,
  budgetTokens: number = SEARCH_TOOL_DEFAULTS.budgetTokens,
): string {
  const lines: string[] = [];
  const fits = (extra: string) =>
    !countTokens || countTokens([...lines, extra].join("\n")) <= budgetTokens;
  for (const p of passages) {
    const line = `${label(p.title)}: ${oneLine(p.text)}`;
    if (fits(line)) {
      lines.push(line);
      continue;
    }
    // the longest word prefix that fits, by bisection (token counts grow with the prefix)
    const words = line.split(" ");
    const cut = (n: number) => `${words.slice(0, n).join(" ")} …`;
    let lo = 0;
    let hi = words.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(cut(mid))) lo = mid;
      else hi = mid - 1;
    }
    const titleWords = label(p.title).split(" ").length;
    if (lo >= titleWords + MIN_CUT_WORDS) lines.push(cut(lo));
    break;
  }
  return lines.join("\n");
}

/** The search tool over an index; `tokenizer` counts tokens as the engine will encode them. */
export function createSearchTool(
  index: PassageSearch,
  tokenizer: Pick<Tokenizer, "encodeOrdinary">,
  opts: SearchToolOptions = {},
): Tool {
  const o = { ...SEARCH_TOOL_DEFAULTS, ...opts };
  const count = (s: string) => tokenizer.encodeOrdinary(s).length;
  return {
    name: "search",
    spanStart: CHAT_TOKENS.searchStart,
    spanEnd: CHAT_TOKENS.searchEnd,
    run(input: string): ToolResult {
      const query = oneLine(input);
      if (query === "") {
        return {
          ok: false,
          error: "empty",
          output: "Error: empty query. Write what to look up, e.g. capital of France.",
        };
      }
      const n = count(query);
      if (n > o.maxQueryTokens) {
        return {
          ok: false,
          error: "too-long",
          output: `Error: query too long (${n} tokens, at most ${o.maxQueryTokens}). Use a few key words.`,
        };
      }
      const hits = index.search(query, o.topK);
      const output = formatSearchOutput(
        hits.map((h) => h.passage),
        count,
        o.budgetTokens,
      );
      if (output === "") return { ok: true, output: `No results for "${query}".` };
      return { ok: true, output };
    },
  };
}
