// A Greeter client on Apache Thrift's Node library, with promise-returning calls (the library's
// generated code needs a callback: it has no promise support of its own any more).
// Library: connectGreeter(). CLI (docker compose): TARGET=host:port [TRANSPORT] [PROTOCOL]
// tsx envoy-dev/apps/thrift-client.ts   -> calls every method once and prints the answers.
//
// THeader ("header": TBufferedTransport + THeaderProtocol): the code thrift-compiler 0.17
// generates ends each call with the transport's flush(), not THeaderProtocol.flush(), so the
// library would send plain unframed messages and never its headers. The client therefore does
// what THeaderProtocol.flush() does (transport.writeHeaders(), then flush()), setting the
// THeader sequence id to the call's seqid first as the C++, Java, Go and Python THeader
// transports do (the Node transport would write 0). The bytes are the library's own.
import { fileURLToPath } from "node:url";
import thrift from "thrift";
import {
  Greeter, THEADER_PROTOCOL_ID, isTHeaderFrame, parseProtocol, parseTransport, protocolFor, theaderInfoPairs, transportOf,
  type ProtocolName, type TransportName,
} from "./thrift/stack.ts";

const METHODS = ["sayHello", "sayBye", "add", "ping", "unknownToRouter"] as const;

export interface GreeterOptions {
  host: string;
  port: number;
  transport?: TransportName;
  protocol?: ProtocolName;
  /** The library's per-connection request timeout, ms. */
  timeoutMs?: number;
  /** THeader only: info headers sent with every call (until setHeaders). */
  headers?: Record<string, string>;
}

/** A call's outcome with what its reply carried besides the result. */
export interface Reply<T> {
  value?: T;
  /** The library's error (a TApplicationException for an EXCEPTION reply), if any. */
  error?: any;
  seqid: number;
  /** THeader info headers of the reply as the library read them; {} when none or not THeader. */
  headers: Record<string, string>;
  /** The reply's info headers as on the wire, in order, duplicates kept; null when not THeader. */
  infoPairs: [string, string][] | null;
  /** The reply's THeader frame bytes (null for other transports). */
  raw: Buffer | null;
}
export interface GreeterConnection {
  sayHello(name: string): Promise<string>;
  sayBye(name: string): Promise<string>;
  add(a: number, b: number): Promise<number>;
  ping(): Promise<void>;
  unknownToRouter(name: string): Promise<string>;
  /** Any Greeter method by name; resolves (never rejects on a reply) with the reply's headers. */
  exchange<T = unknown>(method: (typeof METHODS)[number], ...args: unknown[]): Promise<Reply<T>>;
  /** THeader only: the info headers sent with later calls (replacing the previous ones). */
  setHeaders(headers: Record<string, string>): void;
  /** Every buffer written to the socket, in order (one per call). */
  sent: Buffer[];
  /** Connection-level errors (resets, timeouts) seen so far. */
  errors: Error[];
  close(): Promise<void>;
}

