/** `chatforge serve`: the OpenAI-compatible HTTP API over a run's checkpoints (src/serve/). */
import { type Command, Option } from "commander";
import { startServer } from "../serve/server.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import type { Tool } from "../tools/tool.js";
import { UserError } from "../util/errors.js";
import { collect, port, positiveInt } from "./args.js";
import { addComputeOptions, setupCompute } from "./compute.js";

export interface ServeCliOptions {
  /** The tools a run's models may call (the lead wires the code and search tools here). */
  tools?: (run: string, tok: Tokenizer) => Promise<Tool[]>;
}

export function registerServe(program: Command, extra: ServeCliOptions = {}): void {
  const cmd = program
    .command("serve")
    .summary("serve the checkpoints of runs over an OpenAI-compatible HTTP API")
    .description(
      "An HTTP server with the OpenAI chat-completions API (streamed and not), text completions " +
        "for base models, /v1/models, /health, /tokenize, /detokenize and /metrics. Every " +
        "checkpoint stage of each --run is a model <run>/<stage> (e.g. speedrun/sft, its latest " +
        "step), loaded on first use. Concurrent requests to one model share decoding steps " +
        "(continuous batching over --batch slots), with --queue more waiting; beyond that the " +
        "server answers 429. Point any OpenAI client at http://<host>:<port>/v1.",
    )
    .option("-r, --run <name>", "a run whose checkpoints to serve (repeatable)", collect, [])
    .option("--host <addr>", "address to bind (0.0.0.0 for every interface)", "127.0.0.1")
    .addOption(
      new Option("--port <n>", "port to listen on").default(8080).argParser(port("--port")),
    )
    .option("--api-key <key>", "require 'Authorization: Bearer <key>' (env CHATFORGE_API_KEY)")
    .addOption(
      new Option("--batch <n>", "rows decoded together per model (continuous batching)")
        .default(4)
        .argParser(positiveInt("--batch")),
    )
    .addOption(
      new Option("--queue <n>", "rows that may wait beyond the batch, per model (then 429)")
        .default(16)
        .argParser(positiveInt("--queue")),
    )
    .addOption(
      new Option("--max-models <n>", "models kept in memory (least recently used unloaded)")
        .default(2)
        .argParser(positiveInt("--max-models")),
    )
    .addOption(
      new Option("--max-body <bytes>", "largest request body")
        .default(1 << 20)
        .argParser(positiveInt("--max-body")),
    )
    .addOption(
      new Option("--max-messages <n>", "messages per chat request at most")
        .default(512)
        .argParser(positiveInt("--max-messages")),
    )
    .addOption(
      new Option("--timeout <seconds>", "a request's generation is cut after this long")
        .default(300)
        .argParser(positiveInt("--timeout")),
    );
  addComputeOptions(cmd);
  cmd.action(async (o) => {
    const runs: string[] = o.run.length ? o.run : ["speedrun"];
    await setupCompute(o, false, "decode");
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        runs,
        host: o.host,
        port: o.port,
        apiKey: o.apiKey ?? process.env.CHATFORGE_API_KEY,
        batch: o.batch,
        queue: o.queue,
        maxModels: o.maxModels,
        maxBodyBytes: o.maxBody,
        maxMessages: o.maxMessages,
        timeoutMs: o.timeout * 1000,
        tools: extra.tools,
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === "EADDRINUSE")
        throw new UserError(`port ${o.port} on ${o.host} is in use`, "pick another with --port");
      if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND")
        throw new UserError(`cannot bind to ${o.host}`, "use --host 127.0.0.1 or 0.0.0.0");
      throw e;
    }
    const models = await server.registry.list();
    process.stderr.write(
      `chatforge serve: ${server.url}/v1 — ${models.length} model(s): ${models.map((m) => m.id).join(", ") || "none yet"}\n`,
    );
    if (models.length === 0)
      process.stderr.write(
        `  (no checkpoints under ${runs.map((r) => `runs/${r}/checkpoints/`).join(", ")}; they are picked up when written)\n`,
      );
    const stop = () => {
      process.stderr.write("chatforge serve: shutting down\n");
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
