// A raw Dubbo socket for tests: writes any bytes (valid frames, garbage, partial frames) and
// reads responses back with hessian.js, matched by request id. It is the second real-library
// path next to dubbo2.js: it sees everything on the wire, response attachments included.
import net from "node:net";
import { decodeResponse, encodeHeartbeatRequest, encodeRequest, type DecodedResponse, type RequestSpec } from "./codec.ts";
import { FrameReader } from "./frame-reader.ts";

export class RawDubboConnection {
  readonly responses: DecodedResponse[] = [];
  /** Set when the peer sent bytes that are not Dubbo frames. */
  protocolError: string | null = null;
  /** Resolves when the socket is fully closed (by either side). */
  readonly closed: Promise<void>;
  private readonly waiters = new Map<bigint, (r: DecodedResponse) => void>();
  private readonly reader = new FrameReader();
  private isClosed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const f of this.reader.push(chunk)) {
          const r = decodeResponse(f.header, f.body);
          this.responses.push(r);
          this.waiters.get(r.id)?.(r);
          this.waiters.delete(r.id);
        }
      } catch (e) {
        this.protocolError = (e as Error).message;
        socket.destroy();
      }
    });
    socket.on("error", () => {}); // a reset is one of the outcomes tests look at
    this.closed = new Promise((resolve) => socket.once("close", () => { this.isClosed = true; resolve(); }));
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawDubboConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host);
      s.once("connect", () => { s.off("error", reject); resolve(new RawDubboConnection(s)); });
      s.once("error", reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for the response with this id; rejects if the connection closes first. */
  response(id: bigint): Promise<DecodedResponse> {
    const seen = this.responses.find((r) => r.id === id);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.set(id, resolve);
      void this.closed.then(() => {
        if (this.waiters.delete(id)) reject(new Error(`connection closed before response ${id}`));
      });
    });
  }

  request(spec: RequestSpec): Promise<DecodedResponse> {
    const answer = this.response(spec.id);
    this.write(encodeRequest(spec));
    return answer;
  }

  heartbeat(id: bigint): Promise<DecodedResponse> {
    const answer = this.response(id);
    this.write(encodeHeartbeatRequest(id));
    return answer;
  }

  /** Half-closes our side, as a peer that stops mid-frame does. */
  end(): void {
    this.socket.end();
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}
