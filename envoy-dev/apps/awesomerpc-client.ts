// A small awesomerpc client over a real TCP socket: it pipelines (any number of requests in
// flight, answers matched by pack_flow, in whatever order they come), keeps every frame it
// received in arrival order, and reports how the connection ended. Also the frame codec the
// awesomerpc demo server uses.
//
// Frame: a 13-byte big-endian header, then the body (docs/write-your-own-protocol.md):
//   version u8 @0 | pack_flow u32 @1 (request id) | pack_len u32 @5 (whole frame, header
//   included) | req_cmd i16 @9 | rsp_code i16 @11 (responses: 0 = ok)
//
// Library: connectAwesome(). CLI: PORT=8090 [HOST=127.0.0.1] [CMD=1001] [COUNT=10]
// tsx envoy-dev/apps/awesomerpc-client.ts   (pipelines COUNT requests, prints each answer)
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";

export const HEADER_SIZE = 13;
export const PROTOCOL_VERSION = 1;

export interface AwesomeFrame {
  version: number;
  packFlow: number;
  /** pack_len as read from the wire: the whole frame, header included. */
  packLen: number;
  cmd: number;
  rspCode: number;
  body: Buffer;
  /** The frame exactly as it was on the wire. */
  raw: Buffer;
}

export function encodeFrame(f: { version?: number; packFlow: number; cmd: number; rspCode?: number; body?: Buffer | string }): Buffer {
  const body = typeof f.body === "string" ? Buffer.from(f.body, "utf8") : (f.body ?? Buffer.alloc(0));
  const out = Buffer.alloc(HEADER_SIZE + body.length);
  out.writeUInt8(f.version ?? PROTOCOL_VERSION, 0);
  out.writeUInt32BE(f.packFlow >>> 0, 1);
  out.writeUInt32BE(out.length, 5);
  out.writeInt16BE(f.cmd, 9);
  out.writeInt16BE(f.rspCode ?? 0, 11);
  body.copy(out, HEADER_SIZE);
  return out;
}

/** Cuts frames out of a byte stream. A pack_len below the header size is an error. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): AwesomeFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const frames: AwesomeFrame[] = [];
    while (this.buf.length >= 9) {
      const packLen = this.buf.readUInt32BE(5);
      if (packLen < HEADER_SIZE) throw new Error(`awesomerpc: pack_len ${packLen} < ${HEADER_SIZE}`);
      if (this.buf.length < packLen) break;
      const raw = Buffer.from(this.buf.subarray(0, packLen));
      frames.push({
        version: raw.readUInt8(0), packFlow: raw.readUInt32BE(1), packLen,
        cmd: raw.readInt16BE(9), rspCode: raw.readInt16BE(11), body: raw.subarray(HEADER_SIZE), raw,
      });
      this.buf = this.buf.subarray(packLen);
    }
    return frames;
  }
  /** Bytes held that do not make a whole frame yet. */
  get pending(): number { return this.buf.length; }
}

export interface ClosedInfo {
  /** ms since connect */
  atMs: number;
  hadError: string | null;
}

export interface AwesomeConnection {
  socket: Socket;
  /** Every frame received, in arrival order. */
  received: AwesomeFrame[];
  /** Total bytes received (frames and any partial tail). */
  bytesReceived: number;
  /** Set once the socket is fully closed. */
  closed: ClosedInfo | null;
  /** Resolves when the socket is fully closed (never rejects). */
  whenClosed: Promise<ClosedInfo>;
  /** Sends one request and waits for the frame with its pack_flow (bounded). */
  call(cmd: number, body?: string, opts?: { packFlow?: number; timeoutMs?: number }): Promise<AwesomeFrame>;
  /** Writes bytes as they are (several frames, a partial frame, garbage). */
  write(bytes: Buffer): Promise<void>;
  /** Waits (bounded) for the frame with this pack_flow, whether or not call() sent it. */
  waitFor(packFlow: number, timeoutMs?: number): Promise<AwesomeFrame>;
  /** Waits (bounded) until the socket is closed; rejects with what was received otherwise. */
  waitClosed(timeoutMs: number): Promise<ClosedInfo>;
  nextPackFlow(): number;
  close(): Promise<void>;
}

