/**
 * The chat web page (issue 14) over a tiny random model in a temp runs folder. Always: the static
 * routes (types, CSP, no key needed for the page), POST /v1/chat/render, and
 * `continue_final_message` (continuing a partial reply equals having generated it). With
 * CHATFORGE_SLOW=1 and Debian's /usr/bin/chromium: the page in a real browser through
 * playwright-core — model picker, Enter sends, the reply streams in token by token, Esc stops (the
 * server cancels the row), reload keeps the conversations, rename/new/delete, regenerate,
 * edit-and-resend, the token view with a token's alternatives on hover and branching from one, a
 * crafted reply with HTML/script shown as text and never run, tool calls as <details>, and the
 * layout at 360 px; screenshots go to docs/web-chat.png, docs/web-chat-phone.png and
 * docs/web-chat-tokens.png (the token view with a token's alternatives).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { renderPrompt } from "../chat/render.js";
import { createModel } from "../model/factory.js";
import type { GPT2 } from "../model/gpt2.js";
import type { ModelConfig } from "../model/io/hf-config.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { createApp, type ServeApp } from "./app.js";
import { type RunningServer, startServer } from "./server.js";
import { makeTestRuns } from "./test-runs.js";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MODEL = "t/sft";

let runs: string;
let tok: Tokenizer;

/**
 * A random GPT-2 that writes only printable text and never ends its turn: ln_f's bias points
 * every hidden state along one direction, against which the rows of special tokens and of
 * control or partial-UTF-8 byte tokens point (logit about -40); the others are random, so the
 * model samples from a spread of real tokens (alternatives with readable percentages).
 */
function tameModel(cfg: ModelConfig, seed: number, tok: Tokenizer) {
  const m = createModel(cfg, seed) as unknown as GPT2;
  const d = cfg.nEmbd;
  m.lnfB.data.fill(0);
  m.lnfB.data[0] = 8;
  m.lnfW.data.fill(0.5);
  let s = seed * 7919 + 1;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const specials = new Set(tok.specialTokens.values());
  for (let id = 0; id < cfg.vocabSize; id++) {
    const text = tok.decode([id]);
    const ok = !specials.has(id) && /^[\p{L}\p{N}\p{P} ]+$/u.test(text) && !text.includes("\uFFFD");
    for (let j = 0; j < d; j++) m.wte.data[id * d + j] = ok ? rand() * 0.8 : 0;
    m.wte.data[id * d] = ok ? 0 : -5;
  }
  return m as unknown as ReturnType<typeof createModel>;
}

before(async () => {
  ({ root: runs, tok } = await makeTestRuns({
    prefix: "chatforge-web-",
    text: "Hello there. I am a small model and I like to chat about words and letters. ",
    nCtx: 2048,
    model: tameModel,
  }));
});
after(() => rm(runs, { recursive: true, force: true }));

const post = (s: ServeApp, path: string, body: unknown, headers: Record<string, string> = {}) =>
  s.app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

// biome-ignore lint/suspicious/noExplicitAny: response bodies checked field by field
const json = (r: Response): Promise<any> => r.json();

