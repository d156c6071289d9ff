/** The data pipeline: WARC/JSONL → filtered, deduplicated, PII-scrubbed text → token shards. */
export * from "./c4.js";
export * from "./config.js";
export * from "./executor.js";
export * from "./extract.js";
export * from "./fineweb-quality.js";
export * from "./funnel.js";
export * from "./gopher-quality.js";
export * from "./gopher-repetition.js";
export * from "./lang.js";
export * from "./langid-eval.js";
export * from "./minhash.js";
export * from "./pii.js";
export * from "./pipeline.js";
export * from "./shards.js";
export * from "./tokenize.js";
export * from "./url-filter.js";
export * from "./warc.js";