interface Waiter { resolve: (f: AwesomeFrame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export async function connectAwesome(o: { host?: string; port: number; timeoutMs?: number }): Promise<AwesomeConnection> {
  const defaultTimeout = o.timeoutMs ?? 5000;
  const socket = connect({ host: o.host ?? "127.0.0.1", port: o.port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const t0 = performance.now();
  const reader = new FrameReader();
  const waiters = new Map<number, Waiter[]>();
  const byFlow = new Map<number, AwesomeFrame[]>();
  let lastError: string | null = null;
  let flow = 0;
  let resolveClosed!: (c: ClosedInfo) => void;
  const whenClosed = new Promise<ClosedInfo>((r) => { resolveClosed = r; });

  const evidence = () => `received ${conn.received.length} frame(s) [${conn.received.map((f) => `flow=${f.packFlow} cmd=${f.cmd} rsp=${f.rspCode} len=${f.packLen}`).join(", ")}], ` +
    `${conn.bytesReceived} bytes, ${reader.pending} partial, closed=${conn.closed ? `after ${conn.closed.atMs.toFixed(0)} ms` : "no"}`;

  const conn: AwesomeConnection = {
    socket,
    received: [],
    bytesReceived: 0,
    closed: null,
    whenClosed,
    call(cmd, body = "", opts = {}) {
      const packFlow = opts.packFlow ?? conn.nextPackFlow();
      const p = conn.waitFor(packFlow, opts.timeoutMs ?? defaultTimeout);
      socket.write(encodeFrame({ packFlow, cmd, body }));
      return p;
    },
    write(bytes) {
      return new Promise((resolve, reject) => socket.write(bytes, (e) => (e ? reject(e) : resolve())));
    },
    waitFor(packFlow, timeoutMs = defaultTimeout) {
      const have = byFlow.get(packFlow);
      if (have?.length) return Promise.resolve(have.shift()!);
      return new Promise((resolve, reject) => {
        if (conn.closed) return reject(new Error(`awesomerpc: no answer for pack_flow ${packFlow}: connection closed; ${evidence()}`));
        const w: Waiter = {
          resolve, reject,
          timer: setTimeout(() => {
            const list = waiters.get(packFlow)!;
            list.splice(list.indexOf(w), 1);
            reject(new Error(`awesomerpc: no answer for pack_flow ${packFlow} within ${timeoutMs} ms; ${evidence()}`));
          }, timeoutMs),
        };
        const list = waiters.get(packFlow) ?? [];
        list.push(w);
        waiters.set(packFlow, list);
      });
    },
    waitClosed(timeoutMs) {
      if (conn.closed) return Promise.resolve(conn.closed);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`awesomerpc: connection still open after ${timeoutMs} ms; ${evidence()}`)), timeoutMs);
        void whenClosed.then((c) => { clearTimeout(timer); resolve(c); });
      });
    },
    nextPackFlow: () => (flow = (flow + 1) >>> 0),
    close: async () => {
      if (conn.closed) return;
      socket.destroy();
      await whenClosed;
    },
  };

  socket.on("data", (chunk: Buffer) => {
    conn.bytesReceived += chunk.length;
    let frames: AwesomeFrame[];
    try { frames = reader.push(chunk); } catch (e) { lastError = (e as Error).message; socket.destroy(); return; }
    for (const f of frames) {
      conn.received.push(f);
      const list = waiters.get(f.packFlow);
      if (list?.length) {
        const w = list.shift()!;
        clearTimeout(w.timer);
        w.resolve(f);
      } else {
        const q = byFlow.get(f.packFlow) ?? [];
        q.push(f);
        byFlow.set(f.packFlow, q);
      }
    }
  });
  socket.on("error", (e) => { lastError = e.message; });
  // The peer half-closing ends our side too (a client has nothing to say to a closed proxy).
  socket.on("end", () => socket.end());
  socket.on("close", () => {
    conn.closed = { atMs: performance.now() - t0, hadError: lastError };
    for (const [packFlow, list] of waiters) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(new Error(`awesomerpc: no answer for pack_flow ${packFlow}: connection closed; ${evidence()}`));
      }
    }
    waiters.clear();
    resolveClosed(conn.closed);
  });
  return conn;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const c = await connectAwesome({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 8090) });
  const cmd = Number(process.env.CMD ?? 1001);
  const count = Number(process.env.COUNT ?? 10);
  const answers = await Promise.allSettled(Array.from({ length: count }, (_, i) => c.call(cmd, `hello ${i}`)));
  for (const a of answers) {
    if (a.status === "fulfilled") console.log(`pack_flow=${a.value.packFlow} rsp_code=${a.value.rspCode} ${a.value.body.toString("utf8")}`);
    else console.log(`error: ${a.reason.message}`);
  }
  await c.close();
}