describe("the page's routes and continuing a reply (app.request)", () => {
  let s: ServeApp;
  before(() => {
    s = createApp({ runs: ["t"], runsRoot: runs, apiKey: "k" });
  });
  after(() => s.close());
  const auth = { authorization: "Bearer k" };

  test("the page is served without a key, with its types and a strict CSP", async () => {
    for (const [path, type] of [
      ["/", "text/html"],
      ["/index.html", "text/html"],
      ["/app.js", "text/javascript"],
      ["/app.css", "text/css"],
    ]) {
      const r = await s.app.request(path!);
      assert.equal(r.status, 200, path);
      assert.ok(r.headers.get("content-type")!.startsWith(type!), path);
      const csp = r.headers.get("content-security-policy")!;
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /default-src 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    }
    const html = await (await s.app.request("/")).text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "no inline script");
    assert.doesNotMatch(html, /\sstyle=|<style/, "no inline style");
    // the API keeps its key
    assert.equal((await s.app.request("/v1/models")).status, 401);
    assert.equal((await post(s, "/v1/chat/render", { model: MODEL, messages: [] })).status, 401);
  });

  test("/v1/chat/render: the tokens the model sees, special ones marked, a range per message", async () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi <|im_end|>" },
      { role: "assistant", content: "Hello" },
    ];
    const r = await json(await post(s, "/v1/chat/render", { model: MODEL, messages }, auth));
    const pieces = r.tokens.map((t: { piece: string }) => t.piece).join("");
    assert.equal(
      pieces,
      "<|im_start|>system<|im_sep|>Be brief.<|im_end|><|im_start|>user<|im_sep|>Hi <|im_end|>" +
        "<|im_end|><|im_start|>assistant<|im_sep|>Hello<|im_end|>",
    );
    // the user's typed "<|im_end|>" is text, the closing one is the special token
    const specials = r.tokens.filter((t: { special: boolean }) => t.special);
    assert.equal(specials.length, 9);
    assert.deepEqual(
      r.messages.map((m: { start: number; end: number }) => m.end - m.start > 0),
      [true, true, true],
    );
    assert.equal(r.messages[0].start, 0);
    assert.equal(r.messages[1].start, r.messages[0].end);
    assert.equal(r.messages[2].end, r.tokens.length);
    // ending with a user message: the open assistant header the reply follows
    const p = await json(
      await post(s, "/v1/chat/render", { model: MODEL, messages: messages.slice(0, 2) }, auth),
    );
    assert.deepEqual(
      p.tokens.map((t: { id: number }) => t.id),
      renderPrompt(tok, [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi <|im_end|>" },
      ]),
    );
    // continuing the final message: the same ids without the closing <|im_end|>
    const c = await json(
      await post(
        s,
        "/v1/chat/render",
        { model: MODEL, messages, continue_final_message: true },
        auth,
      ),
    );
    assert.deepEqual(c.tokens, r.tokens.slice(0, -1));
  });

  test("continue_final_message: the model goes on from a partial reply, exactly as if it had written it", async () => {
    const messages = [{ role: "user", content: "Hello there" }];
    const full = await json(
      await post(
        s,
        "/v1/chat/completions",
        { model: MODEL, messages, max_tokens: 24, temperature: 0, logprobs: true },
        auth,
      ),
    );
    const lps: { token: string }[] = full.choices[0].logprobs.content;
    assert.equal(lps.length, 24);
    const idOf = new Map<string, number>();
    for (let id = 0; id < tok.vocabSize; id++) idOf.set(tok.decode([id]), id);
    let checked = 0;
    for (const k of [3, 6, 10]) {
      const prefix = lps
        .slice(0, k)
        .map((l) => l.token)
        .join("");
      const cont = await json(
        await post(
          s,
          "/v1/chat/completions",
          {
            model: MODEL,
            messages: [...messages, { role: "assistant", content: prefix }],
            continue_final_message: true,
            max_tokens: 24 - k,
            temperature: 0,
          },
          auth,
        ),
      );
      // the prompt is the conversation with the assistant turn left open
      assert.equal(
        cont.usage.prompt_tokens,
        renderPrompt(tok, [{ role: "user", content: "Hello there" }]).length +
          tok.encodeOrdinary(prefix).length,
      );
      // when the prefix re-encodes to the tokens the model wrote, the rest is the same
      const same =
        JSON.stringify(tok.encodeOrdinary(prefix)) ===
        JSON.stringify(lps.slice(0, k).map((l) => idOf.get(l.token)));
      if (same) {
        assert.equal(prefix + cont.choices[0].message.content, full.choices[0].message.content);
        checked++;
      }
    }
    assert.ok(checked > 0, "no prefix re-encoded to the generated tokens");
    // streamed, the reply carries only the new text: the same as not streamed
    const partial = {
      model: MODEL,
      messages: [...messages, { role: "assistant", content: "I am" }],
      continue_final_message: true,
      max_tokens: 6,
      temperature: 0,
    };
    const once = await json(await post(s, "/v1/chat/completions", partial, auth));
    const r = await post(s, "/v1/chat/completions", { ...partial, stream: true }, auth);
    assert.equal(r.status, 200);
    const streamed = (await r.text())
      .split("\n\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta.content ?? "")
      .join("");
    assert.equal(streamed, once.choices[0].message.content);
    assert.ok(streamed.length > 0);

    const bad = async (msgs: unknown[], param: string) => {
      const e = await post(
        s,
        "/v1/chat/completions",
        { model: MODEL, messages: msgs, continue_final_message: true, max_tokens: 2 },
        auth,
      );
      assert.equal(e.status, 400);
      const j = await json(e);
      assert.equal(j.error.param, param, j.error.message);
      return j.error.message as string;
    };
    assert.match(await bad(messages, "continue_final_message"), /last message to be an assistant/);
    assert.match(
      await bad([...messages, { role: "assistant", content: "<|python_start|>1+" }], "messages"),
      /not closed/,
    );
  });
});

