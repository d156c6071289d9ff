/**
 * A worker of `data tokenize`: opens the tokenizer once, then encodes whole files it is sent,
 * answering all tokens (each document prefixed with `<|endoftext|>`) and the document ends.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openTokenizer } from "../tokenizer/index.js";
import { readJsonlGz } from "./pipeline.js";

const tok = await openTokenizer((workerData as { tokenizer: string }).tokenizer);
const eot = tok.specialTokenId("<|endoftext|>");

parentPort?.on("message", (m: { file: string }) => {
  try {
    const docs = readJsonlGz<{ text: string }>(m.file);
    const parts: number[][] = [];
    const docEnds = new Uint32Array(docs.length);
    let total = 0;
    docs.forEach((d, i) => {
      const ids = tok.encodeOrdinary(d.text);
      parts.push(ids);
      total += ids.length + 1;
      docEnds[i] = total;
    });
    const tokens = new Uint32Array(total);
    let o = 0;
    for (const ids of parts) {
      tokens[o++] = eot;
      tokens.set(ids, o);
      o += ids.length;
    }
    parentPort?.postMessage({ tokens, docEnds }, [tokens.buffer, docEnds.buffer]);
  } catch (e) {
    parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
