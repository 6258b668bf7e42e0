// A Dubbo 2 provider over plain TCP, bodies in Hessian2 via hessian.js. It behaves as a Java
// Dubbo provider does on the wire: heartbeats answered (event flag, same id, status 20, body
// null), two-way requests answered with status 20 and flag 4 (value + attachments) or 1,
// unknown service 60, unknown method 70, undecodable body 40, oneway calls never answered.
// Library: startDubboProvider(). CLI (docker compose): VERSION=v1 PORT=20880 tsx dubbo-provider.ts
import net from "node:net";
import { fileURLToPath } from "node:url";
import { decodeRequestBody, encodeErrorResponse, encodeHeartbeatResponse, encodeValueResponse } from "./dubbo/codec.ts";
import { DEMO_SERVICE, demoAnswer, isDemoMethod } from "./dubbo/demo-service.ts";
import { FrameReader, type Frame } from "./dubbo/frame-reader.ts";
import { Status, isEvent, isRequest, isTwoWay } from "./dubbo/protocol.ts";

export interface ProviderOptions {
  /** Names this provider in every answer, e.g. "v1" or "v2". */
  version: string;
  port?: number;
  host?: string;
  /** Accept queue length (Node's default 511 overflows when thousands of connections open at once). */
  backlog?: number;
  /** Called with one line per call, heartbeat or dropped connection. */
  log?: (line: string) => void;
  /** Called with each decoded call before it is answered (e.g. a test's tracing instrumentation). */
  onCall?: (call: ProviderCall) => void;
}

export interface ProviderCall {
  interface: string;
  method: string;
  args: unknown[];
  attachments: Record<string, unknown>;
  id: bigint;
  dubboVersion: string;
  serviceVersion: string | null;
  oneway: boolean;
  /** Which accepted connection (1, 2, ...) carried the call. */
  connection: number;
}

export interface DubboProvider {
  port: number;
  calls: ProviderCall[];
  heartbeats: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Java Dubbo sends response attachments only to consumers speaking 2.0.2 .. 2.0.99. */
function supportsResponseAttachments(dubboVersion: string): boolean {
  const parts = dubboVersion.split(".").map((p) => Number.parseInt(p, 10));
  if (parts.length < 3 || parts.some((p) => !Number.isFinite(p))) return false;
  const v = parts[0] * 1_000_000 + parts[1] * 10_000 + parts[2] * 100;
  return v >= 2_000_200 && v <= 2_009_900;
}

export async function startDubboProvider(opts: ProviderOptions): Promise<DubboProvider> {
  const log = opts.log ?? (() => {});
  const sockets = new Set<net.Socket>();
  const state: DubboProvider = {
    port: 0, calls: [], heartbeats: 0, connections: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const answer = (socket: net.Socket, conn: number, f: Frame): Buffer | null => {
    const h = f.header;
    if (!isRequest(h)) return null; // a consumer's heartbeat answer: nothing to do
    if (isEvent(h)) {
      state.heartbeats++;
      log(`conn#${conn} heartbeat id=${h.id}`);
      return isTwoWay(h) ? encodeHeartbeatResponse(h.id) : null;
    }
    let req;
    try {
      req = decodeRequestBody(f.body);
    } catch (e) {
      log(`conn#${conn} bad request id=${h.id}: ${(e as Error).message}`);
      return isTwoWay(h)
        ? encodeErrorResponse(h.id, Status.BAD_REQUEST, `Fail to decode request due to: ${(e as Error).message}`)
        : null;
    }
    const call: ProviderCall = {
      interface: req.path, method: req.method, args: req.args, attachments: req.attachments, id: h.id,
      dubboVersion: req.dubboVersion, serviceVersion: req.version, oneway: !isTwoWay(h), connection: conn,
    };
    state.calls.push(call);
    opts.onCall?.(call);
    const attachmentText = Object.entries(req.attachments).map(([k, v]) => `${k}=${String(v)}`).join(",");
    log(`conn#${conn} call id=${h.id} ${req.path}.${req.method}(${req.args.map((a) => JSON.stringify(a)).join(", ")})` +
      `${call.oneway ? " oneway" : ""} attachments{${attachmentText}}`);
    if (call.oneway) return null;
    const here = `${socket.localAddress}:${socket.localPort}`;
    if (req.path !== DEMO_SERVICE) {
      return encodeErrorResponse(h.id, Status.SERVICE_NOT_FOUND,
        `Not found exported service: ${req.path}:${socket.localPort} in [${DEMO_SERVICE}:${socket.localPort}], ` +
        `may be version or group mismatch, provider: ${here}`);
    }
    if (!isDemoMethod(req.method) || req.args.length !== 1 || typeof req.args[0] !== "string") {
      return encodeErrorResponse(h.id, Status.SERVICE_ERROR,
        `org.apache.dubbo.rpc.RpcException: Not found method "${req.method}(${req.parameterTypes})" in service ${DEMO_SERVICE}, provider: ${here}`);
    }
    const value = demoAnswer(req.method, req.args[0], opts.version);
    return supportsResponseAttachments(req.dubboVersion)
      ? encodeValueResponse(h.id, value, { dubbo: "2.0.2", "x-provider-version": opts.version })
      : encodeValueResponse(h.id, value);
  };

  const server = net.createServer((socket) => {
    const conn = ++state.connections;
    sockets.add(socket);
    const reader = new FrameReader();
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        log(`conn#${conn} closed: ${(e as Error).message}`);
        socket.destroy();
        return;
      }
      const out = frames.map((f) => answer(socket, conn, f)).filter((b): b is Buffer => b !== null);
      if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    });
    socket.on("error", () => {}); // resets from peers are expected (bad-input tests)
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: opts.port ?? 0, host: opts.host ?? "127.0.0.1", backlog: opts.backlog ?? 511 }, () => resolve());
  });
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

// CLI mode for docker compose: one log line per call on stdout.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const version = process.env.VERSION ?? "v1";
  const port = Number(process.env.PORT ?? 20880);
  const host = process.env.HOST ?? "0.0.0.0";
  const provider = await startDubboProvider({ version, port, host, log: (l) => console.log(`[provider ${version}] ${l}`) });
  console.log(`[provider ${version}] ${DEMO_SERVICE} listening on ${host}:${provider.port}`);
  const stop = () => { void provider.close().then(() => process.exit(0)); };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