// ---- in a real browser --------------------------------------------------------------------

const slowSkip =
  process.env.CHATFORGE_SLOW !== "1"
    ? "set CHATFORGE_SLOW=1 to run the browser tests"
    : !existsSync(CHROMIUM)
      ? `no ${CHROMIUM} (apt-get install chromium) for the browser tests`
      : false;

/** A crafted reply: markdown, a tool call with its output, and HTML that must stay text. */
const CRAFTED = [
  "Here is **markdown** with a list:\n\n- one\n- two\n\n",
  "<|python_start|>",
  "2+2",
  "<|python_end|>",
  "<|output_start|>",
  "4",
  "<|output_end|>",
  "So 2+2 = `4`. ",
  "And <script>window.__pwned=1</script>",
  '<img src=x onerror="window.__pwned=2">',
  " [click](javascript:window.__pwned=3) stays text.",
];

function craftedStream(parts = CRAFTED, finish = "stop"): string {
  const base = { id: "chatcmpl-x", object: "chat.completion.chunk", created: 1, model: MODEL };
  const forced = new Set(["<|output_start|>", "4", "<|output_end|>"]);
  const lines = [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null }] },
    ...parts.map((text) => ({
      ...base,
      choices: [
        {
          index: 0,
          delta: { content: text },
          logprobs: {
            content: forced.has(text)
              ? []
              : [
                  {
                    token: text,
                    logprob: -0.4,
                    bytes: null,
                    top_logprobs: [
                      { token: text, logprob: -0.4, bytes: null },
                      { token: " maybe", logprob: -1.6, bytes: null },
                    ],
                  },
                ],
          },
          finish_reason: null,
        },
      ],
    })),
    { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish }] },
  ];
  return `${lines.map((l) => `data: ${JSON.stringify(l)}\n\n`).join("")}data: [DONE]\n\n`;
}

