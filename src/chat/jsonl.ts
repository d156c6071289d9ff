/**
 * Conversations on disk: JSONL, one `{"messages": [{"role", "content"}, …]}` per line (gzipped if
 * the name ends in .gz). Blank lines are skipped. Every problem is a `UserError` naming the file
 * and line: not JSON, not `{"messages": [...]}`, a bad role or content, roles out of order.
 * OpenAI's `developer` role is read as system; other message fields are dropped.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip, gzipSync } from "node:zlib";
import { writeFileAtomic } from "../util/atomic.js";
import { UserError } from "../util/errors.js";
import type { Conversation } from "./conversation.js";
import { type ConversationEnd, conversationFromJson } from "./validate.js";

export interface ReadOptions {
  /** Where each conversation must end (default "any"; SFT data: "assistant"). */
  end?: ConversationEnd;
}

/** A conversation and where it came from (`file:line`). */
export interface SourcedConversation {
  conversation: Conversation;
  where: string;
}

/** The conversations of a JSONL file, one at a time, each with its `file:line`. */
export async function* streamConversations(
  path: string,
  opts: ReadOptions = {},
): AsyncGenerator<SourcedConversation> {
  const file = createReadStream(path);
  const input = path.endsWith(".gz") ? file.pipe(createGunzip()) : file;
  const opened = new Promise<void>((resolve, reject) => {
    file.once("open", () => resolve());
    file.once("error", reject);
  });
  await opened;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === "") continue;
      const where = `${path}:${n}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        throw new UserError(`${where}: not JSON (${(e as Error).message})`);
      }
      yield { conversation: conversationFromJson(value, where, opts.end), where };
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === "Z_DATA_ERROR" || err.code === "Z_BUF_ERROR") {
      throw new UserError(`${path}: not a valid gzip file (${err.message})`);
    }
    throw e;
  } finally {
    lines.close();
    file.destroy();
  }
}

/** All conversations of a JSONL file (see `streamConversations` for their `file:line`). */
export async function readConversations(
  path: string,
  opts: ReadOptions = {},
): Promise<Conversation[]> {
  const out: Conversation[] = [];
  for await (const { conversation } of streamConversations(path, opts)) out.push(conversation);
  return out;
}

/** The JSONL text of `convs` (only role and content of each message). */
export function conversationsToJsonl(convs: readonly Conversation[]): string {
  return convs
    .map(
      (c) =>
        `${JSON.stringify({ messages: c.messages.map((m) => ({ role: m.role, content: m.content })) })}\n`,
    )
    .join("");
}

/** Writes `convs` as JSONL (gzipped for .gz), atomically. */
export async function writeConversations(
  path: string,
  convs: readonly Conversation[],
): Promise<void> {
  const text = conversationsToJsonl(convs);
  await writeFileAtomic(path, path.endsWith(".gz") ? gzipSync(text) : text);
}
