// Drives the Thrift peers from Node: Apache Thrift's Go library (peers/go-thrift, built with the
// Go toolchain from the module proxy) and Java library (peers/java-thrift, built by Maven), each
// cached under .cache/ by a hash of its sources. Servers and clients are child processes
// speaking JSON lines (see their sources).
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CACHE, ensureBuilt, treeHash } from "./build-cache.ts";
import { LineProcess, freePort, type Line } from "./line-process.ts";

const GO_SRC = fileURLToPath(new URL("./go-thrift/", import.meta.url));
const JAVA_SRC = fileURLToPath(new URL("./java-thrift/", import.meta.url));

function version(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new Error(`${what}: ${cmd} was not found`);
  return (r.stdout + r.stderr).split("\n")[0];
}

let goBuilt: Promise<string> | null = null;
/** The Go peer binary, built on first use (the module cache is Go's own download cache). */
export function goThriftPeer(): Promise<string> {
  goBuilt ??= (async () => {
    const files = ["go.mod", "go.sum", "main.go"].map((f) => join(GO_SRC, f));
    const dir = join(CACHE, `go-thrift-${treeHash(files, version("go", ["version"], "Go thrift peer"))}`);
    const r = await ensureBuilt(dir, (out) => [{ cmd: "go", args: ["build", "-o", join(out, "thrift-peer"), "."], cwd: GO_SRC }], "go thrift peer");
    if (r.built) console.error(`go thrift peer: built in ${(r.ms / 1000).toFixed(1)} s`);
    return join(dir, "thrift-peer");
  })();
  return goBuilt;
}

let javaBuilt: Promise<string> | null = null;
/** The Java peer's classpath, built on first use (~/.m2 holds the downloads). */
export function javaThriftClasspath(): Promise<string> {
  javaBuilt ??= (async () => {
    const files = ["pom.xml", "src"].map((f) => join(JAVA_SRC, f));
    const dir = join(CACHE, `java-thrift-${treeHash(files, version("java", ["-version"], "Java thrift peer"))}`);
    const r = await ensureBuilt(dir, (out) => [{ cmd: "mvn", args: ["-B", "-q", "-f", join(JAVA_SRC, "pom.xml"), "package", `-Dpeers.out=${out}`] }], "java thrift peer");
    if (r.built) console.error(`java thrift peer: built in ${(r.ms / 1000).toFixed(1)} s`);
    return `${join(dir, "classes")}:${join(dir, "lib", "*")}`;
  })();
  return javaBuilt;
}

export type GoTransport = "framed" | "buffered" | "header";
export type JavaTransport = "framed" | "unframed";
export type ThriftProtocolName = "binary" | "compact";

export interface ThriftCallLine { label: string; method: string; seqid: number; args?: unknown[]; arg?: string | null; headers?: Record<string, string> }

export class ThriftPeerServer {
  private constructor(readonly stack: string, readonly label: string, readonly port: number, private readonly p: LineProcess) {}

  /** A Go server (TSimpleServer) on 127.0.0.1. */
  static async go(label: string, transport: GoTransport, protocol: ThriftProtocolName): Promise<ThriftPeerServer> {
    const bin = await goThriftPeer();
    const port = await freePort();
    const p = new LineProcess(`go thrift server ${label}`, spawn(bin, ["server", "-port", String(port), "-label", label, "-transport", transport, "-protocol", protocol]));
    await p.waitFor((l) => l.event === "ready", 30_000);
    return new ThriftPeerServer(`Go ${transport}/${protocol}`, label, port, p);
  }

