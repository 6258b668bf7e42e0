// Drives the Java Dubbo peers (this folder's Maven build) from Node: builds them once into
// .cache/java-peers-<hash>/, starts providers and consumers as child processes and talks to
// them over their control lines (JSON, one object per line; see api/.../Control.java).
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CACHE, ensureBuilt, treeHash } from "../build-cache.ts";
import { LineProcess, freePort, type Line } from "../line-process.ts";

const SRC = fileURLToPath(new URL(".", import.meta.url));

function toolVersions(): string {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (java.error) throw new Error("Java peers need a JDK (17) and Maven: java was not found");
  return java.stderr.split("\n")[0];
}

let built: Promise<string> | null = null;
/** The build output directory, built on first use (Maven downloads into ~/.m2, its own cache). */
export function javaPeersDir(): Promise<string> {
  built ??= (async () => {
    const dir = join(CACHE, `java-peers-${treeHash(["pom.xml", "api", "dubbo33", "dubbo27"].map((f) => join(SRC, f)), toolVersions())}`);
    const r = await ensureBuilt(dir, (out) => [{
      cmd: "mvn", args: ["-B", "-q", "-f", join(SRC, "pom.xml"), "package", `-Dpeers.out=${out}`],
    }], "java peers");
    if (r.built) console.error(`java peers: built in ${(r.ms / 1000).toFixed(1)} s into ${dir}`);
    return dir;
  })();
  return built;
}

export { freePort };

function javaArgs(dir: string, module: string, main: string, args: string[]): string[] {
  const cp = `${join(dir, module, "classes")}:${join(dir, module, "lib", "*")}`;
  // Dubbo 2.7 predates the module system: on Java 17 its javassist proxies and hessian-lite need
  // these opens, as in every 2.7 deployment on a current JDK.
  const opens = module === "dubbo27"
    ? ["java.lang", "java.lang.reflect", "java.math", "java.util", "java.util.concurrent", "java.net"].flatMap((p) => ["--add-opens", `java.base/${p}=ALL-UNNAMED`])
    : [];
  // Dubbo swaps a loopback host (127.x, localhost) for the machine's first non-loopback address
  // (NetUtils.filterLocalHost) before connecting or binding. The tests' proxies listen on
  // 127.0.0.1 and test traffic stays on loopback: with every interface ignored it keeps 127.0.0.1.
  const loopback = ["-Ddubbo.network.interface.ignored=.*"];
  // Small heaps, fast start: these are test peers on a 2-core machine.
  return [...loopback, "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", ...opens, "-cp", cp, main, ...args];
}

export interface ProviderCallLine {
  label: string; interface: string; method: string; version: string; group: string | null;
  remote: string; attachments: Record<string, string>; args: (string | null)[];
}

export class JavaProvider {
  private p!: LineProcess;
  private constructor(readonly label: string, readonly port: number) {}

  /** An Apache Dubbo 3.3 provider on 127.0.0.1:port (a free one if not given) answering as `label`. */
  static async start(label: string, port?: number): Promise<JavaProvider> {
    const jp = new JavaProvider(label, port ?? await freePort());
    await jp.launch();
    return jp;
  }

  private async launch(): Promise<void> {
    const dir = await javaPeersDir();
    const proc = spawn("java", javaArgs(dir, "dubbo33", "metaprotocol.peers.v33.Provider", ["--port", String(this.port), "--label", this.label]));
    this.p = new LineProcess(`java provider ${this.label}`, proc);
    await this.p.waitFor((l) => l.event === "ready", 90_000);
  }

  /** Every call the provider saw, in order, as its RpcContext showed it. */
  get calls(): ProviderCallLine[] { return this.p.lines.filter((l) => l.event === "call") as ProviderCallLine[]; }
  waitForCall(match: (c: ProviderCallLine) => boolean, ms = 10_000): Promise<ProviderCallLine> {
    return this.p.waitFor((l) => l.event === "call" && match(l as ProviderCallLine), ms) as Promise<ProviderCallLine>;
  }

  /** Kill -9, then a new process on the same port (a provider restart). */
  async restart(gapMs = 0): Promise<void> {
    const old = this.p;
    await old.kill();
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
    await this.launch();
    // Calls of the old process stay visible.
    this.p.lines.unshift(...old.lines.filter((l) => l.event === "call"));
  }

  kill(): Promise<void> { return this.p.kill(); }
  close(): Promise<void> { return this.p.stop(); }
  stderrTail(n = 40): string { return this.p.stderr.slice(-n).join("\n"); }
}

export interface RefOptions {
  interface: string;
  /** dubbo://host:port */
  url: string;
  version?: string;
  group?: string;
  timeout?: number;
  retries?: number;
  /** Dedicated connections for this reference (Dubbo's `connections`); unset = the shared one. */
  connections?: number;
  /** Heartbeat interval, ms (Dubbo's `heartbeat` URL parameter). */
  heartbeat?: number;
  /** 3.3 only: hessian2 or fastjson2. */
  serialization?: string;
}

export interface CallResult {
  ok: boolean;
  value?: string | null;
  ms: number;
  serverAttachments?: Record<string, string>;
  error?: string;
  message?: string;
  causes?: string[];
}

export type JavaDubboVersion = "3.3" | "2.7";

export class JavaConsumer {
  private nextId = 1;
  private refs = 0;
  private constructor(readonly version: JavaDubboVersion, private readonly p: LineProcess, readonly dubbo: string) {}

  static async start(version: JavaDubboVersion): Promise<JavaConsumer> {
    const dir = await javaPeersDir();
    const module = version === "3.3" ? "dubbo33" : "dubbo27";
    const pkg = version === "3.3" ? "v33" : "v27";
    const proc = spawn("java", javaArgs(dir, module, `metaprotocol.peers.${pkg}.Consumer`, []));
    const p = new LineProcess(`java consumer ${version}`, proc);
    const ready = await p.waitFor((l) => l.event === "ready", 90_000);
    return new JavaConsumer(version, p, `Apache Dubbo ${ready.dubbo}`);
  }

  private async command(cmd: Record<string, unknown>, ms = 60_000): Promise<Line> {
    const id = this.nextId++;
    this.p.proc.stdin.write(JSON.stringify({ ...cmd, id }) + "\n");
    return this.p.waitFor((l) => l.id === id, ms);
  }

  /** A reference (ReferenceConfig.get()); returns its name for call(). */
  async ref(o: RefOptions): Promise<string> {
    const name = `r${++this.refs}`;
    const r = await this.command({ op: "ref", name, ...o });
    if (!r.ok) throw new Error(`${this.dubbo}: ref ${o.interface} failed: ${r.error}: ${r.message}`);
    return name;
  }

  async call(ref: string, method: string, arg: string | null, attachments?: Record<string, string>): Promise<CallResult> {
    return this.command({ op: "call", ref, method, arg, attachments }) as Promise<CallResult>;
  }

  async destroy(ref: string): Promise<void> { await this.command({ op: "destroy", ref }); }
  close(): Promise<void> { return this.p.stop(); }
  stderrTail(n = 40): string { return this.p.stderr.slice(-n).join("\n"); }
}

export const GREETING = "metaprotocol.peers.GreetingService";
export const INVENTORY = "metaprotocol.peers.InventoryService";
