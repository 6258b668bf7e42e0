// node:test's `test` for the mesh suites: a failing test's message gets the log tails of every
// process the suite runs (API server, istiod, sidecars, controller replicas).
import { test as nodeTest, type TestContext } from "node:test";
import { running } from "./proc.ts";

type Fn = (t: TestContext) => unknown | Promise<unknown>;

export function test(name: string, fn: Fn, timeout = 180_000): void {
  nodeTest(name, { timeout }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      if (e instanceof Error) {
        for (const p of running) e.message += `\n--- ${p.name} (${p.logFile}) ---\n${p.tail(25)}`;
      }
      throw e;
    }
  });
}

/** Dumps a value for an assertion message, cut to a readable size. */
export function show(v: unknown, max = 3000): string {
  const s = typeof v === "string" ? v : JSON.stringify(v, null, 1);
  return s.length > max ? `${s.slice(0, max)}...` : s;
}
