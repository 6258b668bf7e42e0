// Captures the fuzz corpus from real peers: each client talks to its real server through a
// recording TCP relay, and what crossed the wire is kept, per connection and direction, as
// tests/fuzz/corpus/<variant>/<peer>.down.bin (client -> server) and .up.bin (server -> client).
//   npm run fuzz:corpus            (rewrites every capture of the peers below)
// Peers here: dubbo2.js and hessian.js (Dubbo), the npm thrift library (every transport and
// protocol), the awesomerpc sample. More peers (Java, Go) add files to the same folders, named
// <peer>.down.bin / <peer>.up.bin, from their own harness: the fuzzer reads whatever is there.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DubboConsumer } from "../apps/dubbo/consumer-client.ts";
import { RawDubboConnection } from "../apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../apps/dubbo/demo-service.ts";
import { startDubboProvider } from "../apps/dubbo-provider.ts";
import { connectGreeter } from "../apps/thrift-client.ts";
import { startThriftServer } from "../apps/thrift-server.ts";
import type { ProtocolName, TransportName } from "../apps/thrift/stack.ts";
import { connectAwesome } from "../apps/awesomerpc-client.ts";
import { startAwesomeServer } from "../apps/awesomerpc-server.ts";

export const CORPUS_DIR = fileURLToPath(new URL("../../tests/fuzz/corpus", import.meta.url));

/** A relay to `port` that records both directions of every connection. */
async function recordingRelay(port: number): Promise<{ port: number; streams: { down: Buffer[]; up: Buffer[] }[]; close(): Promise<void> }> {
  const streams: { down: Buffer[]; up: Buffer[] }[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const rec = { down: [] as Buffer[], up: [] as Buffer[] };
    streams.push(rec);
    const upstream = connect(port, "127.0.0.1");
    for (const s of [client, upstream]) { sockets.add(s); s.on("error", () => {}); s.on("close", () => sockets.delete(s)); }
    client.on("data", (d) => { rec.down.push(Buffer.from(d)); upstream.write(d); });
    upstream.on("data", (d) => { rec.up.push(Buffer.from(d)); client.write(d); });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    streams,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

function save(variant: string, peer: string, rec: { down: Buffer[]; up: Buffer[] }): void {
  const dir = join(CORPUS_DIR, variant);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${peer}.down.bin`), Buffer.concat(rec.down));
  writeFileSync(join(dir, `${peer}.up.bin`), Buffer.concat(rec.up));
}

const settle = () => new Promise((r) => setTimeout(r, 100));

async function captureDubbo(): Promise<void> {
  const provider = await startDubboProvider({ version: "v1" });
  const relay = await recordingRelay(provider.port);
  try {
    // dubbo2.js: every demo method, pipelined.
    const consumer = new DubboConsumer({ address: `127.0.0.1:${relay.port}` });
    await consumer.connected;
    await Promise.all([consumer.call("sayHello", "fuzz"), consumer.call("sayBye", "ü€𝄞"), consumer.call("echo", "x".repeat(2000))]);
    await consumer.close();
    await settle();
    save("dubbo", "dubbo2js", relay.streams[0]);
    // hessian.js frames: heartbeats, attachments, oneway, an unknown method (error reply).
    const raw = await RawDubboConnection.connect(relay.port);
    await raw.heartbeat(1n);
    await raw.request({ id: 2n, path: DEMO_SERVICE, method: "sayHello", args: ["a"], attachments: { group: "g1", application: "fuzz" } });
    raw.write((await import("../apps/dubbo/codec.ts")).encodeRequest({ id: 3n, path: DEMO_SERVICE, method: "echo", args: ["oneway"], twoWay: false }));
    await raw.request({ id: 4n, path: DEMO_SERVICE, method: "noSuchMethod", args: [] });
    await raw.request({ id: 5n, path: DEMO_SERVICE, version: "1.0.0", method: "echo", args: ["v", "w"] });
    await raw.close();
    await settle();
    save("dubbo", "hessianjs", relay.streams[1]);
  } finally {
    await relay.close();
    await provider.close();
  }
}

async function captureThrift(transport: TransportName, protocol: ProtocolName): Promise<void> {
  const server = await startThriftServer({ version: "v1", transport, protocol });
  const relay = await recordingRelay(server.port);
  try {
    const c = await connectGreeter({ host: "127.0.0.1", port: relay.port, transport, protocol, headers: transport === "header" ? { "x-user": "fuzz", "x-canary": "true" } : undefined });
    await c.sayHello("fuzz");
    await c.sayBye("ü€𝄞");
    await c.add(2, 40);
    await c.ping();
    await c.exchange("unknownToRouter", "x");
    await Promise.all([c.sayHello("p1"), c.sayHello("p2"), c.add(1, 1)]);
    await c.close();
    await settle();
    save(`thrift-${transport === "buffered" ? "unframed" : transport}-${protocol}`, "nodejs-thrift", relay.streams[0]);
  } finally {
    await relay.close();
    await server.close();
  }
}

async function captureAwesome(): Promise<void> {
  const server = await startAwesomeServer({ version: "v1" });
  const relay = await recordingRelay(server.port);
  try {
    const c = await connectAwesome({ port: relay.port });
    await c.call(1, "hello");
    await c.call(2, "ü€𝄞");
    await Promise.all([c.call(3, "a"), c.call(4, "b".repeat(1000))]);
    await c.close();
    await settle();
    save("awesomerpc", "sample", relay.streams[0]);
  } finally {
    await relay.close();
    await server.close();
  }
}

export async function captureAll(): Promise<void> {
  await captureDubbo();
  for (const t of ["framed", "buffered", "header"] as TransportName[]) {
    for (const p of ["binary", "compact"] as ProtocolName[]) await captureThrift(t, p);
  }
  await captureAwesome();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  captureAll().then(() => { console.log(`fuzz corpus written to ${CORPUS_DIR}`); process.exit(0); },
    (e) => { console.error(e); process.exit(1); });
}
