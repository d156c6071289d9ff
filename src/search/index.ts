/** Local search (DESIGN.md §4, "Tools"): passages, the BM25 index, its files, its build. */
export * from "./build.js";
export * from "./passages.js";
export * from "./reference.js";
export * from "./search-index.js";
export * from "./store.js";
