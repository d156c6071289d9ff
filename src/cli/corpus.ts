import type { Command } from "commander";

export function registerCorpus(program: Command): void {
  program.command("corpus").description("build a crawl-like WARC corpus from offline sources");
}
