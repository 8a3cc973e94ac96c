// The app behind Probot's real HTTP middleware on 127.0.0.1, for end-to-end tests that deliver
// signed webhooks over a socket. Errors thrown by handlers are collected, not lost.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware, type Probot } from "probot";
import { licenseSync } from "../../src/index.js";
import type { AppOptions } from "../../src/deps.js";

export interface ServedApp {
  url: string;
  /** Errors of failed deliveries, in order. */
  errors: unknown[];
  close(): Promise<void>;
}

export async function serveApp(probot: Probot, deps: AppOptions): Promise<ServedApp> {
  const middleware = await createNodeMiddleware(licenseSync(deps), { probot });
  const errors: unknown[] = [];
  probot.webhooks.onError((e) => void errors.push(e));
  const app = createServer((req, res) => void middleware(req, res, () => res.writeHead(404).end()));
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(app.address() as AddressInfo).port}`,
    errors,
    close: () => new Promise<void>((resolve) => app.close(() => resolve())),
  };
}