  /** A Java server: unframed = TThreadPoolServer over TServerSocket, framed = TNonblockingServer. */
  static async java(label: string, transport: JavaTransport, protocol: ThriftProtocolName): Promise<ThriftPeerServer> {
    const cp = await javaThriftClasspath();
    const port = await freePort();
    const p = new LineProcess(`java thrift server ${label}`, spawn("java", ["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, "metaprotocol.peers.thrift.Peer", "server", String(port), label, transport, protocol]));
    const ready = await p.waitFor((l) => l.event === "ready", 60_000);
    return new ThriftPeerServer(`Java ${ready.server} ${transport}/${protocol}`, label, port, p);
  }

  get calls(): ThriftCallLine[] { return this.p.lines.filter((l) => l.event === "call") as ThriftCallLine[]; }
  /** The server's line for a call: it may come after the reply reached the client (another pipe). */
  waitForCall(match: (c: ThriftCallLine) => boolean, ms = 5000): Promise<ThriftCallLine> {
    return this.p.waitFor((l) => l.event === "call" && match(l as ThriftCallLine), ms) as Promise<ThriftCallLine>;
  }
  /** Waits until the server has logged at least n calls. */
  async waitForCount(n: number, ms = 5000): Promise<ThriftCallLine[]> {
    const deadline = Date.now() + ms;
    while (this.calls.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.calls;
  }
  close(): Promise<void> { return this.p.stop(); }
}

export interface ThriftReply { ok: boolean; value?: unknown; error?: string; type?: number; message?: string; ms: number; headers?: Record<string, string> | null }

export class ThriftPeerClient {
  private nextId = 1;
  private constructor(readonly stack: string, private readonly p: LineProcess, private readonly java: boolean) {}

  /** A Go client (TStandardClient: sequence ids 1, 2, ...), one connection. */
  static async go(port: number, transport: GoTransport, protocol: ThriftProtocolName): Promise<ThriftPeerClient> {
    const bin = await goThriftPeer();
    const p = new LineProcess("go thrift client", spawn(bin, ["client", "-addr", `127.0.0.1:${port}`, "-transport", transport, "-protocol", protocol]));
    await p.waitFor((l) => l.event === "ready", 30_000);
    return new ThriftPeerClient(`Go ${transport}/${protocol}`, p, false);
  }

  /** A Java client (TSocket, TFramedTransport when framed; ids 1, 2, ... as TServiceClient). */
  static async java(port: number, transport: JavaTransport, protocol: ThriftProtocolName): Promise<ThriftPeerClient> {
    const cp = await javaThriftClasspath();
    const p = new LineProcess("java thrift client", spawn("java", ["-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, "metaprotocol.peers.thrift.Peer", "client", String(port), transport, protocol]));
    await p.waitFor((l) => l.event === "ready", 60_000);
    return new ThriftPeerClient(`Java ${transport}/${protocol}`, p, true);
  }

  /** One call; args are strings or i32s (fields 1, 2, ...); headers: THeader info headers (Go). */
  async call(method: string, args: (string | number)[], headers?: Record<string, string>): Promise<ThriftReply> {
    const id = this.nextId++;
    const line = this.java ? `${id} ${method} ${args.join(" ")}`.trimEnd() : JSON.stringify({ id, method, args, headers });
    this.p.proc.stdin.write(line + "\n");
    return this.p.waitFor((l: Line) => l.id === id, 30_000) as Promise<ThriftReply>;
  }

  close(): Promise<void> { return this.p.stop(); }
}

const PY_SRC = fileURLToPath(new URL("./py-thrift/", import.meta.url));

let pyBuilt: Promise<string> | null = null;
/** A virtualenv with Apache Thrift's Python library from PyPI (requirements.txt), made on first use. */
export function pyThriftPython(): Promise<string> {
  pyBuilt ??= (async () => {
    const dir = join(CACHE, `py-thrift-${treeHash([join(PY_SRC, "requirements.txt")], version("python3", ["--version"], "Python thrift peer"))}`);
    const r = await ensureBuilt(dir, (out) => [
      { cmd: "python3", args: ["-m", "venv", join(out, "venv")] },
      { cmd: join(out, "venv", "bin", "pip"), args: ["install", "-q", "--disable-pip-version-check", "-r", join(PY_SRC, "requirements.txt")] },
    ], "python thrift peer");
    if (r.built) console.error(`python thrift peer: venv made in ${(r.ms / 1000).toFixed(1)} s`);
    return join(dir, "venv", "bin", "python");
  })();
  return pyBuilt;
}

/** Apache Thrift's Python client with its generated code: sequence id 0 on every call. */
export class PyThriftClient {
  private nextId = 1;
  private constructor(private readonly p: LineProcess, readonly thrift: string) {}

  static async start(port: number, transport: "framed" | "buffered", protocol: ThriftProtocolName): Promise<PyThriftClient> {
    const python = await pyThriftPython();
    // No __pycache__ beside the committed generated code (check-thrift-gen compares that folder).
    const p = new LineProcess("python thrift client", spawn(python, [join(PY_SRC, "client.py"), String(port), transport, protocol],
      { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } }));
    const ready = await p.waitFor((l) => l.event === "ready", 30_000);
    return new PyThriftClient(p, `Apache Thrift Python ${ready.thrift}`);
  }

  /** Sends every call, then receives every reply in order (the generated send_/recv_ halves). */
  async pipeline(calls: Array<[string, ...(string | number)[]]>): Promise<{ results: ThriftReply[]; ms: number }> {
    const id = this.nextId++;
    this.p.proc.stdin.write(JSON.stringify({ id, calls }) + "\n");
    return this.p.waitFor((l: Line) => l.id === id, 30_000) as Promise<{ results: ThriftReply[]; ms: number }>;
  }

  close(): Promise<void> { return this.p.stop(); }
}
