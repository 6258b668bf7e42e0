// A real Dubbo consumer (dubbo2.js) for docker compose: calls the demo methods in a loop
// through TARGET (the Envoy listener) and prints which provider version answered.
//   TARGET=envoy:20880 METHODS=sayHello,sayBye,echo INTERVAL_MS=1000 ROUNDS=0 CONNECTION=per-call
// Routing is decided per connection (README "Limits"), so CONNECTION=per-call (default)
// opens a fresh connection per call and shows each method's route and the sayBye split;
// CONNECTION=shared keeps one connection, as a Java consumer does, and every call then follows
// the route of the first one. ROUNDS=0 loops until SIGINT/SIGTERM.
import { DubboConsumer } from "./dubbo/consumer-client.ts";
import { isDemoMethod, versionOfAnswer, type DemoMethod } from "./dubbo/demo-service.ts";

const target = process.env.TARGET ?? "127.0.0.1:20880";
const methods = (process.env.METHODS ?? "sayHello,sayBye,echo").split(",").map((m) => m.trim());
const intervalMs = Number(process.env.INTERVAL_MS ?? 1000);
const rounds = Number(process.env.ROUNDS ?? 0);
const shared = (process.env.CONNECTION ?? "per-call") === "shared";

for (const m of methods) {
  if (!isDemoMethod(m)) { console.error(`unknown method ${m}`); process.exit(2); }
}

let stopping = false;
process.once("SIGINT", () => { stopping = true; });
process.once("SIGTERM", () => { stopping = true; });

let sharedConsumer: DubboConsumer | null = null;
const consumerFor = (): DubboConsumer => {
  if (!shared) return new DubboConsumer({ address: target, timeoutSeconds: 5 });
  if (!sharedConsumer || sharedConsumer.closed) sharedConsumer = new DubboConsumer({ address: target, timeoutSeconds: 5 });
  return sharedConsumer;
};

let failures = 0;
for (let round = 1; !stopping && (rounds === 0 || round <= rounds); round++) {
  for (const method of methods as DemoMethod[]) {
    const consumer = consumerFor();
    const { res, err, ms } = await consumer.call(method, `round-${round}`);
    const who = err ? `error: ${err.message}` : `answered by ${versionOfAnswer(res) ?? "?"}: ${String(res)}`;
    console.log(`[consumer] ${method}(round-${round}) ${who} (${ms.toFixed(1)} ms)`);
    if (err) failures++;
    if (!shared) await consumer.close();
  }
  if (!stopping) await new Promise((r) => setTimeout(r, intervalMs));
}
await (sharedConsumer as DubboConsumer | null)?.close(); // assigned inside consumerFor()
process.exit(rounds > 0 && failures > 0 ? 1 : 0);
