// /healthz (process alive), /readyz (every informer has synced), /metrics (Prometheus).
import { createServer, type Server } from "node:http";
import type { Metrics } from "./metrics.js";

export function startHttp(port: number, metrics: Metrics, ready: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") { res.writeHead(200).end("ok\n"); return; }
    if (path === "/readyz") { const ok = ready(); res.writeHead(ok ? 200 : 503).end(ok ? "ok\n" : "informers not synced\n"); return; }
    if (path === "/metrics") { res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(metrics.text()); return; }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(port, () => resolve(server)));
}
