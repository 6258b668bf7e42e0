// A service process started by a test: output kept (and tailed into errors), a readiness check
// polled with a deadline, stopped with SIGTERM (SIGKILL after 5 s). Free loopback ports come
// from the kernel (bind to port 0, read it, release it): a service that then fails to bind is
// started again on other ports by the caller.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export interface ServiceProcess {
  name: string;
  pid: number;
  /** Output lines (stdout and stderr) so far. */
  output(): string[];
  running(): boolean;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r, j) => { s.once("error", j); s.listen(0, "127.0.0.1", () => r()); });
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function tail(p: ServiceProcess, lines = 30): string {
  return p.output().slice(-lines).join("\n");
}

export function startProcess(name: string, bin: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): ServiceProcess {
  const child: ChildProcess = spawn(bin, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let exited = false;
  const exitedP = new Promise<void>((r) => child.on("exit", () => { exited = true; r(); }));
  child.on("error", (e) => { lines.push(`[spawn error] ${e.message}`); });
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => {
      const parts = (partial + d).split("\n");
      partial = parts.pop()!;
      for (const l of parts) if (l) lines.push(l);
      if (lines.length > 20_000) lines.splice(0, lines.length - 20_000);
    });
  }
  return {
    name, pid: child.pid ?? -1,
    output: () => lines.slice(),
    running: () => !exited && child.exitCode === null,
    async stop() {
      if (exited || child.exitCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitedP;
      clearTimeout(t);
    },
  };
}

/** Polls `ready` every 25 ms until it is true; fails with the output tail if the process exits or time runs out. */
export async function waitReady(p: ServiceProcess, what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!p.running()) throw new Error(`${p.name} exited before ${what}\n--- ${p.name} output ---\n${tail(p)}`);
    try { if (await ready()) return; } catch { /* not yet */ }
    if (Date.now() > deadline) {
      await p.stop();
      throw new Error(`${p.name}: no ${what} within ${timeoutMs} ms\n--- ${p.name} output ---\n${tail(p)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
