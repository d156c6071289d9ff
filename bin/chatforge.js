#!/usr/bin/env node
// The chatforge CLI. Runs the compiled sources in dist/ (build them with `npm run build`).
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("error: chatforge is not built yet\n  hint: run `npm run build` first\n");
  process.exit(1);
}
const { main } = await import(entry.href);
await main();
