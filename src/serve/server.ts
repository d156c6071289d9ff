/**
 * Listening: the app of src/serve/app.ts on a Node HTTP server (@hono/node-server), bound to
 * 127.0.0.1:8080 by default. `close()` stops accepting connections, lets running generations
 * finish, and resolves when the server is down.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type AppOptions, createApp, type ServeApp } from "./app.js";

export interface ServerOptions extends AppOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
}

export interface RunningServer extends ServeApp {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export function startServer(o: ServerOptions): Promise<RunningServer> {
  const s = createApp(o);
  const host = o.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: s.app.fetch, hostname: host, port: o.port ?? 8080 }, (info) => {
      const port = (info as AddressInfo).port;
      const shown = host.includes(":") ? `[${host}]` : host;
      resolve({
        ...s,
        url: `http://${shown}:${port}`,
        port,
        close: async () => {
          await new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          });
          await s.close();
        },
      });
    });
    server.once("error", reject);
  });
}