export async function connectGreeter(o: GreeterOptions): Promise<GreeterConnection> {
  const transportName = o.transport ?? "framed";
  const protocolName = o.protocol ?? "binary";
  const isHeader = transportName === "header";
  const connection = thrift.createConnection(o.host, o.port, {
    transport: transportOf(transportName),
    protocol: protocolFor(transportName, protocolName),
    connect_timeout: 5000,
    timeout: o.timeoutMs ?? 30000,
    max_attempts: 1,
  });
  const errors: Error[] = [];
  connection.on("error", (e: Error) => errors.push(e));
  await new Promise<void>((resolve, reject) => {
    connection.once("connect", () => resolve());
    connection.once("error", reject);
  });
  const sent: Buffer[] = [];
  const write = connection.write.bind(connection);
  connection.write = (data: Buffer, ...rest: unknown[]) => { sent.push(Buffer.from(data)); return write(data, ...rest); };
  const client = thrift.createClient(Greeter, connection);
  const out = client.output; // the client's TBufferedTransport (a THeaderTransport)
  const setHeaders = (h: Record<string, string>) => {
    if (!isHeader) throw new Error(`info headers need the header transport, not ${transportName}`);
    out.clearWriteHeaders();
    for (const [k, v] of Object.entries(h)) out.setWriteHeader(k, v);
  };
  if (isHeader) {
    out.setProtocolId(THEADER_PROTOCOL_ID[protocolName]);
    const flush = out.flush;
    out.flush = function (this: any) {
      this.setSeqId(client.seqid());
      this.writeHeaders();
      return flush.call(this);
    };
    setHeaders(o.headers ?? {});
  } else if (o.headers && Object.keys(o.headers).length) {
    throw new Error(`info headers need the header transport, not ${transportName}`);
  }
  // What each reply carried, by seqid, taken when the library hands the reply to recv_<method>
  // (the connection passes -seqid there). Read headers accumulate on the connection's reader
  // until cleared, so they are cleared after each reply.
  const replies = new Map<number, { headers: Record<string, string>; infoPairs: [string, string][] | null; raw: Buffer | null }>();
  for (const m of METHODS) {
    const recv = client[`recv_${m}`];
    client[`recv_${m}`] = function (this: any, input: any, mtype: number, rseqid: number) {
      const t = input.trans;
      let raw: Buffer | null = null;
      if (isHeader) {
        const head = Buffer.from(t.inBuf.subarray(0, Math.min(t.writeCursor, 14)));
        if (isTHeaderFrame(head)) raw = Buffer.from(t.inBuf.subarray(0, Math.min(t.writeCursor, 4 + t.inBuf.readInt32BE(0))));
        replies.set(-rseqid, { headers: { ...t.getReadHeaders() }, infoPairs: raw ? theaderInfoPairs(raw) : null, raw });
        t.clearReadHeaders();
      }
      return recv.call(this, input, mtype, rseqid);
    };
  }
  const exchange = <T>(method: string, ...args: unknown[]) => new Promise<Reply<T>>((resolve) => {
    let seqid = 0;
    client[method](...args, (err: any, res: T) => {
      const r = replies.get(seqid);
      replies.delete(seqid);
      resolve({
        ...(err ? { error: err } : { value: res }), seqid,
        headers: r?.headers ?? {}, infoPairs: r?.infoPairs ?? null, raw: r?.raw ?? null,
      });
    });
    seqid = client.seqid();
  });
  const call = <T>(method: string, ...args: unknown[]) =>
    exchange<T>(method, ...args).then((r) => ("error" in r ? Promise.reject(r.error) : (r.value as T)));
  return {
    exchange,
    setHeaders,
    sent,
    sayHello: (name) => call("sayHello", name),
    sayBye: (name) => call("sayBye", name),
    add: (a, b) => call("add", a, b),
    ping: () => call("ping"),
    unknownToRouter: (name) => call("unknownToRouter", name),
    errors,
    close: () => new Promise<void>((resolve) => {
      if (!connection.connected) return resolve();
      connection.once("close", () => resolve());
      connection.end();
    }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [host, port] = (process.env.TARGET ?? "127.0.0.1:9090").split(":");
  const opts = { host, port: Number(port), transport: parseTransport(process.env.TRANSPORT), protocol: parseProtocol(process.env.PROTOCOL) };
  // Routing is per connection (first request), so each method gets its own connection.
  const show = async (label: string, f: (c: GreeterConnection) => Promise<unknown>) => {
    const c = await connectGreeter(opts);
    try { console.log(`${label}: ${JSON.stringify(await f(c))}`); }
    catch (e: any) { console.log(`${label}: ${e?.name ?? "Error"}: ${e?.message} (type ${e?.type})`); }
    finally { await c.close(); }
  };
  await show("sayHello", (c) => c.sayHello("mesh"));
  await show("sayBye", (c) => c.sayBye("mesh"));
  await show("add", (c) => c.add(2, 3));
  await show("ping", (c) => c.ping());
  await show("unknownToRouter", (c) => c.unknownToRouter("mesh"));
}
