// A Greeter client on Apache Thrift's Node library, with promise-returning calls (the library's
// generated code needs a callback: it has no promise support of its own any more).
// Library: connectGreeter(). CLI (docker compose): TARGET=host:port [TRANSPORT] [PROTOCOL]
// tsx envoy-dev/apps/thrift-client.ts   -> calls every method once and prints the answers.
import { fileURLToPath } from "node:url";
import thrift from "thrift";
import { Greeter, parseProtocol, parseTransport, protocolOf, transportOf, type ProtocolName, type TransportName } from "./thrift/stack.ts";

export interface GreeterOptions {
  host: string;
  port: number;
  transport?: TransportName;
  protocol?: ProtocolName;
  /** The library's per-connection request timeout, ms. */
  timeoutMs?: number;
}

export interface GreeterConnection {
  sayHello(name: string): Promise<string>;
  sayBye(name: string): Promise<string>;
  add(a: number, b: number): Promise<number>;
  ping(): Promise<void>;
  unknownToRouter(name: string): Promise<string>;
  /** Connection-level errors (resets, timeouts) seen so far. */
  errors: Error[];
  close(): Promise<void>;
}

export async function connectGreeter(o: GreeterOptions): Promise<GreeterConnection> {
  const connection = thrift.createConnection(o.host, o.port, {
    transport: transportOf(o.transport ?? "framed"),
    protocol: protocolOf(o.protocol ?? "binary"),
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
  const client = thrift.createClient(Greeter, connection);
  const call = <T>(method: string, ...args: unknown[]) => new Promise<T>((resolve, reject) => {
    client[method](...args, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
  });
  return {
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
