// Child processes of the mesh tests: output to a log file (its tail goes into failures), free
// loopback ports picked by the kernel, polling with a deadline, and a stop that waits for exit.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import net from "node:net";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: boolean;
  tail(lines?: number): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Every process started and not stopped: the suites stop them all in `after`, and on exit. */
export const running = new Set<Proc>();
process.on("exit", () => { for (const p of running) try { p.child.kill("SIGKILL"); } catch { /* gone */ } });

export function start(name: string, cmd: string, args: string[], logFile: string, opts: SpawnOptions = {}): Proc {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  let done!: () => void;
  const exitedP = new Promise<void>((r) => { done = r; });
  const p: Proc = {
    name, child, logFile, exited: false,
    tail: (lines = 30) => { try { return readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n"); } catch { return ""; } },
    stop: async (signal = "SIGTERM") => {
      running.delete(p);
      if (!p.exited) {
        child.kill(signal);
        const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exitedP;
        clearTimeout(t);
      }
    },
  };
  child.on("exit", () => { p.exited = true; running.delete(p); log.end(); done(); });
  running.add(p);
  return p;
}

export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => { const port = (s.address() as net.AddressInfo).port; s.close(() => resolve(port)); });
  });
}

/** Polls `check` until it returns a value other than undefined/false; the error names `what`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 200, proc?: Proc): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (proc?.exited) throw new Error(`${what}: ${proc.name} exited\n--- ${proc.logFile} ---\n${proc.tail()}`);
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) { last = e; }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ""}${proc ? `\n--- ${proc.logFile} ---\n${proc.tail()}` : ""}`);
    }
    await sleep(everyMs);
  }
}
