/**
 * The chat web page of `chatforge serve` (issue 14) and the one route only it needs.
 *
 *   GET  /, /index.html, /app.js, /app.css   the page, built from web/ into dist/web/ by
 *                                            scripts/build-web.mjs (`npm run build`); no API key
 *   POST /v1/chat/render                     a conversation as the tokens the model sees
 *
 * The page is served with a strict Content-Security-Policy: scripts, styles and connections from
 * this origin only, no inline script or style, no frames, no plugins. Replies are rendered as
 * sanitized markdown in the page (marked + DOMPurify); the policy is the second fence.
 *
 * `/v1/chat/render` takes `{model, messages, continue_final_message?}` and answers
 * `{tokens: [{id, piece, special}], messages: [{start, end}]}`: the ids chat completions would
 * feed the model (a conversation ending with a user or tool message gets the open assistant
 * header; one ending with an assistant message is shown whole, closed by `<|im_end|>`, or left
 * open with `continue_final_message`), each id's text, whether it is a special token, and which
 * token range each message's turn covers.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import { Hono } from "hono";
import type { Message } from "../chat/conversation.js";
import { renderMessages } from "../chat/render.js";
import { messageFromJson } from "../chat/validate.js";
import { requireChatTokens } from "../infer/chat-session.js";
import { chatPromptIds, chatRequestWithContinue, jsonBody, type RouteContext } from "./chat.js";
import { badRequest, toApiError } from "./errors.js";
import { parseBody } from "./schemas.js";

/** Where the built page is (dist/web beside dist/serve). */
export const WEB_DIR = fileURLToPath(new URL("../web/", import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/** The page's static routes (mounted before the API key check: the page itself needs none). */
export function webPage(dir = WEB_DIR): Hono {
  const web = new Hono();
  for (const [path, f] of Object.entries(FILES)) {
    web.get(path, async (c) => {
      let body: Buffer;
      try {
        body = await readFile(`${dir}${f.file}`);
      } catch {
        return c.text(
          `The web page is not built (${dir}${f.file} is missing): run npm run build.`,
          404,
        );
      }
      return c.body(new Uint8Array(body), 200, {
        "content-type": f.type,
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-cache",
      });
    });
  }
  return web;
}

/** `POST /v1/chat/render` (see the file comment); behind the API key like every API route. */
export async function chatRender(c: Context, rc: RouteContext): Promise<Response> {
  const req = parseBody(chatRequestWithContinue, await jsonBody(c));
  const continueFinal = req.continue_final_message ?? false;
  if (req.messages.length > rc.maxMessages) {
    throw badRequest(`${req.messages.length} messages, more than ${rc.maxMessages}`, "messages");
  }
  const info = await rc.registry.info(req.model);
  const tok = await rc.registry.tokenizer(info);
  let ids: number[];
  const ranges: { start: number; end: number }[] = [];
  try {
    requireChatTokens(tok, `${info.run}'s tokenizer`);
    const messages: Message[] = req.messages.map((m, i) => messageFromJson(m, `messages[${i}]`));
    const last = messages.at(-1)!.role;
    ids =
      last === "assistant" && !continueFinal
        ? renderMessages(tok, messages, "any", { where: "messages" }).ids
        : chatPromptIds(tok, messages, continueFinal);
    // turns are rendered one after another, so each one's range is the growth of the prefix
    let start = 0;
    for (let i = 1; i <= messages.length; i++) {
      const end =
        i === messages.length
          ? ids.length
          : renderMessages(tok, messages.slice(0, i), "any", { where: "messages" }).ids.length;
      ranges.push({ start, end });
      start = end;
    }
  } catch (e) {
    throw toApiError(e, "messages");
  }
  const special = new Set(tok.specialTokens.values());
  return c.json({
    tokens: ids.map((id) => ({ id, piece: tok.decode([id]), special: special.has(id) })),
    messages: ranges,
  });
}
