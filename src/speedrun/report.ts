/**
 * The speedrun's `report.md`: what each stage did, in numbers a person can check, with the
 * pictures (data funnel, loss curve) and the samples. Paths are relative to the run directory,
 * so the report renders wherever the run directory is viewed.
 */
import type { CorpusSummary } from "../corpus/index.js";
import { type Funnel, formatFunnel } from "../data/pipeline.js";
import type { TokenizeSummary } from "../data/tokenize.js";
import type { ChatEval } from "../eval/chat-eval.js";
import { formatThinkTable, thinkTables } from "../eval/think-table.js";
import type { SftResult } from "../post/sft.js";
import type { SftData } from "../post/sft-data.js";
import type { IndexMeta } from "../search/search-index.js";
import { type CompressionRow, formatCompressionReport } from "../tokenizer/report.js";
import type { TrainStats } from "../tokenizer/train.js";
import type { TrainResult } from "../train/trainer.js";
import { formatBytes, formatCount, formatDuration } from "../util/progress.js";
import { barChartSvg } from "../util/svg-plot.js";

export interface StageTiming {
  name: string;
  seconds: number;
  reused: boolean;
}

export interface ReportInput {
  runName: string;
  root: string;
  machine: Record<string, string | number>;
  timings: StageTiming[];
  corpus: CorpusSummary;
  funnel: Funnel;
  tokenizer: {
    vocabSize: number;
    stats?: TrainStats;
    compression: CompressionRow[];
    heldOutFiles: number;
  };
  shards: TokenizeSummary;
  train: TrainResult;
  sft: { result: SftResult; data: SftData; mixture: Record<string, number> };
  chatEval: ChatEval;
  /** The search tool's index (runs/<run>/index/meta.json). */
  index?: IndexMeta;
  presetName: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Knowledge QA accuracy by how often pretraining saw the entity, as a bar chart. */
export function knowledgePlot(e: ChatEval): string {
  return barChartSvg(
    e.knowledgeByBucket.map((b) => ({
      label: b.bucket,
      note: `n = ${b.n}`,
      bars: [
        { value: b.accuracy, lo: b.ci95[0], hi: b.ci95[1] },
        { value: b.choice.accuracy, lo: b.choice.ci95[0], hi: b.choice.ci95[1] },
      ],
    })),
    {
      title: "knowledge QA (held-out entities) by mentions in pretraining",
      xLabel: "training documents that state the entity's facts",
      yLabel: "accuracy",
      series: ["answer generated", "4-way choice (chance 25%)"],
      yMax: 1,
    },
  );
}

/** One line of a reply for a markdown table or quote. */
const oneLine = (s: string, max = 160) => {
  const t = s.replace(/\s+/g, " ").trim();
  return (t.length > max ? `${t.slice(0, max)}…` : t).replace(/\|/g, "\\|");
};

const code = (s: string) => `\`\`\`\n${s}\n\`\`\``;

export function speedrunReport(r: ReportInput): string {
  const L: string[] = [];
  const total = r.timings.reduce((a, t) => a + t.seconds, 0);
  L.push(`# chatforge speedrun: \`${r.runName}\``, "");
  L.push(
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · ${r.machine.cpu} · ${r.machine.cores} cores · Node ${r.machine.node} · ${r.machine.backend}`,
    "",
  );
  L.push("| stage | time | |", "|---|---:|---|");
  for (const t of r.timings)
    L.push(
      `| ${t.name} | ${formatDuration(t.seconds)} | ${t.reused ? "reused from an earlier run" : ""} |`,
    );
  L.push(`| **total** | **${formatDuration(total)}** | |`, "");

  const c = r.corpus;
  L.push("## 1. Corpus", "");
  L.push(
    `${c.documents} documents, ${formatBytes(c.payloadBytes)} of HTTP payload in ${c.files.length} gzipped WARC files (${formatBytes(c.warcBytes)}), from packages installed by \`npm ci\`:`,
    "",
  );
  L.push("| source | documents | payload |", "|---|---:|---:|");
  for (const [name, s] of Object.entries(c.sources))
    L.push(`| ${name} | ${s.documents} | ${formatBytes(s.payloadBytes)} |`);
  L.push("");

  L.push("## 2. Data pipeline (FineWeb-style)", "");
  L.push(code(formatFunnel(r.funnel)), "", "![data funnel](data/funnel.svg)", "");
  L.push("What each filter removed, with the reason, is in `data/removed/<stage>.jsonl.gz`.", "");

  const t = r.tokenizer;
  L.push("## 3. Tokenizer", "");
  if (t.stats) {
    L.push(
      `Byte-level BPE, GPT-4 split pattern, ${t.vocabSize} tokens (${t.stats.merges} merges + 256 bytes + special tokens), trained on ${formatBytes(t.stats.bytes)} (${t.stats.documents} documents, ${formatCount(t.stats.uniqueChunks)} unique chunks) in ${(t.stats.countSeconds + t.stats.mergeSeconds).toFixed(1)} s.`,
      "",
    );
  } else {
    L.push(`${t.vocabSize} tokens (reused from an earlier run).`, "");
  }
  if (t.compression.length) {
    L.push(
      `Compression on held-out text (the last clean file, ${formatBytes(t.compression[0]!.bytes)}, not used to train the tokenizer):`,
      "",
    );
    L.push(code(formatCompressionReport(t.compression)), "");
  }

  const s = r.shards;
  L.push("## 4. Token shards", "");
  L.push(
    `llm.c format, ${s.tokenBytes * 8}-bit tokens, \`<|endoftext|>\` (id ${s.eot}) before every document:`,
    "",
  );
  L.push("| split | documents | tokens | shards |", "|---|---:|---:|---:|");
  L.push(`| train | ${s.train.docs} | ${formatCount(s.train.tokens)} | ${s.train.shards.length} |`);
  L.push(`| val | ${s.val.docs} | ${formatCount(s.val.tokens)} | ${s.val.shards.length} |`, "");

  const tr = r.train;
  const st = tr.state;
  const last = st.history.at(-1);
  L.push("## 5. Pretraining", "");
  L.push(
    `Model \`${r.presetName}\`: ${(tr.params / 1e6).toFixed(2)}M parameters. ${st.step} steps, ${formatCount(st.tokensSeen)} tokens (${(st.tokensSeen / Math.max(1, s.train.tokens)).toFixed(1)} epochs) in ${formatDuration(st.seconds)}: ${formatCount(st.tokensSeen / Math.max(1e-9, st.seconds))} tokens/s on average, MFU ${(100 * tr.mfu).toFixed(1)}% at the end.`,
    "",
  );
  if (last)
    L.push(
      `Final training loss ${last.loss.toFixed(3)} nats/token (a uniform guess over the vocabulary is ${Math.log(t.vocabSize).toFixed(3)}).`,
    );
  if (tr.finalVal) {
    L.push(
      `**Validation: loss ${tr.finalVal.loss.toFixed(3)} nats/token, ${tr.finalVal.bpb.toFixed(3)} bits per byte.**`,
    );
  }
  L.push("", "![loss curve](plots/pretrain-loss.svg)", "");
  if (st.val.length) {
    L.push("| step | val loss | bits/byte |", "|---:|---:|---:|");
    for (const v of st.val) L.push(`| ${v.step} | ${v.loss.toFixed(3)} | ${v.bpb.toFixed(3)} |`);
    L.push("");
  }

  L.push("## 6. Samples", "");
  L.push("Temperature 0.8, top-k 50, from the final checkpoint (the prompt in bold):", "");
  for (const smp of tr.samples) L.push(`> **${smp.prompt}**${smp.text.replace(/\n/g, " ⏎ ")}`, "");
  L.push(
    `Try more: \`node bin/chatforge.js sample --run ${r.runName} --prompt "..." --show-probs\``,
    "",
  );

  const f = r.sft.result;
  const d = r.sft.data;
  L.push("## 7. Supervised fine-tuning (the chat model)", "");
  L.push(
    `Conversations in the chat layout (\`<|im_start|>role<|im_sep|>…<|im_end|>\`), loss on the assistant's tokens and the \`<|im_end|>\` closing them only; ${d.train.rows} rows of ${d.train.T} tokens, ${f.state.step} steps in ${formatDuration(f.state.seconds)} (${formatCount(f.tokensPerSecond)} tokens/s, ${formatCount(f.trainedTokensPerSecond)} of them trained on).`,
    "",
  );
  L.push("| source | weight | conversations | tokens | trained on |", "|---|---:|---:|---:|---:|");
  for (const [name, st] of Object.entries(d.sources))
    L.push(
      `| ${name} | ${r.sft.mixture[name] ?? "file"} | ${st.conversations} | ${formatCount(st.tokens)} | ${formatCount(st.trained)} |`,
    );
  L.push("");
  const tooLong = Object.entries(d.sources).filter(([, st]) => st.tooLong);
  if (tooLong.length)
    L.push(
      `Left out for not fitting the ${d.train.T}-token context: ${tooLong.map(([n, st]) => `${st.tooLong} ${n}`).join(", ")} conversations.`,
      "",
    );
  if (f.finalVal !== undefined)
    L.push(
      `Validation loss on the tasks' val splits (assistant tokens): **${f.finalVal.toFixed(3)}** nats/token.`,
      "",
    );
  L.push("![SFT loss curve](plots/sft-loss.svg)", "");

  const e = r.chatEval;
  L.push("## 8. The chat model on held-out tests", "");
  L.push(
    `Each task's test split: phrasings (identity, smalltalk), entities (knowledge QA, lookup), words (spelling, letters) and scenarios (arithmetic) that SFT never trained on. Greedy decoding, replies up to ${e.maxNewTokens} tokens; tools the model could call: ${e.tools.length ? e.tools.join(", ") : "none"}.`,
    "",
  );
  L.push(
    "| task | examples | correct | accuracy | 95% interval | closed with `<|im_end|>` |",
    "|---|---:|---:|---:|---|---:|",
  );
  for (const t of e.tasks)
    L.push(
      `| ${t.task} | ${t.n} | ${t.correct} | **${pct(t.accuracy)}** | ${pct(t.ci95[0])}–${pct(t.ci95[1])} | ${pct(t.n ? t.ended / t.n : 0)} |`,
    );
  L.push(`| all | ${e.ended.n} | | | | ${pct(e.ended.fraction)} |`, "");
  const id = e.tasks.find((t) => t.task === "identity");
  if (id?.n) {
    const onTopic = id.examples.filter((x) => x.score.details?.topicOk === true).length;
    L.push(
      `Identity counts a reply as correct when it names itself chatforge and no other assistant; ${onTopic} of ${id.n} (${pct(onTopic / id.n)}) also answer the question asked (its topic's keywords: the maker, the size, the data, …).`,
      "",
    );
  }
  if (e.knowledgeChoice)
    L.push(
      `Knowledge QA as a four-way choice by likelihood (chance 25%): **${pct(e.knowledgeChoice.accuracy)}** (${pct(e.knowledgeChoice.ci95[0])}–${pct(e.knowledgeChoice.ci95[1])}, ${e.knowledgeChoice.n} questions).`,
      "",
    );
  if (e.knowledgeByBucket.length) {
    L.push(
      "Knowledge QA by how often pretraining saw the entity (training documents, after filtering and dedup, that state its facts):",
      "",
    );
    L.push(
      "| mentions | questions | answer generated | 95% interval | 4-way choice | 95% interval |",
      "|---|---:|---:|---|---:|---|",
    );
    for (const b of e.knowledgeByBucket)
      L.push(
        `| ${b.bucket} | ${b.n} | ${pct(b.accuracy)} | ${pct(b.ci95[0])}–${pct(b.ci95[1])} | ${pct(b.choice.accuracy)} | ${pct(b.choice.ci95[0])}–${pct(b.choice.ci95[1])} |`,
      );
    L.push(
      "",
      "*4-way choice*: the reference answer against the same sentence with three wrong values of the relation (from other entities), by log-likelihood per byte; chance is 25%. It shows what the model knows even where it cannot yet say it.",
    );
    L.push("", "![knowledge accuracy by mentions](plots/knowledge-by-mentions.svg)", "");
  }
  L.push("Held-out conversations (the first test examples of each task, right and wrong):", "");
  for (const t of e.tasks) {
    L.push(`**${t.task}**`, "");
    L.push("| prompt | reply | |", "|---|---|---|");
    const right = t.examples.filter((x) => x.score.correct).slice(0, 3);
    const wrong = t.examples.filter((x) => !x.score.correct).slice(0, 2);
    for (const x of [...right, ...wrong])
      L.push(
        `| ${oneLine(x.prompt, 80)} | ${oneLine(x.reply)}${x.ended ? "" : " ✂"} | ${x.score.correct ? "✓" : `✗ ${oneLine(x.score.reason, 60)}`} |`,
      );
    L.push("");
  }
  L.push(
    `Talk to it: \`node bin/chatforge.js chat --run ${r.runName}\` (✂ = cut by the length limit).`,
    "",
  );

  const tables = thinkTables(e.tasks);
  if (tables.length) {
    L.push("## 9. Models need tokens to think", "");
    L.push(
      "The same held-out questions, answered the way the conversation asked: at once (the answer is the first thing the model writes, one forward pass per token), step by step (the work written out in tokens before the answer), or with a tool (a code call the engine runs, or a search); *no instruction* is how a user asks in their own words, where the model chooses. Each cell: accuracy (examples) and, where replies called the tool, how many did.",
      "",
    );
    if (r.index) {
      const c = r.index.counts;
      L.push(
        `The search tool reads a BM25 index (\`runs/${r.runName}/index/\`, built in ${formatDuration(r.index.seconds)}): ${formatCount(c.corpusPassages)} passages of the clean corpus and ${formatCount(c.referencePassages)} reference passages, one per knowledge-base entity, so that facts pretraining saw rarely or never can be found; it shows the top 3 within 96 tokens. Try it: \`node bin/chatforge.js tool search --run ${r.runName} "capital of Chad"\`.`,
        "",
      );
    }
    for (const t of tables) L.push(`**${t.title}**`, "", ...formatThinkTable(t), "");
  }
  return `${L.join("\n")}\n`;
}
