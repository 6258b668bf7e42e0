// `npm run bench:capture`: records the frames the in-process benchmark replays, from real
// stacks talking to each other through a recording TCP relay: Apache Dubbo 3.3 (Java consumer
// and provider, hessian2 and fastjson2) and Apache Thrift (Go and Java clients and servers).
// Calls go one at a time, so the bytes each side sent between a call and its reply are exactly
// that call's request and response frames. Each scenario makes 16 calls, so the replayed batch
// carries the request ids (Dubbo) and sequence ids (Thrift) the clients really used.
// Writes envoy-dev/bench/frames/peers.json (committed; the benchmark reads only that file).
import { mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GREETING, JavaConsumer, JavaProvider } from "../../peers/java-dubbo/driver.ts";
import { ThriftPeerClient, ThriftPeerServer, type GoTransport, type JavaTransport, type ThriftProtocolName } from "../../peers/thrift-peers.ts";

const OUT = fileURLToPath(new URL("./frames/peers.json", import.meta.url));
export const BATCH = 16;

/** A relay that keeps every byte each side sent since the last take(). */
class Recorder {
  up: Buffer[] = [];
  down: Buffer[] = [];
  private server!: net.Server;
  private sockets = new Set<net.Socket>();
  port = 0;

  static async start(targetPort: number): Promise<Recorder> {
    const r = new Recorder();
    r.server = net.createServer((client) => {
      const server = net.connect(targetPort, "127.0.0.1");
      for (const s of [client, server]) { r.sockets.add(s); s.on("error", () => {}); s.on("close", () => r.sockets.delete(s)); }
      client.on("data", (d: Buffer) => { r.up.push(Buffer.from(d)); server.write(d); });
      server.on("data", (d: Buffer) => { r.down.push(Buffer.from(d)); client.write(d); });
      client.on("close", () => server.destroy());
      server.on("close", () => client.destroy());
    });
    await new Promise<void>((res) => r.server.listen(0, "127.0.0.1", () => res()));
    r.port = (r.server.address() as net.AddressInfo).port;
    return r;
  }

  take(): { request: Buffer; response: Buffer } {
    const out = { request: Buffer.concat(this.up), response: Buffer.concat(this.down) };
    this.up = []; this.down = [];
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface CapturedScenario {
  name: string;
  protocol: "dubbo" | "thrift";
  /** Who wrote the bytes: client and server stacks with versions. */
  writer: string;
  /** Attachments / headers the calls carried (what routing rules may read). */
  notes: string;
  /** Hex of each call's request and response frames, in call order. */
  requests: string[];
  responses: string[];
}

/** Dubbo frames only (no heartbeats): 16-byte header with the body length at 12. */
function dubboFrames(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p + 16 <= b.length) {
    const n = 16 + b.readUInt32BE(p + 12);
    if ((b[p + 2] & 0x20) === 0) out.push(b.subarray(p, p + n));
    p += n;
  }
  return out;
}

async function dubbo(provider: JavaProvider, consumer: JavaConsumer, serialization: string): Promise<CapturedScenario[]> {
  const rec = await Recorder.start(provider.port);
  try {
    const ref = await consumer.ref({ interface: GREETING, url: `dubbo://127.0.0.1:${rec.port}`, version: "1.0.0", timeout: 30_000, retries: 0, serialization });
    const scenarios: CapturedScenario[] = [];
    for (const [method, arg, att] of [["sayHello", "alice", undefined], ["echoOrder", "n", { "x-tenant": "acme" }]] as const) {
      await consumer.call(ref, method, arg, att); // the first call after a ref may carry one-off bytes
      rec.take();
      const s: CapturedScenario = {
        name: `dubbo ${serialization} ${method}`, protocol: "dubbo", writer: `${consumer.dubbo} consumer -> provider (Java 17)`,
        notes: att ? `user attachment x-tenant=acme` : "no user attachments", requests: [], responses: [],
      };
      for (let i = 0; i < BATCH; i++) {
        const r = await consumer.call(ref, method, arg, att);
        if (!r.ok) throw new Error(`dubbo ${method}: ${r.error}: ${r.message}`);
        await new Promise((res) => setTimeout(res, 20));
        const { request, response } = rec.take();
        const rq = dubboFrames(request), rs = dubboFrames(response);
        if (rq.length !== 1 || rs.length !== 1) throw new Error(`dubbo ${method}: expected one frame each way, got ${rq.length}/${rs.length}`);
        s.requests.push(rq[0].toString("hex"));
        s.responses.push(rs[0].toString("hex"));
      }
      scenarios.push(s);
    }
    await consumer.destroy(ref);
    return scenarios;
  } finally { await rec.close(); }
}

async function thrift(stack: string, server: ThriftPeerServer, client: (port: number) => Promise<ThriftPeerClient>, headers?: Record<string, string>): Promise<CapturedScenario> {
  const rec = await Recorder.start(server.port);
  const c = await client(rec.port);
  try {
    const s: CapturedScenario = { name: `thrift ${stack} sayHello`, protocol: "thrift", writer: `${c.stack} client -> ${server.stack} server`,
      notes: headers ? `THeader info headers ${JSON.stringify(headers)}` : "no headers", requests: [], responses: [] };
    for (let i = 0; i < BATCH; i++) {
      const r = await c.call("sayHello", ["alice"], headers);
      if (!r.ok) throw new Error(`thrift ${stack}: ${r.error} ${r.message ?? ""}`);
      await new Promise((res) => setTimeout(res, 20));
      const { request, response } = rec.take();
      if (!request.length || !response.length) throw new Error(`thrift ${stack}: nothing recorded`);
      s.requests.push(request.toString("hex"));
      s.responses.push(response.toString("hex"));
    }
    return s;
  } finally { await c.close(); await rec.close(); }
}

async function main(): Promise<void> {
  const out: CapturedScenario[] = [];
  const go = async (t: GoTransport, p: ThriftProtocolName, headers?: Record<string, string>) => {
    const srv = await ThriftPeerServer.go("bench", t, p);
    try { out.push(await thrift(`Go ${t}/${p}`, srv, (port) => ThriftPeerClient.go(port, t, p), headers)); } finally { await srv.close(); }
  };
  const java = async (t: JavaTransport, p: ThriftProtocolName) => {
    const srv = await ThriftPeerServer.java("bench", t, p);
    try { out.push(await thrift(`Java ${t}/${p}`, srv, (port) => ThriftPeerClient.java(port, t, p))); } finally { await srv.close(); }
  };
  await go("framed", "binary");
  await go("header", "compact", { "x-tenant": "acme", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
  await java("unframed", "binary");
  await java("framed", "compact");
  const provider = await JavaProvider.start("v1");
  const consumer = await JavaConsumer.start("3.3");
  try {
    out.push(...await dubbo(provider, consumer, "hessian2"));
    out.push(...await dubbo(provider, consumer, "fastjson2"));
  } finally { await consumer.close(); await provider.close(); }
  mkdirSync(join(OUT, ".."), { recursive: true });
  writeFileSync(OUT, JSON.stringify({ captured: new Date().toISOString().slice(0, 10), scenarios: out }, null, 1) + "\n");
  for (const s of out) console.log(`${s.name}: ${s.requests.length} calls, request ${s.requests[0].length / 2} bytes, response ${s.responses[0].length / 2} bytes (${s.writer})`);
  console.log(`wrote ${OUT}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch((e) => { console.error(e); process.exit(1); });
