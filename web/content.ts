/**
 * A reply's content on the page. The server shows the tools the engine ran inside the content as
 * special-token text (src/serve/chat.ts): the call the model wrote,
 * `<|python_start|>…<|python_end|>` or `<|search_start|>…<|search_end|>`, then the output the
 * engine forced, `<|output_start|>…<|output_end|>`. Each call (with its output) becomes a
 * collapsible `<details>` block built with textContent; the text between is markdown, rendered by
 * marked and sanitized by DOMPurify. Raw HTML in a reply is shown as text (the renderer escapes
 * it) and DOMPurify removes whatever else could run, so a reply can never execute script.
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";

export type Part =
  | { kind: "text"; text: string }
  | {
      kind: "call";
      tool: string;
      code: string;
      closed: boolean;
      output?: string;
      outputClosed?: boolean;
    };

const CALLS = ["python", "search"] as const;

/** Splits content into markdown text and tool calls (an unclosed span is still running). */
export function parseContent(s: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < s.length) {
    let at = -1;
    let tool = "";
    for (const t of [...CALLS, "output"]) {
      const j = s.indexOf(`<|${t}_start|>`, i);
      if (j >= 0 && (at < 0 || j < at)) {
        at = j;
        tool = t;
      }
    }
    if (at < 0) {
      parts.push({ kind: "text", text: s.slice(i) });
      break;
    }
    if (at > i) parts.push({ kind: "text", text: s.slice(i, at) });
    const start = `<|${tool}_start|>`;
    const endTok = `<|${tool}_end|>`;
    const end = s.indexOf(endTok, at + start.length);
    const body = s.slice(at + start.length, end < 0 ? s.length : end);
    i = end < 0 ? s.length : end + endTok.length;
    const prev = parts.at(-1);
    if (tool === "output") {
      if (prev?.kind === "call" && prev.output === undefined) {
        prev.output = body;
        prev.outputClosed = end >= 0;
      } else {
        parts.push({
          kind: "call",
          tool: "output",
          code: "",
          closed: true,
          output: body,
          outputClosed: end >= 0,
        });
      }
    } else {
      parts.push({ kind: "call", tool, code: body, closed: end >= 0 });
    }
  }
  return parts;
}

/**
 * Content the server accepts back in an assistant message: tool spans closed and not nested. A
 * reply cut inside a call (max_tokens, stop) gets the span's end token; an end token without its
 * start, or a start inside an open span, is dropped. Balanced content is returned unchanged.
 */
export function balanceSpans(s: string): string {
  let out = "";
  let last = 0;
  let open: string | null = null;
  for (const m of s.matchAll(/<\|(python|search|output)_(start|end)\|>/g)) {
    out += s.slice(last, m.index);
    last = m.index + m[0].length;
    const tool = m[1]!;
    if (m[2] === "start" ? open !== null : open !== tool) continue;
    open = m[2] === "start" ? tool : null;
    out += m[0];
  }
  out += s.slice(last);
  return open ? `${out}<|${open}_end|>` : out;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // raw HTML in a reply is text to read, not markup
    html: ({ text }) => escapeHtml(text),
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

/** Markdown → sanitized HTML. */
export function markdownHtml(text: string): string {
  const html = marked.parse(text, { async: false });
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ["style", "img", "form", "input", "button", "textarea", "select", "iframe"],
    FORBID_ATTR: ["style"],
  });
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

function toolBlock(p: Extract<Part, { kind: "call" }>, open: boolean, live: boolean): HTMLElement {
  const d = el("details", "tool");
  d.open = open;
  const sum = el("summary");
  const running = !p.closed || (p.output !== undefined && !p.outputClosed);
  sum.append(
    el(
      "span",
      "tool-name",
      p.tool === "output" ? "tool output" : p.tool === "python" ? "code call" : `${p.tool} call`,
    ),
  );
  const first = (p.tool === "output" ? (p.output ?? "") : p.code).split("\n")[0] ?? "";
  sum.append(el("code", "tool-brief", first.length > 60 ? `${first.slice(0, 60)}…` : first));
  if (p.output !== undefined && p.tool !== "output") {
    const o = p.output.split("\n")[0] ?? "";
    sum.append(el("span", "tool-result", `→ ${o.length > 40 ? `${o.slice(0, 40)}…` : o}`));
  }
  if (running) sum.append(el("span", "tool-state", live ? "running…" : "cut off"));
  d.append(sum);
  if (p.tool !== "output") {
    d.append(el("div", "tool-label", p.tool === "search" ? "query" : "code"));
    d.append(el("pre", "tool-code", p.code));
  }
  if (p.output !== undefined) {
    d.append(el("div", "tool-label", "output"));
    d.append(el("pre", "tool-output", p.output));
  }
  return d;
}

/**
 * Renders content into `into`, keeping which tool blocks the user opened; an unclosed call is
 * "running…" while the reply streams (`live`) and "cut off" after.
 */
export function renderContent(into: HTMLElement, content: string, live = false): void {
  const wasOpen = [...into.querySelectorAll(":scope > details.tool")].map(
    (d) => (d as HTMLDetailsElement).open,
  );
  const nodes: Node[] = [];
  let k = 0;
  for (const p of parseContent(content)) {
    if (p.kind === "text") {
      if (p.text.trim() === "") continue;
      const d = el("div", "md");
      d.innerHTML = markdownHtml(p.text);
      nodes.push(d);
    } else {
      nodes.push(toolBlock(p, wasOpen[k] ?? (live && !p.closed), live));
      k++;
    }
  }
  into.replaceChildren(...nodes);
}
