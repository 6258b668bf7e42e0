// A peer child process speaking JSON lines: every stdout line is parsed and kept; waitFor()
// resolves on the first line (seen or coming) that matches; stderr is kept for failure messages.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import net from "node:net";
import { createInterface } from "node:readline";

/** A free TCP port on 127.0.0.1, for a peer that needs its port up front (Dubbo, Thrift servers). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export type Line = Record<string, any>;

/** A peer process that writes JSON lines on stdout and reads commands on stdin. */
export class LineProcess {
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  private waiters: Array<{ match: (l: Line) => boolean; resolve: (l: Line) => void }> = [];
  readonly exited: Promise<number | null>;

  constructor(readonly name: string, readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on("line", (text) => {
      let l: Line;
      try { l = JSON.parse(text); } catch { this.stderr.push(`(stdout) ${text}`); return; }
      this.lines.push(l);
      this.waiters = this.waiters.filter((w) => { if (w.match(l)) { w.resolve(l); return false; } return true; });
    });
    createInterface({ input: proc.stderr }).on("line", (t) => { this.stderr.push(t); if (this.stderr.length > 2000) this.stderr.shift(); });
    this.exited = new Promise((r) => proc.on("exit", (code) => r(code)));
  }

  /** The next line (including ones already seen, if `past`) that matches; rejects after ms. */
  waitFor(match: (l: Line) => boolean, ms = 60_000, past = true): Promise<Line> {
    if (past) { const l = this.lines.find(match); if (l) return Promise.resolve(l); }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no matching line in ${ms} ms; stderr tail:\n${this.stderr.slice(-30).join("\n")}`)), ms);
      const w = { match, resolve: (l: Line) => { clearTimeout(timer); resolve(l); } };
      this.waiters.push(w);
      this.exited.then((code) => { if (this.waiters.includes(w)) { clearTimeout(timer); reject(new Error(`${this.name} exited (${code}); stderr tail:\n${this.stderr.slice(-30).join("\n")}`)); } });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.stdin.end();
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(t);
  }

  /** Ends it abruptly (a crashed provider): the kernel closes its sockets. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGKILL");
    await this.exited;
  }
}

