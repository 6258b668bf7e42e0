// The demo awesomerpc server: answers each request with a response carrying the same pack_flow
// and req_cmd, rsp_code 0, and a JSON body naming the version that served it. A request body
// starting with `delay=<ms>;` is answered after that many milliseconds (answers then leave out of
// order, so correlation by pack_flow is tested, not by position).
// Library: startAwesomeServer(). CLI (docker compose style): VERSION=v1 PORT=8090
// tsx envoy-dev/apps/awesomerpc-server.ts
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { FrameReader, encodeFrame, type AwesomeFrame } from "./awesomerpc-client.ts";

export interface AwesomeServerOptions {
  version: string;
  port?: number;
  log?: (line: string) => void;
}

export interface ServedRequest {
  /** Index of the server-side connection it came on (0, 1, ...). */
  connection: number;
  packFlow: number;
  cmd: number;
  body: string;
}

/** What the server puts in every response body. */
export interface AwesomeAnswer {
  servedBy: string;
  cmd: number;
  packFlow: number;
  echo: string;
}

export interface AwesomeServer {
  port: number;
  version: string;
  /** Requests served, in arrival order. */
  requests: ServedRequest[];
  /** Connections accepted so far. */
  connections: number;
  /** Connections closed because the bytes were not awesomerpc frames. */
  badInput: string[];
  close(): Promise<void>;
}

const DELAY = /^delay=(\d{1,5});/;

export async function startAwesomeServer(o: AwesomeServerOptions): Promise<AwesomeServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const s: AwesomeServer = {
    port: 0, version: o.version, requests: [], connections: 0, badInput: [],
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const sock of sockets) sock.destroy();
      server.close(() => resolve());
    }),
  };

  const answer = (sock: Socket, req: AwesomeFrame) => {
    const body: AwesomeAnswer = { servedBy: o.version, cmd: req.cmd, packFlow: req.packFlow, echo: req.body.toString("utf8") };
    if (!sock.destroyed) sock.write(encodeFrame({ version: req.version, packFlow: req.packFlow, cmd: req.cmd, rspCode: 0, body: JSON.stringify(body) }));
  };

  const server: Server = createServer((sock) => {
    const connection = s.connections++;
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => { /* the peer went away; nothing to answer */ });
    sock.on("end", () => sock.end());
    const reader = new FrameReader();
    sock.on("data", (chunk: Buffer) => {
      let frames: AwesomeFrame[];
      try { frames = reader.push(chunk); } catch (e) {
        s.badInput.push((e as Error).message);
        sock.destroy();
        return;
      }
      for (const f of frames) {
        const body = f.body.toString("utf8");
        s.requests.push({ connection, packFlow: f.packFlow, cmd: f.cmd, body });
        o.log?.(`${o.version}: conn ${connection} pack_flow=${f.packFlow} cmd=${f.cmd}`);
        const m = DELAY.exec(body);
        if (!m) { answer(sock, f); continue; }
        const t = setTimeout(() => { timers.delete(t); answer(sock, f); }, Number(m[1]));
        timers.add(t);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  s.port = (server.address() as AddressInfo).port;
  return s;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const version = process.env.VERSION ?? "v1";
  const s = await startAwesomeServer({ version, port: Number(process.env.PORT ?? 8090), log: (l) => console.log(l) });
  console.log(`awesomerpc-server ${version} listening on ${s.port}`);
  const stop = () => { void s.close().then(() => process.exit(0)); };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
