// The consumer pod's application: dubbo2.js (envoy-dev/apps/dubbo/consumer-client.ts) calling
// the Service's ClusterIP, one connection per call (routing is decided per connection), run in
// the consumer's network namespace where istio-init's rules hand the connection to the sidecar.
//   tsx dubbo-client.ts '{"address":"10.213.128.10:20880","calls":[{"method":"sayHello","arg":"a"}]}'
// Prints one JSON line: [{ res, err, ms, attachments }] in call order.
import { DubboConsumer } from "../../../envoy-dev/apps/dubbo/consumer-client.ts";
import type { DemoMethod } from "../../../envoy-dev/apps/dubbo/demo-service.ts";

export interface ClientCall { method: DemoMethod; arg: string; interface?: string }
export interface ClientResult { res: unknown; err: string | null; ms: number; attachments: Record<string, unknown> }

async function main(): Promise<void> {
  const { address, calls, timeoutSeconds } = JSON.parse(process.argv[2]) as { address: string; calls: ClientCall[]; timeoutSeconds?: number };
  const out: ClientResult[] = [];
  for (const c of calls) {
    const consumer = new DubboConsumer({ address, interface: c.interface, timeoutSeconds: timeoutSeconds ?? 10 });
    try {
      const r = await consumer.call(c.method, c.arg);
      const decoded = r.res === null || r.res === undefined ? undefined : consumer.decodedFor(r.res);
      out.push({ res: r.res ?? null, err: r.err ? r.err.message : null, ms: Math.round(r.ms), attachments: decoded?.attachments ?? {} });
    } catch (e) {
      out.push({ res: null, err: `client: ${(e as Error).message}`, ms: 0, attachments: {} });
    } finally {
      await consumer.close().catch(() => undefined);
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
