/**
 * Reads a built corpus back with the WARC library's own parser and checks it against the
 * summary: every file parses to the end, and record counts and payload bytes match.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { WARCParser } from "warcio";
import { UserError } from "../util/errors.js";
import { type CorpusSummary, SUMMARY_FILE } from "./build.js";

export interface VerifyResult {
  files: number;
  records: number;
  payloadBytes: number;
  problems: string[];
}

export async function verifyCorpus(dir: string): Promise<VerifyResult> {
  let summary: CorpusSummary;
  try {
    summary = JSON.parse(await readFile(join(dir, SUMMARY_FILE), "utf8"));
  } catch {
    throw new UserError(
      `${dir}: no ${SUMMARY_FILE}; this is not a finished corpus`,
      "run `chatforge corpus build` first",
    );
  }
  const problems: string[] = [];
  let records = 0;
  let payloadBytes = 0;
  for (const f of summary.files) {
    let n = 0;
    try {
      for await (const rec of new WARCParser(createReadStream(join(dir, f.name)))) {
        if (rec.warcType === "response") {
          n++;
          payloadBytes += (await rec.readFully(false)).length;
        } else {
          await rec.skipFully();
        }
      }
    } catch (err) {
      problems.push(`${f.name}: ${(err as Error).message}`);
    }
    if (n !== f.records)
      problems.push(`${f.name}: ${n} response records, summary says ${f.records}`);
    records += n;
  }
  if (records !== summary.documents)
    problems.push(`${records} records in total, summary says ${summary.documents}`);
  if (payloadBytes !== summary.payloadBytes) {
    problems.push(`${payloadBytes} payload bytes in total, summary says ${summary.payloadBytes}`);
  }
  return { files: summary.files.length, records, payloadBytes, problems };
}
