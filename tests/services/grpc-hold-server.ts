// A gRPC server the tests control, for what the real services cannot stage: an answer held until
// the test releases it (bytes arriving while a connection is paused, timeouts, cancel on close),
// a chosen gRPC error status, and a record of the request headers and of stream resets (cancels)
// as the server saw them. Plain node:http2 (h2c), gRPC framing by hand.
import { createServer, type Http2Server, type ServerHttp2Stream, type IncomingHttpHeaders } from "node:http2";

export interface HeldCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set when the stream closed: the RST_STREAM code (8 = CANCEL) or 0 after a normal end. */
  rstCode: number | null;
  /** Which HTTP/2 connection (1, 2, ...) carried the call. */
  session: number;
  closed: Promise<void>;
  reply(message: string | Buffer): void;
  fail(code: number, message: string): void;
  /** Answers with a non-200 HTTP status and no gRPC status. */
  httpError(status: number): void;
  /** Answers grpc-status 0 with no message. */
  empty(): void;
}

export interface HoldServer {
  port: number;
  /** HTTP/2 connections accepted so far. */
  sessions(): number;
  calls: HeldCall[];
  waitForCalls(n: number, timeoutMs?: number): Promise<HeldCall[]>;
  close(): Promise<void>;
}

/** `auto` answers each call at once (with its return value as the message, or an error). */
export async function startHoldServer(auto?: (c: HeldCall) => { message: string } | { code: number; text: string } | null): Promise<HoldServer> {
  const calls: HeldCall[] = [];
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  const ids = new WeakMap<object, number>();
  let opened = 0;
  const server: Http2Server = createServer();
  server.on("session", (s) => { sessions.add(s); ids.set(s, ++opened); s.on("close", () => sessions.delete(s)); });
  server.on("stream", (stream: ServerHttp2Stream, headers) => {
    const chunks: Buffer[] = [];
    let resolveClosed!: () => void;
    const call: HeldCall = {
      path: String(headers[":path"]), headers, body: Buffer.alloc(0), rstCode: null, session: ids.get(stream.session!) ?? 0,
      closed: new Promise<void>((r) => { resolveClosed = r; }),
      reply(message) {
        if (stream.destroyed || stream.closed) return;
        const m = Buffer.from(message);
        const frame = Buffer.alloc(5);
        frame.writeUInt32BE(m.length, 1);
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(Buffer.concat([frame, m]));
      },
      fail(code, text) {
        if (stream.destroyed || stream.closed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": grpcPercentEncode(text) }, { endStream: true });
      },
      httpError(status) {
        if (stream.destroyed || stream.closed) return;
        stream.respond({ ":status": status, "content-type": "text/plain" });
        stream.end("not grpc");
      },
      empty() {
        if (stream.destroyed || stream.closed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end();
      },
    };
    stream.on("error", () => { /* resets show in rstCode */ });
    stream.on("close", () => { call.rstCode = stream.rstCode ?? 0; resolveClosed(); });
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => {
      const all = Buffer.concat(chunks);
      call.body = all.length >= 5 ? all.subarray(5, 5 + all.readUInt32BE(1)) : all;
      calls.push(call);
      const a = auto?.(call);
      if (a && "message" in a) call.reply(a.message);
      else if (a) call.fail(a.code, a.text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as { port: number }).port,
    sessions: () => opened,
    calls,
    async waitForCalls(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (calls.length < n) {
        if (Date.now() > deadline) throw new Error(`hold server: ${calls.length} of ${n} calls within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return calls.slice();
    },
    close: () => new Promise<void>((r) => { for (const s of sessions) s.destroy(); server.close(() => r()); }),
  };
}

/** grpc-message encoding of the gRPC HTTP/2 spec: bytes outside 0x20..0x7E and "%" as %XX. */
function grpcPercentEncode(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) out += b < 0x20 || b > 0x7e || b === 0x25 ? "%" + b.toString(16).toUpperCase().padStart(2, "0") : String.fromCharCode(b);
  return out;
}
