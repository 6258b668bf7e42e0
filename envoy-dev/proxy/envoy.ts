// Starts real Envoy on a rewritten envoy.yaml (see bootstrap.ts): --disable-hot-restart,
// --concurrency 2 unless told otherwise, admin on a kernel-picked port, logs to a file. Waits
// for /ready, reads the bound listener ports from /listeners, stops with SIGTERM.
// Envoy's own --log-path is flushed every 10 s (--file-flush-interval-msec), so its log is read
// from stderr, which it writes at once, and copied to envoy.log here.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { rewriteBootstrap, ecdsWithConfig, type BootstrapOptions } from "./bootstrap.ts";
import { getEnvoy, envoyVersionOf } from "./get.ts";

export interface EnvoyOptions extends Omit<BootstrapOptions, "ecds"> {
  configPath: string;
  /** Binary to run (default: the pinned release, installed on first use). */
  bin?: string;
  /** Worker threads (default 2, so state shared across workers is real). */
  concurrency?: number;
  /** Envoy's log level (default info). */
  logLevel?: string;
  /** Component log levels, e.g. "wasm:debug". */
  componentLogLevel?: string;
  /** Listeners whose Wasm filter config comes by ECDS from a watched file, so reconfigure() works. */
  ecdsListeners?: string[];
  startTimeoutMs?: number;
}

export interface RealEnvoy {
  version: string;
  bin: string;
  pid: number;
  dir: string;
  logFile: string;
  listeners: Record<string, { port: number }>;
  adminPort: number;
  admin(path: string, method?: string): Promise<string>;
  logs(): string[];
  /** Replaces a listener's plugin configuration by ECDS; resolves when Envoy took or refused it. */
  reconfigure(listener: string, json: string): Promise<boolean>;
  /** Whether the process is still running. */
  running(): boolean;
  close(): Promise<void>;
}

/** Every Envoy started and not yet closed: tests print their log tails when a test fails. */
export const runningEnvoys = new Set<RealEnvoy>();

