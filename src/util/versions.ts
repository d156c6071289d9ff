/** Versions recorded in every run log: ours, Node's, and the machine's. */
import { readFileSync } from "node:fs";
import { arch, cpus, platform, totalmem } from "node:os";

let cached: Record<string, string | number> | undefined;

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return pkg.version as string;
}

export function versions(): Record<string, string | number> {
  if (!cached) {
    cached = {
      chatforge: packageVersion(),
      node: process.version,
      platform: `${platform()}-${arch()}`,
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memGiB: Math.round(totalmem() / 2 ** 30),
    };
  }
  return cached;
}