describe("the page in chromium (playwright-core)", { skip: slowSkip }, () => {
  let srv: RunningServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const t0 = Date.now();

  const metric = async (name: string) => {
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split("\n"))
      if (line.startsWith(name)) sum += Number(line.split(" ").at(-1));
    return sum;
  };
  const lastReply = () => page.locator(".msg.assistant").last().locator(".body");
  const idle = () => page.locator("#send").waitFor({ state: "visible" });
  const setSetting = async (id: string, value: string) => {
    await page.click("#settings-btn");
    await page.fill(id, value);
    await page.click("#s-close");
  };
  /** Polls a page expression (waitForFunction would eval it, which the page's CSP forbids). */
  const waitUntil = async (expr: string, ms = 10_000) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (await page.evaluate(expr)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${expr}`);
  };
  const sendMessage = async (text: string) => {
    await page.fill("#input", text);
    await page.press("#input", "Enter");
  };

  before(async () => {
    srv = await startServer({ runs: ["t"], runsRoot: runs, port: 0 });
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    console.log(`# browser tests took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  test("the page loads with its CSP and lists the models; picking one is kept", async () => {
    const res = await page.goto(srv.url);
    assert.ok(res);
    assert.match((await res.allHeaders())["content-security-policy"]!, /script-src 'self'/);
    await page.locator("#model option").first().waitFor({ state: "attached" });
    const options = await page.locator("#model option").allTextContents();
    assert.deepEqual(options, ["t/pretrain", "t/sft"]);
    await page.selectOption("#model", "t/pretrain");
    await page.selectOption("#model", MODEL);
    const saved = (await page.evaluate(`localStorage.getItem("chatforge.settings")`)) as string;
    assert.equal(JSON.parse(saved!).model, MODEL);
    await setSetting("#s-max-tokens", "200");
  });

  test("Enter sends; the reply streams in token by token", async () => {
    // the reply's length at every change of the page (a string: no DOM types here)
    await page.evaluate(`
      window.__lengths = [];
      new MutationObserver(() => {
        const n = document.querySelector(".msg.assistant:last-child .body")?.textContent.length ?? 0;
        if (n !== window.__lengths.at(-1)) window.__lengths.push(n);
      }).observe(document.getElementById("messages"), { childList: true, subtree: true, characterData: true });
    `);
    await sendMessage("Hello there");
    await page.locator(".msg.user .body", { hasText: "Hello there" }).waitFor();
    assert.equal(await page.inputValue("#input"), "", "the composer is cleared");
    await idle();
    const lengths = (await page.evaluate("window.__lengths")) as number[];
    console.log(`# the reply grew in ${lengths.length} observed steps`);
    const growing = lengths.filter((n, i) => n > 0 && (i === 0 || n > lengths[i - 1]!));
    assert.ok(growing.length >= 3, `the reply grew in ${growing.length} steps: ${lengths}`);
    assert.ok(((await lastReply().textContent()) ?? "").length > 10);
    assert.equal(await page.locator(".conv").count(), 1);
    assert.equal(await page.locator(".conv-title").textContent(), "Hello there");
  });

  test("Esc stops a reply; the server cancels its row", async () => {
    const before = await metric('chatforge_rows_finished_total{model="t/sft",reason="cancelled"}');
    await setSetting("#s-max-tokens", "1900");
    await sendMessage("Tell me more");
    await page.locator("#stop").waitFor({ state: "visible" });
    await waitUntil(
      `(document.querySelector(".msg.assistant:last-child .body")?.textContent ?? "").length > 20`,
    );
    await page.keyboard.press("Escape");
    await idle();
    await page
      .locator(".msg.assistant")
      .last()
      .locator(".status", { hasText: "stopped" })
      .waitFor();
    const n = ((await lastReply().textContent()) ?? "").length;
    await page.waitForTimeout(300);
    assert.equal(((await lastReply().textContent()) ?? "").length, n, "nothing after the stop");
    let cancelled = 0;
    for (let i = 0; i < 50 && cancelled === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      cancelled =
        (await metric('chatforge_rows_finished_total{model="t/sft",reason="cancelled"}')) - before;
    }
    assert.equal(cancelled, 1);
    // and the stop button
    await sendMessage("Again");
    await page.locator("#stop").waitFor({ state: "visible" });
    await page.click("#stop");
    await idle();
    await page
      .locator(".msg.assistant")
      .last()
      .locator(".status", { hasText: "stopped" })
      .waitFor();
    await setSetting("#s-max-tokens", "40");
  });

  test("a reload keeps the conversation; rename, new and delete", async () => {
    await page.reload();
    await page.locator(".conv").first().waitFor();
    assert.equal(await page.locator(".conv").count(), 1);
    assert.equal(await page.locator(".msg").count(), 6);
    assert.equal(await page.locator(".msg.user .body").first().textContent(), "Hello there");
    await page.locator(".conv .rename-btn").click();
    await page.fill(".conv input.rename", "Greetings");
    await page.press(".conv input.rename", "Enter");
    assert.equal(await page.locator(".conv-title").textContent(), "Greetings");
    await page.click("#new-chat");
    assert.equal(await page.locator(".msg").count(), 0);
    await sendMessage("A second chat");
    await idle();
    assert.equal(await page.locator(".conv").count(), 2);
    await page.locator(".conv.active .delete-btn").click();
    assert.equal(await page.locator(".conv").count(), 1);
    await page.reload();
    await page.locator(".conv").first().waitFor();
    assert.equal(await page.locator(".conv-title").textContent(), "Greetings");
  });

  test("regenerate, and edit-and-resend", async () => {
    await page.locator(".conv-title").first().click();
    const before = await lastReply().textContent();
    await page.locator(".regen-btn").click();
    await idle();
    assert.notEqual(await lastReply().textContent(), before);
    assert.equal(await page.locator(".msg").count(), 6);
    await page.locator(".msg.user .edit-btn").first().click();
    await page.fill(".edit-box", "Hello again");
    await page.locator(".save-edit").click();
    await idle();
    assert.equal(await page.locator(".msg").count(), 2, "the replies after the edit are dropped");
    assert.equal(await page.locator(".msg.user .body").textContent(), "Hello again");
    assert.ok(((await lastReply().textContent()) ?? "").length > 0);
  });

  test("the token view: special tokens marked, a token's alternatives on hover, branching from one", async () => {
    await mkdir(join(ROOT, "docs"), { recursive: true });
    await page.check("#token-view");
    await page.locator(".msg.user .tok.special").first().waitFor();
    const userTokens = await page.locator(".msg.user .tok").allTextContents();
    assert.equal(userTokens[0], "<|im_start|>");
    assert.ok(userTokens.includes("<|im_end|>"));
    assert.match((await page.locator("#token-summary").textContent()) ?? "", /\d+ tokens/);
    const gen = page.locator(".msg.assistant .tok.gen");
    assert.ok((await gen.count()) >= 10);
    const at = 4;
    const chip = gen.nth(at);
    await chip.hover();
    await page.locator("#token-popup:not([hidden])").waitFor();
    const alts = page.locator("#token-popup .alt");
    assert.equal(await alts.count(), 5);
    for (const t of await alts.allTextContents()) assert.match(t, /%$/);
    await page.screenshot({ path: join(ROOT, "docs", "web-chat-tokens.png") });
    // the first alternative that can be branched to
    const pick = page.locator("#token-popup .alt:not([disabled])").first();
    const altShown = (await pick.locator(".alt-text").textContent())!;
    const altText = altShown.replace(/↵\n/g, "\n");
    const prefix = (await gen.allTextContents())
      .slice(0, at)
      .join("")
      .replace(/↵\n/g, "\n")
      .replace(/→/g, "\t");
    const request = page.waitForRequest((r) => r.url().endsWith("/v1/chat/completions"));
    await pick.click();
    const sent = JSON.parse((await request).postData()!);
    assert.equal(sent.continue_final_message, true);
    assert.equal(sent.logprobs, true);
    assert.equal(sent.top_logprobs, 5);
    assert.deepEqual(sent.messages.at(-1), { role: "assistant", content: prefix + altText });
    await idle();
    assert.equal(await page.locator(".conv").count(), 2, "the conversation forked");
    assert.match(
      (await page.locator(".conv.active .conv-title").textContent()) ?? "",
      /\(branch\)$/,
    );
    await page.locator(".branch-note").waitFor();
    const branched = await page
      .locator(".msg.assistant")
      .last()
      .locator(".tok.gen")
      .allTextContents();
    assert.ok(branched.length > at + 1, "the model went on after the chosen token");
    assert.equal(branched[at], altShown);
    const content = (await page.evaluate(
      `JSON.parse(localStorage.getItem("chatforge.conversations"))[0].messages.at(-1).content`,
    )) as string;
    assert.ok(content.startsWith(prefix + altText));
    assert.ok(content.length > (prefix + altText).length);
    await page.uncheck("#token-view");
  });

  test("a reply with HTML and script is shown as text and never runs; tool calls are <details>", async () => {
    await page.route("**/v1/chat/completions", (route) =>
      route.fulfill({
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: craftedStream(),
      }),
    );
    await page.click("#new-chat");
    await sendMessage("What is 2+2? Show me some HTML.");
    await idle();
    await page.unroute("**/v1/chat/completions");
    const reply = lastReply();
    const text = (await reply.textContent()) ?? "";
    assert.match(text, /<script>window\.__pwned=1<\/script>/);
    assert.match(text, /<img src=x onerror="window\.__pwned=2">/);
    assert.equal(await page.locator(".messages script, .messages img").count(), 0);
    assert.equal(await page.locator(".messages [onerror]").count(), 0);
    assert.equal(await page.locator('.messages a[href^="javascript"]').count(), 0);
    assert.equal(await reply.locator("strong", { hasText: "markdown" }).count(), 1);
    assert.equal(await reply.locator("li").count(), 2);
    const tool = reply.locator("details.tool");
    assert.equal(await tool.count(), 1);
    assert.match((await tool.locator("summary").textContent()) ?? "", /code call.*2\+2.*→ 4/);
    assert.equal(await tool.getAttribute("open"), null, "a finished call is collapsed");
    await tool.locator("summary").click();
    assert.equal(await tool.locator(".tool-output").textContent(), "4");
    await page.waitForTimeout(100);
    assert.equal(await page.evaluate("window.__pwned"), undefined);
    // the token view of the same reply: the engine's output tokens are not sampled
    await page.check("#token-view");
    await page.locator(".msg.assistant .tok.forced").first().waitFor();
    assert.equal(await page.evaluate("window.__pwned"), undefined);
    await page.uncheck("#token-view");
  });

  test("a reply cut inside a tool call is shown cut off and sent back closed", async () => {
    await page.route("**/v1/chat/completions", (route) =>
      route.fulfill({
        status: 200,
        headers: { "content-type": "text/event-stream" },
        body: craftedStream(["Let me see. ", "<|python_start|>", "1+"], "length"),
      }),
    );
    await page.click("#new-chat");
    await sendMessage("And 1+1?");
    await idle();
    await page.unroute("**/v1/chat/completions");
    assert.match(
      (await lastReply().locator("details.tool summary").textContent()) ?? "",
      /code call.*1\+.*cut off/,
    );
    const request = page.waitForRequest((r) => r.url().endsWith("/v1/chat/completions"));
    await sendMessage("Go on");
    const sent = JSON.parse((await request).postData()!);
    assert.equal(sent.messages.at(-2).content, "Let me see. <|python_start|>1+<|python_end|>");
    await idle();
    assert.equal(await page.locator(".msg.assistant .status.error").count(), 0);
    assert.ok(((await lastReply().textContent()) ?? "").length > 0, "the server took it");
  });

  test("with --api-key: the page loads, asks for the key, keeps it and sends it as Bearer", async () => {
    const locked = await startServer({ runs: ["t"], runsRoot: runs, port: 0, apiKey: "sesame" });
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await p.goto(locked.url);
      await p.locator("#settings[open]").waitFor(); // /v1/models said 401
      assert.match((await p.locator("#notice").textContent()) ?? "", /API key/);
      await p.fill("#s-key", "sesame");
      await p.fill("#s-system", "Be brief.");
      await p.fill("#s-max-tokens", "8");
      await p.click("#s-close");
      await p.locator("#model option", { hasText: MODEL }).waitFor({ state: "attached" });
      const request = p.waitForRequest((r) => r.url().endsWith("/v1/chat/completions"));
      await p.fill("#input", "Hi");
      await p.press("#input", "Enter");
      const r = await request;
      assert.equal(await r.headerValue("authorization"), "Bearer sesame");
      assert.deepEqual(JSON.parse(r.postData()!).messages[0], {
        role: "system",
        content: "Be brief.",
      });
      await p.locator("#send").waitFor({ state: "visible" });
      assert.equal(await p.locator(".status.error").count(), 0);
      // the system prompt in the token view, rendered by the server
      await p.check("#token-view");
      await p.locator(".msg.system .tok.special").first().waitFor();
      const sys = await p.locator(".msg.system .tok").allTextContents();
      assert.equal(sys.join(""), "<|im_start|>system<|im_sep|>Be brief.<|im_end|>");
      await p.reload();
      await p.locator("#model option", { hasText: MODEL }).waitFor({ state: "attached" });
      assert.equal(await p.locator("#settings[open]").count(), 0, "the key was kept");
    } finally {
      await p.close();
      await locked.close();
    }
  });

  test("screenshots at desktop and phone width; the list collapses at 360 px", async () => {
    const docs = join(ROOT, "docs");
    await mkdir(docs, { recursive: true });
    await page.locator(".conv-title", { hasText: "What is 2+2" }).click();
    await page.locator(".msg.assistant details.tool summary").first().click();
    await page.screenshot({ path: join(docs, "web-chat.png") });
    await page.setViewportSize({ width: 360, height: 740 });
    await page.waitForTimeout(300);
    const side = await page.locator("#sidebar").boundingBox();
    assert.ok(side && side.x + side.width <= 1, "the conversation list is off screen");
    assert.ok(await page.locator("#toggle-sidebar").isVisible());
    const composer = await page.locator("#input").boundingBox();
    assert.ok(composer && composer.x >= 0 && composer.x + composer.width <= 360);
    const scroll = (await page.evaluate("document.documentElement.scrollWidth")) as number;
    assert.ok(scroll <= 360, `no sideways scrolling (${scroll} px wide)`);
    await page.screenshot({ path: join(docs, "web-chat-phone.png") });
    await page.click("#toggle-sidebar");
    await page.waitForTimeout(300);
    const open = await page.locator("#sidebar").boundingBox();
    assert.ok(open && open.x >= 0, "the list slides in");
    await page.locator(".conv-title").nth(1).click();
    await page.waitForTimeout(300);
    const closed = await page.locator("#sidebar").boundingBox();
    assert.ok(closed && closed.x + closed.width <= 1, "picking a conversation closes the list");
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(problems, [], "no errors in the page (CSP violations show here)");
  });
});
