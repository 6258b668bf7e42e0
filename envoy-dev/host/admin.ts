// The admin endpoints the local host serves: /stats, /stats/prometheus, /ready, /clusters.
import { createServer, type Server } from "node:http";
import type { ClusterManager } from "./cluster.ts";
import type { StatsStore } from "./stats.ts";

export function startAdmin(address: string, port: number, stats: StatsStore, clusters: ClusterManager): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, body: string, type = "text/plain; charset=UTF-8") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET") return send(405, "only GET is supported by the local host admin\n");
    switch (path) {
      case "/stats": return send(200, stats.text());
      case "/stats/prometheus": return send(200, stats.prometheus(), "text/plain; version=0.0.4; charset=UTF-8");
      case "/ready": return send(200, "LIVE\n");
      case "/clusters": return send(200, clusters.text());
      default: return send(404, `${path}: not served by the local host (try /stats, /stats/prometheus, /ready, /clusters)\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => { server.off("error", reject); resolve(server); });
  });
}
