import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { CHAT_TOKENS } from "../chat/conversation.js";
import { renderConversation } from "../chat/render.js";
import { chatTestTokenizer } from "../chat/test-tokenizer.js";
import { buildSearchIndex } from "../search/build.js";
import { referenceText } from "../search/reference.js";
import { createSearchTool, formatSearchOutput } from "../tools/search.js";
import { entitySplit, knowledgeQa } from "./knowledge-qa.js";
import {
  LOOKUP_INSTRUCTIONS,
  lookup,
  lookupCellOf,
  lookupCells,
  lookupTask,
  searchCall,
} from "./lookup.js";
import type { Split, TaskContext, TaskExample } from "./task.js";
import { fixtureContext, syntheticContext } from "./test-fixtures.js";

const SPLITS: Split[] = ["train", "val", "test"];
const root = mkdtempSync(join(tmpdir(), "chatforge-lookup-"));
after(() => rmSync(root, { recursive: true, force: true }));

const user = (e: TaskExample) => e.conversation.messages[0]!.content;
const reference = (e: TaskExample) => e.conversation.messages.at(-1)!.content;
const between = (s: string, a: string, b: string) => {
  const i = s.indexOf(a);
  return i < 0 ? undefined : s.slice(i + a.length, s.indexOf(b, i));
};

const synth = syntheticContext(400, 2);
const bySplit = Object.fromEntries(SPLITS.map((s) => [s, lookup.examples(s, synth)])) as Record<
  Split,
  TaskExample[]
>;

test("lookup: split by knowledge-qa's entity split, only rarely seen entities, test never trained on", () => {
  const entities = SPLITS.map((s) => new Set(bySplit[s].map((e) => e.meta.entity as string)));
  for (const [i, s] of SPLITS.entries()) {
    assert.ok(bySplit[s].length > 0, s);
    for (const k of entities[i]!) assert.equal(entitySplit(k), s, k);
    for (const e of bySplit[s])
      assert.ok((synth.mentions!.counts[e.meta.entity as string] ?? 0) <= 3);
  }
  // neither task trains on a lookup test or val entity
  const qaTrain = new Set(knowledgeQa.examples("train", synth).map((e) => e.meta.entity));
  for (const s of ["val", "test"] as const)
    for (const k of entities[SPLITS.indexOf(s)]!) {
      assert.ok(!entities[0]!.has(k), k);
      assert.ok(!qaTrain.has(k), k);
    }
  // the mention buckets of rarely seen entities only
  assert.deepEqual([...new Set(bySplit.test.map((e) => e.meta.bucket))].sort(), ["0", "1", "2-3"]);
  // without mention counts: every entity may be asked about
  const noMentions: TaskContext = { ...synth, mentions: undefined };
  const all = lookup.examples("test", noMentions);
  assert.ok(new Set(all.map((e) => e.meta.entity)).size > entities[2]!.size);
  assert.ok(all.every((e) => e.meta.bucket === "0" && e.meta.mentions === undefined));
  // deterministic
  assert.deepEqual(lookup.examples("test", synth), bySplit.test);
  assert.equal(lookupTask({ limits: { test: 10 } }).examples("test", synth).length, 20);
});

test("lookup: test and val ask each fact with search and from memory; cells form x bucket", () => {
  for (const s of ["val", "test"] as const) {
    const ex = bySplit[s];
    assert.equal(ex.length % 2, 0);
    for (let i = 0; i < ex.length; i += 2) {
      assert.equal(ex[i]!.meta.form, "search");
      assert.equal(ex[i + 1]!.meta.form, "memory");
      assert.equal(ex[i]!.meta.entity, ex[i + 1]!.meta.entity);
      assert.equal(ex[i]!.meta.relation, ex[i + 1]!.meta.relation);
    }
    for (const e of ex) {
      const c = lookupCellOf(e);
      assert.equal(c.key, e.meta.cell);
      assert.ok(lookupCells().some((x) => x.key === c.key));
    }
  }
  assert.equal(lookupCells().length, 14);
  assert.ok(bySplit.test.some((e) => e.meta.style === "none"));
  assert.ok(bySplit.test.some((e) => e.meta.style === "search"));
  // train mixes the three styles
  const styles = new Map<string, number>();
  for (const e of bySplit.train)
    styles.set(e.meta.style as string, (styles.get(e.meta.style as string) ?? 0) + 1);
  for (const s of ["search", "none", "memory"]) assert.ok((styles.get(s) ?? 0) > 20, s);
});

test("lookup: instructions lead to the search form or the bare answer", () => {
  for (const s of SPLITS) {
    for (const e of bySplit[s]) {
      const u = user(e);
      const r = reference(e);
      const has = (form: "search" | "memory") =>
        LOOKUP_INSTRUCTIONS[form].some((x) => u.includes(x));
      if (e.meta.style === "none") assert.ok(!has("search") && !has("memory"), u);
      if (e.meta.style === "search") assert.ok(has("search"), u);
      if (e.meta.style === "memory") assert.ok(has("memory"), u);
      if (e.meta.form === "search") {
        assert.ok(
          r.startsWith(`${CHAT_TOKENS.searchStart}${e.meta.query}${CHAT_TOKENS.searchEnd}`),
          r,
        );
        const after = r.slice(r.indexOf(CHAT_TOKENS.outputEnd) + CHAT_TOKENS.outputEnd.length);
        assert.match(after, /^[A-Z].*\.$/);
      } else {
        assert.ok(!r.includes(CHAT_TOKENS.searchStart), r);
      }
    }
  }
});

