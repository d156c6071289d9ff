/**
 * The chat page of `chatforge serve` (issue 14): conversations kept in this browser, streamed
 * replies as sanitized markdown with tool calls as collapsible blocks (content.ts), stop,
 * regenerate, edit-and-resend, a model picker and settings, and the look-inside views: every
 * generated token with its top alternatives (hover or tap it in the token view), branching a reply
 * from any alternative (the reply prefix plus that token goes back as a partial assistant message
 * with `continue_final_message: true`), and the whole conversation as the tokens the model sees
 * (POST /v1/chat/render, special tokens marked).
 */
import {
  ApiError,
  type ChatParams,
  listModels,
  renderChat,
  streamChat,
  type WireMessage,
} from "./api.js";
import { balanceSpans, renderContent } from "./content.js";
import {
  loadConversations,
  loadSettings,
  newId,
  saveConversations,
  saveSettings,
} from "./store.js";
import type { Alt, ChatMessage, Conversation, Rendered, RenderedToken, Segment } from "./types.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { cls?: string; text?: string; title?: string; onclick?: (e: MouseEvent) => void } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.cls) e.className = props.cls;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title) e.title = props.title;
  const onclick = props.onclick;
  if (onclick) e.addEventListener("click", (ev) => onclick(ev as MouseEvent));
  if (e instanceof HTMLButtonElement) e.type = "button";
  e.append(...children);
  return e;
}

let settings = loadSettings();
let convs: Conversation[] = loadConversations();
let current: Conversation | null = convs[0] ?? null;
let running: { conv: Conversation; msg: ChatMessage; abort: AbortController } | null = null;
let rendered: { key: string; data: Rendered } | null = null;
let renaming: string | null = null;
let editing: ChatMessage | null = null;

const ui = {
  list: $("conv-list"),
  messages: $("messages"),
  input: $<HTMLTextAreaElement>("input"),
  send: $<HTMLButtonElement>("send"),
  stop: $<HTMLButtonElement>("stop"),
  model: $<HTMLSelectElement>("model"),
  tokenView: $<HTMLInputElement>("token-view"),
  summary: $("token-summary"),
  notice: $("notice"),
  popup: $("token-popup"),
  sidebar: $("sidebar"),
  settings: $<HTMLDialogElement>("settings"),
};

function notice(text: string | null): void {
  ui.notice.hidden = !text;
  ui.notice.textContent = text ?? "";
}

function persist(): void {
  convs.sort((a, b) => b.updated - a.updated);
  saveConversations(convs);
}

// ---- the conversation list ------------------------------------------------------------------

function renderList(): void {
  ui.list.replaceChildren(
    ...convs.map((c) => {
      const li = h("li", { cls: c === current ? "conv active" : "conv" });
      li.dataset.id = c.id;
      if (renaming === c.id) {
        const input = h("input", { cls: "rename" });
        input.value = c.title;
        const done = (save: boolean) => {
          if (renaming !== c.id) return;
          renaming = null;
          if (save && input.value.trim()) {
            c.title = input.value.trim();
            persist();
          }
          renderList();
        };
        input.addEventListener("keydown", (e) => {
          if (e.key === "Enter") done(true);
          if (e.key === "Escape") {
            e.stopPropagation();
            done(false);
          }
        });
        input.addEventListener("blur", () => done(true));
        li.append(input);
        queueMicrotask(() => {
          input.focus();
          input.select();
        });
        return li;
      }
      li.append(
        h("button", {
          cls: "conv-title",
          text: c.title || "New chat",
          title: c.title,
          onclick: () => select(c),
        }),
        h("button", {
          cls: "conv-act rename-btn",
          text: "✎",
          title: "Rename",
          onclick: () => {
            renaming = c.id;
            renderList();
          },
        }),
        h("button", {
          cls: "conv-act delete-btn",
          text: "×",
          title: "Delete",
          onclick: () => remove(c),
        }),
      );
      return li;
    }),
  );
}

