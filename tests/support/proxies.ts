// Runs a suite once per proxy (the local host and real Envoy, PROXIES=local,envoy) and appends
// the tail of every running Envoy's log to a failing test's message.
import { describe, test as nodeTest, type TestContext } from "node:test";
import { envoyLogTails, proxyKinds, type ProxyKind } from "../../envoy-dev/proxy/index.ts";

export { proxyKinds, type ProxyKind };

type Fn = (t: TestContext) => unknown | Promise<unknown>;
type Options = { timeout?: number; concurrency?: number | boolean };

/** `describe(title [proxy], ...)` for each proxy in PROXIES. */
export function eachProxy(title: string, fn: (kind: ProxyKind) => void, options: { timeout?: number } = {}): void {
  for (const kind of proxyKinds()) describe(`${title} [${kind}]`, { timeout: options.timeout ?? 90_000 }, () => fn(kind));
}

/** node:test's test, with Envoy's log tail added to the error of a failing test. */
export function test(name: string, fnOrOptions: Fn | Options, maybeFn?: Fn): void {
  const fn = (typeof fnOrOptions === "function" ? fnOrOptions : maybeFn)!;
  const options = typeof fnOrOptions === "function" ? {} : fnOrOptions;
  nodeTest(name, options, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const tails = envoyLogTails();
      if (tails && e instanceof Error) e.message += `\n${tails}`;
      throw e;
    }
  });
}
