/** chatforge's library entry point: the same pieces the CLI uses. */

export * from "./chat/index.js";
export * from "./data/index.js";
export * from "./infer/engine.js";
export * from "./model/io/index.js";
export * from "./tasks/index.js";
export * from "./tensor/index.js";
export * from "./tokenizer/index.js";
export type * from "./tools/tool.js";
export * from "./util/atomic.js";
export * from "./util/errors.js";
export * from "./util/progress.js";
export * from "./util/run-dir.js";
export * from "./util/run-log.js";
