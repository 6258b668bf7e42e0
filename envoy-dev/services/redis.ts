// Redis from Debian (`apt-get install redis-server`), the store envoyproxy/ratelimit counts in:
// started on a free loopback port with no persistence, stopped with the test.
import { connect } from "node:net";
import { freePort, startProcess, waitReady, type ServiceProcess } from "./process.ts";

export interface Redis {
  port: number;
  process: ServiceProcess;
  /** Sends one inline command (e.g. "FLUSHALL", "CLIENT PAUSE 500") and returns the raw reply. */
  command(line: string): Promise<string>;
  close(): Promise<void>;
}

export const REDIS_BIN = process.env.REDIS_SERVER ?? "redis-server";

export async function startRedis(): Promise<Redis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const p = startProcess("redis-server", REDIS_BIN, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"]);
    const command = (line: string) => redisCommand(port, line);
    try {
      await waitReady(p, "PONG", async () => (await command("PING")).startsWith("+PONG"), 10_000);
    } catch (e) {
      if (p.output().some((l) => /Address already in use/.test(l)) && attempt < 3) continue;
      if (p.output().some((l) => /spawn error.*ENOENT/.test(l))) throw new Error(`redis-server not found (${REDIS_BIN}): install Debian's redis-server`);
      throw e;
    }
    return { port, process: p, command, close: () => p.stop() };
  }
}

function redisCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1" });
    let got = "";
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`redis ${line}: no reply`)); }, 2000);
    s.on("data", (d) => { got += d.toString(); if (got.endsWith("\r\n")) { clearTimeout(timer); s.end(); resolve(got); } });
    s.on("error", (e) => { clearTimeout(timer); reject(e); });
    s.write(line + "\r\n");
  });
}
