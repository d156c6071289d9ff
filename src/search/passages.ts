/**
 * Passages: what the search index holds and the search tool returns. A document is cut into
 * runs of a few sentences (about 60–120 words), so a hit is short enough to show the model
 * and still says what it is about (its document's title comes with it).
 *
 * Clean text keeps one line per paragraph, list item or heading (the extractor's output), and
 * mail keeps its hard-wrapped lines. A line is split into sentences; sentences are packed into
 * passages in order, a passage ends at a paragraph boundary once it holds `minWords`, and never
 * grows past `maxWords` (a longer sentence is cut by words). A short tail is folded into the
 * passage before it.
 */

export interface Passage {
  /** Position in the index (minisearch's document id). */
  id: number;
  /** The document it came from: the clean document's id, or the entity key of a reference. */
  doc: string;
  url: string;
  title: string;
  text: string;
  /** "corpus": from the run's clean text; "reference": the knowledge base's passage for an entity. */
  source: "corpus" | "reference";
  /** Reference passages: the entity key. */
  entity?: string;
}

export interface PassageConfig {
  /** A passage ends at the next paragraph boundary once it has this many words. */
  minWords: number;
  /** A passage never has more words than this. */
  maxWords: number;
}

export const DEFAULT_PASSAGE_CONFIG: PassageConfig = { minWords: 60, maxWords: 120 };

/** A clean document's title: its first line when it looks like one (the page's `<h1>`). */
export function splitTitle(text: string, fallback: string): { title: string; body: string } {
  const nl = text.indexOf("\n");
  const first = (nl < 0 ? text : text.slice(0, nl)).trim();
  const words = first.split(/\s+/).filter(Boolean).length;
  if (nl > 0 && first.length > 0 && first.length <= 150 && words <= 20) {
    return { title: first, body: text.slice(nl + 1) };
  }
  return { title: fallback, body: text };
}

interface Segment {
  words: string[];
  /** Starts a new line (paragraph, list item, heading). */
  newLine: boolean;
}

/** Sentences of one line: cut after . ! ? (and closing quotes) followed by a space. */
function sentences(line: string): string[] {
  return line
    .split(/(?<=[.!?]["'”’)\]]?)\s+(?=["'“‘([]?[\p{Lu}\p{N}])/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

function segments(body: string): Segment[] {
  const out: Segment[] = [];
  for (const raw of body.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    sentences(line).forEach((s, i) => {
      const words = s.split(/\s+/).filter(Boolean);
      if (words.length) out.push({ words, newLine: i === 0 });
    });
  }
  return out;
}

/** The passages' texts of a document body, in order. */
export function passageTexts(body: string, cfg: PassageConfig = DEFAULT_PASSAGE_CONFIG): string[] {
  const { minWords, maxWords } = cfg;
  const out: string[][] = [];
  let cur: string[] = [];
  const flush = () => {
    if (cur.length) out.push(cur);
    cur = [];
  };
  for (const seg of segments(body)) {
    if (
      cur.length > 0 &&
      (cur.length + seg.words.length > maxWords || (seg.newLine && cur.length >= minWords))
    ) {
      flush();
    }
    let words = seg.words;
    while (words.length > maxWords) {
      flush();
      out.push(words.slice(0, maxWords));
      words = words.slice(maxWords);
    }
    cur.push(...words);
  }
  flush();
  // fold a short tail into the passage before it when that stays near the maximum
  if (out.length >= 2) {
    const tail = out[out.length - 1]!;
    const prev = out[out.length - 2]!;
    if (tail.length < minWords / 3 && prev.length + tail.length <= maxWords + minWords / 3) {
      prev.push(...tail);
      out.pop();
    }
  }
  return out.map((w) => w.join(" "));
}

/** Words in a text (whitespace-separated), for counts. */
export function wordCount(text: string): number {
  let n = 0;
  for (const w of text.split(/\s+/)) if (w) n++;
  return n;
}
