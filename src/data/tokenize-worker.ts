/**
 * A worker of `data tokenize`: opens the tokenizer once, then encodes whole files it is sent,
 * answering all tokens (each document prefixed with `<|endoftext|>`; uint16 when the
 * vocabulary fits) and the document ends. Given the corpus's knowledge-pages.ndjson, it also
 * answers, for each document that was a knowledge page, the entities whose facts it still
 * states (null for other documents).
 */
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { type KnowledgePageRecord, statedEntities } from "../corpus/sources/knowledge.js";
import { openTokenizer } from "../tokenizer/index.js";
import { readJsonlGz } from "./pipeline.js";

const data = workerData as { tokenizer: string; pages?: string };
const tok = await openTokenizer(data.tokenizer);
const eot = tok.specialTokenId("<|endoftext|>");
const pages = new Map<string, KnowledgePageRecord>();
if (data.pages) {
  for (const line of readFileSync(data.pages, "utf8").split("\n")) {
    if (!line) continue;
    const r = JSON.parse(line) as KnowledgePageRecord;
    pages.set(r.url, r);
  }
}

parentPort?.on("message", (m: { file: string }) => {
  try {
    const docs = readJsonlGz<{ text: string; url?: string }>(m.file);
    const parts: number[][] = [];
    const docEnds = new Uint32Array(docs.length);
    const mentions: (string[] | null)[] = [];
    let total = 0;
    docs.forEach((d, i) => {
      const ids = tok.encodeOrdinary(d.text);
      parts.push(ids);
      total += ids.length + 1;
      docEnds[i] = total;
      const rec = d.url === undefined ? undefined : pages.get(d.url);
      mentions.push(rec ? statedEntities(d.text, rec) : null);
    });
    const tokens = tok.vocabSize <= 65536 ? new Uint16Array(total) : new Uint32Array(total);
    let o = 0;
    for (const ids of parts) {
      tokens[o++] = eot;
      tokens.set(ids, o);
      o += ids.length;
    }
    parentPort?.postMessage({ tokens, docEnds, mentions }, [tokens.buffer, docEnds.buffer]);
  } catch (e) {
    parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