export function logTail(e: RealEnvoy, lines = 40): string {
  return e.logs().slice(-lines).join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startEnvoy(o: EnvoyOptions): Promise<RealEnvoy> {
  const bin = o.bin ?? getEnvoy();
  const version = envoyVersionOf(bin);
  const dir = mkdtempSync(join(tmpdir(), "metaprotocol-envoy-"));
  const ecdsFiles = Object.fromEntries((o.ecdsListeners ?? []).map((l) => [l, join(dir, `ecds-${l}.yaml`)]));
  const { bootstrap, ecds } = rewriteBootstrap(parse(readFileSync(o.configPath, "utf8")), { ...o, ecds: ecdsFiles });
  const configFile = join(dir, "envoy.yaml");
  writeFileSync(configFile, stringify(bootstrap));
  for (const [file, resource] of Object.entries(ecds)) writeFileSync(file, stringify(resource));
  const logFile = join(dir, "envoy.log");
  const addrFile = join(dir, "admin.address");
  const args = ["-c", configFile, "--disable-hot-restart", "--concurrency", String(o.concurrency ?? 2),
    "--admin-address-path", addrFile, "--service-node", "metaprotocol-test", "--service-cluster", "metaprotocol-test", "-l", o.logLevel ?? "info"];
  if (o.componentLogLevel) args.push("--component-log-level", o.componentLogLevel);
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    appendFileSync(logFile, d);
    const parts = (partial + d).split("\n");
    partial = parts.pop()!;
    for (const l of parts) if (l) lines.push(l);
    if (lines.length > 50_000) lines.splice(0, lines.length - 50_000);
  });
  let exited: number | null = null;
  const exitedP = new Promise<void>((r) => child.on("exit", (code, sig) => { exited = code ?? (sig ? 128 : 1); r(); }));
  const logs = () => lines.slice();
  const fail = async (why: string): Promise<never> => {
    child.kill("SIGKILL");
    await exitedP;
    // Backtrace frames (a crash) say nothing here; the line naming the signal does.
    const tail = logs().filter((l) => !/backtrace\.h:\d+\] #\d+:/.test(l)).slice(-30).join("\n");
    throw new Error(`Envoy ${version} (${bin}) ${why}\n--- envoy log tail (${logFile}) ---\n${tail}`);
  };

  const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
  let adminPort = 0;
  for (;;) {
    if (exited !== null) return fail(`exited with ${exited} while starting`);
    if (Date.now() > deadline) return fail("did not become ready in time");
    if (!adminPort && existsSync(addrFile)) {
      const m = /:(\d+)\s*$/.exec(readFileSync(addrFile, "utf8"));
      if (m) adminPort = Number(m[1]);
    }
    if (adminPort) {
      try {
        const r = await fetch(`http://127.0.0.1:${adminPort}/ready`);
        if (r.status === 200 && (await r.text()).trim() === "LIVE") break;
      } catch { /* not listening yet */ }
    }
    await sleep(25);
  }
  const admin = async (path: string, method = "GET") => {
    const r = await fetch(`http://127.0.0.1:${adminPort}${path}`, { method });
    const body = await r.text();
    if (r.status !== 200) throw new Error(`Envoy admin ${method} ${path}: ${r.status} ${body.slice(0, 200)}`);
    return body;
  };
  const listeners: Record<string, { port: number }> = {};
  for (const l of JSON.parse(await admin("/listeners?format=json")).listener_statuses ?? []) {
    listeners[l.name] = { port: l.local_address.socket_address.port_value };
  }
  let ecdsVersion = 0;
  const e: RealEnvoy = {
    version, bin, pid: child.pid!, dir, logFile, listeners, adminPort, admin, logs,
    running: () => exited === null,
    async reconfigure(listener, json) {
      const file = ecdsFiles[listener];
      if (!file) throw new Error(`reconfigure: listener ${listener} was not started with its Wasm config by ECDS (ecdsListeners)`);
      const stat = `extension_config_discovery.network_filter.metaprotocol-${listener}`;
      const names = [`${stat}.config_reload`, `${stat}.config_fail`, `${stat}.update_attempt`];
      const before = await counters(admin, names);
      const next = ecdsWithConfig(ecds[file], json);
      next.version_info = String(++ecdsVersion);
      // Envoy watches the file for a rename onto it: write aside, then move into place.
      writeFileSync(`${file}.next`, stringify(next));
      renameSync(`${file}.next`, file);
      const until = Date.now() + 10_000;
      let attemptSeenAt = 0;
      while (Date.now() < until) {
        const now = await counters(admin, names);
        if (now[1] > before[1]) return false;
        if (now[0] > before[0]) { ecds[file] = next; return true; }
        // An update equal to the config in force is read (update_attempt) but neither reloads nor fails.
        if (now[2] > before[2]) {
          attemptSeenAt ||= Date.now();
          if (Date.now() - attemptSeenAt > 300) { ecds[file] = next; return true; }
        }
        await sleep(20);
      }
      throw new Error(`reconfigure(${listener}): Envoy neither took nor refused the ECDS update within 10 s`);
    },
    async close() {
      runningEnvoys.delete(e);
      if (exited === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exitedP;
        clearTimeout(t);
      }
      if (!process.env.KEEP_ENVOY_LOGS) rmSync(dir, { recursive: true, force: true });
    },
  };
  runningEnvoys.add(e);
  return e;
}

async function counters(admin: RealEnvoy["admin"], names: string[]): Promise<number[]> {
  const body = JSON.parse(await admin(`/stats?format=json&filter=${encodeURIComponent(`^(${names.map(escapeRe).join("|")})$`)}`));
  const m = new Map<string, number>((body.stats ?? []).filter((s: any) => "value" in s).map((s: any) => [s.name, s.value]));
  return names.map((n) => m.get(n) ?? 0);
}

function escapeRe(s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
