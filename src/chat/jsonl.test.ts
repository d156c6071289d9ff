/** JSONL conversations: round trip, gzip, and errors that name file and line. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { UserError } from "../util/errors.js";
import type { Conversation } from "./conversation.js";
import { readConversations, streamConversations, writeConversations } from "./jsonl.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cf-chat-jsonl-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const convs: Conversation[] = [
  {
    messages: [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!\nBye." },
    ],
  },
  {
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "2+2? <|im_end|>" },
      { role: "assistant", content: "<|python_start|>2+2<|python_end|>" },
      { role: "tool", content: "4" },
      { role: "assistant", content: "4" },
    ],
  },
];

test("write then read gives the conversations back (plain and gzipped)", async () => {
  for (const name of ["c.jsonl", "c.jsonl.gz"]) {
    const path = join(dir, name);
    await writeConversations(path, convs);
    assert.deepEqual(await readConversations(path), convs);
  }
  const text = await readFile(join(dir, "c.jsonl"), "utf8");
  assert.equal(text.split("\n").length, 3);
});

test("OpenAI shapes: developer is system, text parts are joined, extra fields dropped", async () => {
  const path = join(dir, "openai.jsonl");
  await writeFile(
    path,
    `${JSON.stringify({
      id: "x",
      messages: [
        { role: "developer", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Hi " },
            { type: "text", text: "there" },
          ],
        },
        { role: "assistant", content: "Hello!", name: "bot" },
      ],
    })}\n\n`,
  );
  const got: unknown[] = [];
  for await (const s of streamConversations(path)) got.push(s);
  assert.deepEqual(got, [
    {
      where: `${path}:1`,
      conversation: {
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi there" },
          { role: "assistant", content: "Hello!" },
        ],
      },
    },
  ]);
});

test("errors name the file and line", async () => {
  const good = JSON.stringify(convs[0]);
  const cases: [string, RegExp][] = [
    ["{not json", /:2: not JSON/],
    ['{"msgs": []}', /:2: expected an object \{"messages": \[\.\.\.\]\}/],
    ["[1, 2]", /:2: expected an object/],
    ['{"messages": [{"role": "bot", "content": "x"}]}', /:2: message 1: unknown role "bot"/],
    [
      '{"messages": [{"role": "user", "content": null}]}',
      /:2: message 1 \(user\): content must be a string, not null/,
    ],
    [
      '{"messages": [{"role": "assistant", "content": "x"}]}',
      /:2: message 1: an assistant message cannot come at the start/,
    ],
    ['{"messages": []}', /:2: the conversation has no messages/],
  ];
  for (const [line, re] of cases) {
    const path = join(dir, "bad.jsonl");
    await writeFile(path, `${good}\n${line}\n`);
    await assert.rejects(
      readConversations(path),
      (e: unknown) => e instanceof UserError && e.message.startsWith(path) && re.test(e.message),
      line,
    );
  }
  const path = join(dir, "prompt.jsonl");
  await writeFile(path, '{"messages": [{"role": "user", "content": "x"}]}\n');
  assert.equal((await readConversations(path)).length, 1);
  await assert.rejects(
    readConversations(path, { end: "assistant" }),
    /:1: a training conversation must end/,
  );
  await writeFile(join(dir, "bad.jsonl.gz"), "not gzip");
  await assert.rejects(readConversations(join(dir, "bad.jsonl.gz")), /not a valid gzip file/);
  await assert.rejects(readConversations(join(dir, "missing.jsonl")), { code: "ENOENT" });
});
