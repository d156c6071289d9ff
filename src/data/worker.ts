/**
 * A worker thread of the local executor: loads the saved config once, then runs the
 * (phase, task) pairs it is sent, answering {ok} or {ok: false, error} for each.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { DataConfig } from "./config.js";
import { runPhase } from "./executor.js";
import { loadConfig, type Phase } from "./pipeline.js";

const { configPath } = workerData as { configPath: string };
const cfg: DataConfig = loadConfig(configPath.replace(/\/work\/config\.json$/, ""));

parentPort?.on("message", async (m: { phase: Phase; task: number }) => {
  try {
    await runPhase(cfg, m.phase, m.task);
    parentPort?.postMessage({ ok: true });
  } catch (e) {
    parentPort?.postMessage({
      ok: false,
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    });
  }
});