test("lookup scorer: references score 1; answers must be the assistant's own words", () => {
  for (const s of SPLITS)
    for (const e of bySplit[s]) {
      const sc = lookup.score(e, reference(e));
      assert.equal(sc.correct, true, `${e.id}: ${sc.reason}`);
      assert.equal(sc.details?.usedSearch, e.meta.form === "search");
      assert.equal(sc.details?.followed, true);
    }
  const chad = {
    id: "x",
    conversation: { messages: [] },
    meta: {
      entity: "country:chad",
      relation: "capital",
      accepted: ["N'Djamena", "Ndjamena"],
      names: ["Chad"],
      form: "memory",
    },
  };
  assert.equal(lookup.score(chad, "The capital of Chad is N'Djamena.").correct, true);
  assert.equal(lookup.score(chad, "It is Ndjamena.").correct, true);
  const searched = lookup.score(
    chad,
    `${searchCall("capital of Chad", "Chad: The capital of Chad is N'Djamena.")}The capital of Chad is N'Djamena.`,
  );
  assert.equal(searched.correct, true);
  assert.deepEqual(searched.details, { usedSearch: true, followed: false, form: "memory" });
  // the answer only in the tool's output is not an answer
  assert.equal(
    lookup.score(chad, searchCall("capital of Chad", "The capital of Chad is N'Djamena.")).correct,
    false,
  );
  assert.equal(lookup.score(chad, "The capital of Chad is Moundou.").correct, false);
});

async function fixtureIndex() {
  const data = join(root, "data");
  mkdirSync(data, { recursive: true });
  const docs = [
    {
      id: "d0",
      url: "https://atlas.example/europe.html",
      text: "Countries of Europe at a glance\nThe capital of France is Paris. Most people in Germany speak German.",
    },
    {
      id: "d1",
      url: "https://books.example/1.html",
      text: `A long chapter\n${Array.from({ length: 40 }, (_, i) => `Line ${i} of a long story about the sea, the capital city and the born sailors who died at sea.`).join(" ")}`,
    },
  ];
  writeFileSync(
    join(data, "clean-00000.jsonl.gz"),
    gzipSync(docs.map((d) => JSON.stringify(d)).join("\n")),
  );
  const ctx = fixtureContext(1);
  return buildSearchIndex({
    dataDir: data,
    outDir: join(root, "index"),
    run: "t",
    kb: ctx.knowledge,
    quiet: true,
  });
}

test("lookup: the output in a reference is what the search tool returns (or the reference passage)", async () => {
  const tok = chatTestTokenizer();
  const tool = createSearchTool(await fixtureIndex(), tok);
  const base = fixtureContext(1);
  const ctx: TaskContext = { ...base, mentions: undefined, search: (q) => tool.run(q).output };
  const task = lookupTask({ limits: { train: 200 } });
  let checked = 0;
  let fallback = 0;
  let max = 0;
  for (const s of SPLITS) {
    const withTool = task.examples(s, ctx);
    const without = task.examples(s, { ...base, mentions: undefined });
    for (const e of withTool) {
      if (e.meta.form !== "search") continue;
      const out = between(reference(e), CHAT_TOKENS.outputStart, CHAT_TOKENS.outputEnd);
      assert.equal(out, tool.run(e.meta.query as string).output, e.id);
      checked++;
    }
    for (const e of without) {
      if (e.meta.form !== "search") continue;
      const ent = base.knowledge.entities.find((x) => x.key === e.meta.entity)!;
      const out = between(reference(e), CHAT_TOKENS.outputStart, CHAT_TOKENS.outputEnd);
      assert.equal(out, formatSearchOutput([{ title: ent.name, text: referenceText(ent) }]));
      fallback++;
    }
    // every example renders and fits 256 tokens (cl100k; the run's 8k BPE takes up to 1.6x on
    // conversations, see arithmetic.test.ts, so outputs of at most 96 tokens of either keep it
    // under 256 with the question and answer); the output is masked, the call trained
    for (const e of [...withTool, ...without]) {
      const r = renderConversation(tok, e.conversation, { where: e.id, maxTokens: 256 });
      max = Math.max(max, r.ids.length);
      if (e.meta.form === "search") assert.ok(r.mask.includes(0) && r.mask.includes(1));
    }
  }
  assert.ok(checked > 30 && fallback > 30, `${checked} tool outputs, ${fallback} fallbacks`);
  assert.ok(max <= 170, `longest example ${max} cl100k tokens`);
  console.log(`lookup: longest example ${max} cl100k tokens`);
});