function select(c: Conversation | null): void {
  current = c;
  editing = null;
  ui.sidebar.classList.remove("open");
  renderList();
  renderMessages();
  ui.input.focus();
}

function remove(c: Conversation): void {
  if (running?.conv === c) running.abort.abort();
  convs = convs.filter((x) => x !== c);
  persist();
  if (current === c) current = null;
  renderList();
  renderMessages();
}

// ---- messages -------------------------------------------------------------------------------

const percent = (logprob: number) => {
  const p = Math.exp(logprob) * 100;
  return p < 0.1 ? "<0.1%" : `${p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
};

/** A token's text for a chip: whitespace and control characters made visible, bytes in hex. */
function visible(s: string, bytes?: number[]): string {
  if (bytes && (s === "" || s.includes("\uFFFD"))) {
    return bytes.map((b) => `‹${b.toString(16).padStart(2, "0")}›`).join("");
  }
  if (s === "") return "∅";
  return s
    .replace(/\n/g, "↵\n")
    .replace(/\t/g, "→")
    .replace(
      /[\u0000-\u0008\u000b-\u001f\u007f]/g,
      (c) => `‹${c.charCodeAt(0).toString(16).padStart(2, "0")}›`,
    );
}

function probClass(logprob: number): string {
  const p = Math.exp(logprob);
  return p >= 0.9 ? "p-hi" : p >= 0.5 ? "p-mid" : p >= 0.2 ? "p-low" : "p-vlow";
}

/**
 * The messages sent for the first `upto` messages; earlier replies with their tool spans balanced
 * (a reply cut inside a call is closed), the one being continued as it is.
 */
function wireMessages(c: Conversation, upto: number, continueFinal = false): WireMessage[] {
  const out: WireMessage[] = [];
  if (settings.system.trim()) out.push({ role: "system", content: settings.system });
  c.messages.slice(0, upto).forEach((m, i) => {
    const asIs = m.role === "user" || (continueFinal && i === upto - 1);
    out.push({ role: m.role, content: asIs ? m.content : balanceSpans(m.content) });
  });
  return out;
}

const bodies = new Map<ChatMessage, HTMLElement>();

function renderMessages(): void {
  hidePopup();
  bodies.clear();
  const c = current;
  ui.messages.classList.toggle("token-mode", settings.tokenView);
  if (!c || c.messages.length === 0) {
    ui.messages.replaceChildren(
      h(
        "div",
        { cls: "empty" },
        h("h1", { text: "chatforge" }),
        h("p", { text: "A small language model trained from scratch. Ask it something." }),
      ),
    );
    ui.summary.hidden = true;
    return;
  }
  const nodes: Node[] = [];
  if (c.branchOf) {
    const from = convs.find((x) => x.id === c.branchOf!.id);
    nodes.push(
      h(
        "div",
        { cls: "branch-note" },
        "Branched from ",
        from
          ? h("button", { cls: "link", text: from.title, onclick: () => select(from) })
          : c.branchOf.title,
      ),
    );
  }
  if (settings.tokenView && settings.system.trim()) {
    const r = renderedFor(c);
    const sys = h("div", { cls: "msg system" }, h("div", { cls: "role", text: "system" }));
    const body = h("div", { cls: "body tokens" });
    const range = r?.messages[0];
    if (r && range) body.append(...r.tokens.slice(range.start, range.end).map(chip));
    else body.append(settings.system);
    sys.append(body);
    nodes.push(sys);
  }
  c.messages.forEach((m, i) => {
    nodes.push(messageNode(c, m, i));
  });
  ui.messages.replaceChildren(...nodes);
  updateSummary();
  if (settings.tokenView && !running) void fetchRendered(c);
}

function messageNode(c: Conversation, m: ChatMessage, i: number): HTMLElement {
  const node = h("div", { cls: `msg ${m.role}` });
  node.dataset.index = String(i);
  node.append(
    h("div", { cls: "role", text: m.role === "user" ? "You" : (m.model ?? "assistant") }),
  );
  const body = h("div", { cls: "body" });
  bodies.set(m, body);
  if (editing === m) {
    const ta = h("textarea", { cls: "edit-box" });
    ta.value = m.content;
    ta.rows = Math.min(12, Math.max(2, m.content.split("\n").length));
    const save = () => resend(c, i, ta.value);
    ta.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        save();
      } else if (e.key === "Escape") {
        e.stopPropagation();
        editing = null;
        renderMessages();
      }
    });
    body.append(
      ta,
      h(
        "div",
        { cls: "edit-buttons" },
        h("button", { cls: "primary save-edit", text: "Save & send", onclick: save }),
        h("button", {
          text: "Cancel",
          onclick: () => {
            editing = null;
            renderMessages();
          },
        }),
      ),
    );
    node.append(body);
    queueMicrotask(() => ta.focus());
    return node;
  }
  fillBody(c, m, i, body);
  node.append(body);
  const status = statusText(m);
  if (status) node.append(h("div", { cls: `status ${m.finish ?? ""}`, text: status }));
  const acts = h("div", { cls: "actions" });
  const idle = !running;
  if (m.role === "user" && idle) {
    acts.append(
      h("button", {
        cls: "edit-btn",
        text: "Edit",
        title: "Edit and send again (the replies after it are dropped)",
        onclick: () => {
          editing = m;
          renderMessages();
        },
      }),
    );
  }
  if (m.role === "assistant" && idle && i === c.messages.length - 1) {
    acts.append(
      h("button", {
        cls: "regen-btn",
        text: "Regenerate",
        title: "Sample this reply again",
        onclick: () => regenerate(c),
      }),
    );
  }
  if (m.role === "assistant" && idle && m.content) {
    acts.append(
      h("button", {
        text: "Copy",
        onclick: () => void navigator.clipboard?.writeText(m.content),
      }),
    );
  }
  if (acts.childElementCount) node.append(acts);
  return node;
}

function statusText(m: ChatMessage): string {
  if (m.role !== "assistant") return "";
  if (running?.msg === m) return "";
  if (m.error) return `Error: ${m.error}`;
  if (m.finish === "stopped") return "stopped";
  if (m.finish === "length") return "cut at max_tokens";
  return "";
}

function fillBody(c: Conversation, m: ChatMessage, i: number, body: HTMLElement): void {
  const streaming = running?.msg === m;
  body.classList.toggle("streaming", streaming);
  if (!settings.tokenView) {
    body.classList.remove("tokens");
    if (m.role === "user") body.textContent = m.content;
    else renderContent(body, m.content, streaming);
    return;
  }
  body.classList.add("tokens");
  const r = streaming ? null : renderedFor(c);
  const off = settings.system.trim() ? 1 : 0;
  const range = r?.messages[i + off];
  const toks = r && range ? r.tokens.slice(range.start, range.end) : [];
  if (m.role === "assistant" && m.segments && m.segments.length > 0) {
    const sep = toks.findIndex((t) => t.special && t.piece === "<|im_sep|>");
    const head = sep >= 0 ? toks.slice(0, sep + 1) : [];
    const last = toks.at(-1);
    const tail = last?.special && last.piece === "<|im_end|>" ? [last] : [];
    const nodes: Node[] = [...head.map(chip)];
    m.segments.forEach((s, si) => {
      nodes.push(genChip(c, i, s, si));
    });
    nodes.push(...tail.map(chip));
    body.replaceChildren(...nodes);
    const sent = toks.length - head.length - tail.length;
    if (r && range && sent !== m.segments.length) {
      body.append(
        h("div", {
          cls: "retok",
          text: `generated as ${m.segments.length} tokens; sent back re-encoded as ${sent}`,
        }),
      );
    }
  } else if (toks.length > 0) {
    body.replaceChildren(...toks.map(chip));
  } else {
    body.textContent = m.content;
  }
}

/** A token of the rendered conversation (special tokens boxed). */
function chip(t: RenderedToken): HTMLElement {
  const e = h("span", {
    cls: t.special ? "tok special" : "tok",
    text: visible(t.piece),
    title: `id ${t.id}`,
  });
  return e;
}

/** A generated token: hover or tap it for its alternatives. */
function genChip(c: Conversation, mi: number, s: Segment, si: number): HTMLElement {
  const special = /^<\|[a-z_]+\|>$/.test(s.text);
  const e = h("span", {
    cls: `tok gen ${s.lp ? probClass(s.lp.logprob) : "forced"}${special ? " special" : ""}`,
    text: visible(s.text, s.lp?.bytes),
  });
  e.dataset.si = String(si);
  if (!s.lp) {
    e.title = "written by the engine (a tool's output), not sampled";
    return e;
  }
  e.tabIndex = 0;
  e.addEventListener("mouseenter", () => showPopup(e, c, mi, si));
  e.addEventListener("mouseleave", () => hideSoon());
  e.addEventListener("focus", () => showPopup(e, c, mi, si));
  e.addEventListener("blur", () => hideSoon());
  e.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    showPopup(e, c, mi, si);
    ui.popup.querySelector<HTMLButtonElement>(".alt:not(:disabled)")?.focus();
  });
  e.addEventListener("click", (ev) => {
    ev.stopPropagation();
    showPopup(e, c, mi, si);
  });
  return e;
}

function updateSummary(): void {
  const c = current;
  if (!settings.tokenView || !c) {
    ui.summary.hidden = true;
    return;
  }
  const r = renderedFor(c);
  ui.summary.hidden = false;
  ui.summary.replaceChildren(
    h("span", {
      text: r
        ? `${r.tokens.length} tokens in the context (${r.tokens.filter((t) => t.special).length} special). `
        : "rendering… ",
    }),
    h(
      "span",
      { cls: "legend" },
      h("span", { cls: "tok special", text: "<|im_end|>" }),
      " special · sampled token's probability: ",
      h("span", { cls: "tok gen p-hi", text: "≥90%" }),
      h("span", { cls: "tok gen p-mid", text: "≥50%" }),
      h("span", { cls: "tok gen p-low", text: "≥20%" }),
      h("span", { cls: "tok gen p-vlow", text: "<20%" }),
      h("span", { cls: "tok gen forced", text: "tool output" }),
      " · hover or tap a token for its alternatives; click one to branch",
    ),
  );
}

const renderKey = (c: Conversation) =>
  JSON.stringify([settings.model, wireMessages(c, c.messages.length)]);

function renderedFor(c: Conversation): Rendered | null {
  return rendered && rendered.key === renderKey(c) ? rendered.data : null;
}

let renderTimer = 0;
async function fetchRendered(c: Conversation): Promise<void> {
  if (renderedFor(c) || !settings.model) return;
  clearTimeout(renderTimer);
  renderTimer = window.setTimeout(async () => {
    const key = renderKey(c);
    try {
      const data = await renderChat(
        settings.apiKey,
        settings.model,
        wireMessages(c, c.messages.length),
      );
      rendered = { key, data };
      if (ui.notice.textContent?.startsWith("Token view")) notice(null);
      if (current === c && settings.tokenView && !running) renderMessages();
    } catch (e) {
      notice(`Token view: ${(e as Error).message}`);
    }
  }, 50);
}

// ---- the token popup and branching --------------------------------------------------------

let hideTimer = 0;
function hideSoon(): void {
  clearTimeout(hideTimer);
  hideTimer = window.setTimeout(hidePopup, 300);
}
function hidePopup(): void {
  clearTimeout(hideTimer);
  ui.popup.hidden = true;
  for (const e of document.querySelectorAll(".tok.active")) e.classList.remove("active");
}
ui.popup.addEventListener("mouseenter", () => clearTimeout(hideTimer));
ui.popup.addEventListener("mouseleave", () => hideSoon());
ui.popup.addEventListener("click", (e) => e.stopPropagation());
ui.popup.addEventListener("focusin", () => clearTimeout(hideTimer));
ui.popup.addEventListener("focusout", (e) => {
  if (!ui.popup.contains(e.relatedTarget as Node | null)) hideSoon();
});
document.addEventListener("click", () => hidePopup());
ui.messages.addEventListener("scroll", () => {
  if (!running) hidePopup();
});

/** Partial UTF-8 tokens all read U+FFFD: their bytes tell them apart. */
const sameToken = (a: Alt, b: Alt) =>
  a.token === b.token && (a.bytes ?? []).join() === (b.bytes ?? []).join();

/** Why the reply cannot be branched with `alt` after `prefix`, or null. */
function branchProblem(prefix: string, alt: string): string | null {
  if (alt.includes("\uFFFD")) return "part of a UTF-8 character: cannot branch from it as text";
  if (/^<\|[a-z_]+\|>$/.test(alt) && alt !== "<|im_end|>") {
    return "a special token: cannot continue from it";
  }
  if (balanceSpans(prefix) !== prefix) {
    return "inside a tool call: the server continues only closed tool spans";
  }
  return null;
}

function showPopup(anchor: HTMLElement, c: Conversation, mi: number, si: number): void {
  clearTimeout(hideTimer);
  const m = c.messages[mi];
  const s = m?.segments?.[si];
  if (!m || !s?.lp) return;
  const prefix = m
    .segments!.slice(0, si)
    .map((x) => x.text)
    .join("");
  const busy = running !== null;
  const rows = s.lp.top.map((alt) => {
    const chosen = sameToken(alt, s.lp!);
    const problem = busy ? "wait for the reply to finish" : branchProblem(prefix, alt.token);
    const bar = h("span", { cls: "alt-bar" });
    bar.style.width = `${Math.max(1, Math.exp(alt.logprob) * 100).toFixed(1)}%`;
    const b = h(
      "button",
      {
        cls: chosen ? "alt chosen" : "alt",
        title: chosen
          ? "the sampled token"
          : (problem ??
            (alt.token === "<|im_end|>"
              ? "end the reply here (in a new branch)"
              : "branch the reply from here")),
        onclick: () => {
          if (!chosen && !problem) branch(c, mi, si, alt);
        },
      },
      bar,
      h("span", { cls: "alt-text", text: visible(alt.token, alt.bytes) }),
      h("span", { cls: "alt-p", text: percent(alt.logprob) }),
    );
    b.disabled = chosen || problem !== null;
    return b;
  });
  const inTop = s.lp.top.some((a) => sameToken(a, s.lp!));
  ui.popup.replaceChildren(
    h(
      "div",
      { cls: "popup-head" },
      `token ${si + 1} · sampled `,
      h("span", { cls: "alt-text", text: visible(s.lp.token, s.lp.bytes) }),
      ` ${percent(s.lp.logprob)}${inTop ? "" : " (not in the top 5)"}`,
    ),
    ...rows,
    h("div", { cls: "popup-foot", text: "click an alternative to branch the reply from it" }),
  );
  ui.popup.hidden = false;
  for (const e of document.querySelectorAll(".tok.active")) e.classList.remove("active");
  anchor.classList.add("active");
  const r = anchor.getBoundingClientRect();
  const pw = ui.popup.offsetWidth;
  const ph = ui.popup.offsetHeight;
  const left = Math.max(4, Math.min(r.left, window.innerWidth - pw - 4));
  const below = r.bottom + 4 + ph < window.innerHeight;
  ui.popup.style.left = `${left}px`;
  ui.popup.style.top = `${below ? r.bottom + 4 : Math.max(4, r.top - ph - 4)}px`;
}

/** Forks the conversation: the reply up to token `si`, then `alt`, then the model goes on. */
function branch(c: Conversation, mi: number, si: number, alt: Alt): void {
  hidePopup();
  const m = c.messages[mi]!;
  const segs = m.segments!.slice(0, si).map((s) => ({ ...s }));
  const old = m.segments![si]!.lp!;
  const end = alt.token === "<|im_end|>";
  const reply: ChatMessage = {
    role: "assistant",
    content: segs.map((s) => s.text).join("") + (end ? "" : alt.token),
    segments: end
      ? segs
      : [
          ...segs,
          { text: alt.token, lp: { token: alt.token, logprob: alt.logprob, top: old.top } },
        ],
    model: settings.model,
    finish: end ? "stop" : undefined,
  };
  const fork: Conversation = {
    id: newId(),
    title: `${c.title} (branch)`,
    updated: Date.now(),
    messages: [...c.messages.slice(0, mi).map((x) => ({ ...x })), reply],
    branchOf: { id: c.id, title: c.title },
  };
  convs.unshift(fork);
  persist();
  select(fork);
  if (!end) void generate(fork, reply, true);
}

// ---- generating ---------------------------------------------------------------------------

function params(c: Conversation, reply: ChatMessage, continueFinal: boolean): ChatParams {
  const i = c.messages.indexOf(reply);
  return {
    model: settings.model,
    messages: continueFinal ? wireMessages(c, i + 1, true) : wireMessages(c, i),
    temperature: settings.temperature,
    top_p: settings.topP,
    max_tokens: settings.maxTokens,
    seed: settings.seed,
    continue_final_message: continueFinal,
  };
}

function setRunning(on: boolean): void {
  ui.send.hidden = on;
  ui.stop.hidden = !on;
  document.body.classList.toggle("running", on);
}

let frame = 0;
function scheduleUpdate(c: Conversation, m: ChatMessage): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const body = bodies.get(m);
    if (!body || current !== c) return;
    const near = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 120;
    fillBody(c, m, c.messages.indexOf(m), body);
    if (near) ui.messages.scrollTop = ui.messages.scrollHeight;
  });
}

async function generate(c: Conversation, reply: ChatMessage, continueFinal: boolean) {
  if (!settings.model) {
    reply.finish = "error";
    reply.error = "no model: pick one at the top";
    renderMessages();
    return;
  }
  const abort = new AbortController();
  const p = params(c, reply, continueFinal);
  running = { conv: c, msg: reply, abort };
  reply.model = settings.model;
  reply.segments ??= [];
  delete reply.error;
  delete reply.finish;
  setRunning(true);
  renderMessages();
  ui.messages.scrollTop = ui.messages.scrollHeight;
  try {
    for await (const ev of streamChat(settings.apiKey, p, abort.signal)) {
      reply.content += ev.text;
      reply.segments.push(...ev.segments);
      if (ev.finish) reply.finish = ev.finish;
      scheduleUpdate(c, reply);
    }
  } catch (e) {
    if (abort.signal.aborted) reply.finish = "stopped";
    else {
      reply.finish = "error";
      reply.error = (e as Error).message;
      if (e instanceof ApiError && e.status === 401) openSettings();
    }
  } finally {
    if (abort.signal.aborted) reply.finish = "stopped";
    running = null;
    c.updated = Date.now();
    persist();
    setRunning(false);
    renderList();
    renderMessages();
  }
}

function stop(): void {
  running?.abort.abort();
}

function send(): void {
  const text = ui.input.value;
  if (running || !text.trim()) return;
  let c = current;
  if (!c) {
    c = { id: newId(), title: "", updated: Date.now(), messages: [] };
    convs.unshift(c);
    current = c;
  }
  if (!c.title) c.title = text.trim().replace(/\s+/g, " ").slice(0, 48);
  c.messages.push({ role: "user", content: text });
  const reply: ChatMessage = { role: "assistant", content: "" };
  c.messages.push(reply);
  c.updated = Date.now();
  ui.input.value = "";
  autosize();
  persist();
  renderList();
  void generate(c, reply, false);
}

function regenerate(c: Conversation): void {
  const reply = c.messages.at(-1);
  if (running || reply?.role !== "assistant") return;
  reply.content = "";
  reply.segments = [];
  void generate(c, reply, false);
}

function resend(c: Conversation, i: number, text: string): void {
  if (running || !text.trim()) return;
  editing = null;
  c.messages = c.messages.slice(0, i + 1);
  c.messages[i] = { role: "user", content: text };
  const reply: ChatMessage = { role: "assistant", content: "" };
  c.messages.push(reply);
  void generate(c, reply, false);
}

// ---- settings and models ------------------------------------------------------------------

const field = (id: string) => $<HTMLInputElement>(id);

function openSettings(): void {
  field("s-key").value = settings.apiKey;
  $<HTMLTextAreaElement>("s-system").value = settings.system;
  field("s-temperature").value = String(settings.temperature);
  field("s-top-p").value = String(settings.topP);
  field("s-max-tokens").value = String(settings.maxTokens);
  field("s-seed").value = settings.seed === null ? "" : String(settings.seed);
  if (!ui.settings.open) ui.settings.showModal();
}

function readSettings(): void {
  const num = (id: string, lo: number, hi: number, dflt: number) => {
    const v = Number.parseFloat(field(id).value);
    return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : dflt;
  };
  const keyChanged = field("s-key").value !== settings.apiKey;
  const seed = Number.parseInt(field("s-seed").value, 10);
  settings = {
    ...settings,
    apiKey: field("s-key").value.trim(),
    system: $<HTMLTextAreaElement>("s-system").value,
    temperature: num("s-temperature", 0, 2, 0.8),
    topP: num("s-top-p", 0.01, 1, 1),
    maxTokens: Math.round(num("s-max-tokens", 1, 1_000_000, 256)),
    seed: Number.isFinite(seed) ? seed : null,
  };
  saveSettings(settings);
  if (keyChanged) void loadModels();
  rendered = null;
  renderMessages();
}

for (const id of ["s-key", "s-system", "s-temperature", "s-top-p", "s-max-tokens", "s-seed"]) {
  $(id).addEventListener("change", readSettings);
}
$("s-close").addEventListener("click", () => {
  readSettings();
  ui.settings.close();
});
ui.settings.addEventListener("close", () => ui.input.focus());
$("settings-btn").addEventListener("click", openSettings);
$("open-settings").addEventListener("click", openSettings);

async function loadModels(): Promise<void> {
  let ids: string[];
  try {
    ids = await listModels(settings.apiKey);
  } catch (e) {
    ui.model.replaceChildren(h("option", { text: "no models" }));
    notice(`Models: ${(e as Error).message}`);
    if (e instanceof ApiError && e.status === 401) openSettings();
    return;
  }
  notice(ids.length ? null : "The server has no models yet.");
  ui.model.replaceChildren(
    ...ids.map((id) => {
      const o = h("option", { text: id });
      o.value = id;
      return o;
    }),
  );
  if (!ids.includes(settings.model)) {
    settings.model = ids.find((id) => id.endsWith("/sft")) ?? ids[0] ?? "";
    saveSettings(settings);
  }
  ui.model.value = settings.model;
}

ui.model.addEventListener("change", () => {
  settings.model = ui.model.value;
  saveSettings(settings);
  rendered = null;
  renderMessages();
});

ui.tokenView.checked = settings.tokenView;
ui.tokenView.addEventListener("change", () => {
  settings.tokenView = ui.tokenView.checked;
  saveSettings(settings);
  renderMessages();
});

// ---- composer and keys --------------------------------------------------------------------

function autosize(): void {
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(200, ui.input.scrollHeight)}px`;
}
ui.input.addEventListener("input", autosize);
ui.input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
ui.send.addEventListener("click", send);
ui.stop.addEventListener("click", stop);
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  if (running) {
    e.preventDefault();
    stop();
  }
  hidePopup();
  ui.sidebar.classList.remove("open");
});
$("new-chat").addEventListener("click", () => select(null));
$("toggle-sidebar").addEventListener("click", (e) => {
  e.stopPropagation();
  ui.sidebar.classList.toggle("open");
});
$("scrim").addEventListener("click", () => ui.sidebar.classList.remove("open"));

// another tab changed the conversations
window.addEventListener("storage", (e) => {
  if (e.key !== "chatforge.conversations" || running) return;
  convs = loadConversations();
  current = convs.find((c) => c.id === current?.id) ?? null;
  renderList();
  renderMessages();
});

renderList();
renderMessages();
void loadModels().then(() => renderMessages());
ui.input.focus();
