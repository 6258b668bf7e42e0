// A provider that closes its connection with calls unanswered (a crash, a restart): the client
// gets an error reply for every call in flight, with its own id, before the proxy closes the
// client's connection, instead of a bare close that leaves it guessing. Counted as
// upstream_closed_reply.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { eachProxy, test } from "../support/proxies.ts";
import { startProxy, type Proxy } from "../../envoy-dev/proxy/index.ts";
import { ENVOY_YAML, allListenersEphemeral } from "../../envoy-dev/apps/mesh-config.ts";
import { startDubboProvider, type DubboProvider } from "../../envoy-dev/apps/dubbo-provider.ts";
import { RawDubboConnection } from "../../envoy-dev/apps/dubbo/raw-connection.ts";
import { DEMO_SERVICE } from "../../envoy-dev/apps/dubbo/demo-service.ts";
import { within } from "../../envoy-dev/apps/dubbo/deadline.ts";
import { CLUSTERS, LISTENER, STATS } from "../../envoy-dev/apps/dubbo/mesh.ts";

/** Reads until `frames` request headers have arrived, then closes without answering. */
async function closingProvider(frames: number): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    let seen = Buffer.alloc(0);
    s.on("data", (d) => {
      seen = Buffer.concat([seen, d]);
      let n = 0, at = 0;
      while (at + 16 <= seen.length) { n++; at += 16 + seen.readUInt32BE(at + 12); }
      if (n >= frames && at <= seen.length) s.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

eachProxy("dubbo e2e: the provider closes with calls in flight", (kind) => {
  let proxy: Proxy;
  let good: DubboProvider;
  let closer: { port: number; server: Server };
  before(async () => {
    good = await startDubboProvider({ version: "v2" });
    closer = await closingProvider(3);
    proxy = await startProxy(kind, {
      configPath: ENVOY_YAML, listenerPorts: allListenersEphemeral(),
      endpoints: {
        [CLUSTERS.default]: [{ host: "127.0.0.1", port: good.port }],
        [CLUSTERS.v1]: [{ host: "127.0.0.1", port: closer.port }], // echo goes to v1 (route demo-v1)
        [CLUSTERS.v2]: [{ host: "127.0.0.1", port: good.port }],
      },
    });
  });
  after(async () => {
    await proxy?.close();
    await good?.close();
    await new Promise<void>((r) => closer?.server.close(() => r()));
  });

  test("every call in flight gets an error reply with its own id, then the connection closes", async () => {
    const c = await RawDubboConnection.connect(proxy.listeners[LISTENER].port);
    const answers = [1n, 2n, 3n].map((id) => c.request({ id, path: DEMO_SERVICE, method: "echo", args: [`e${id}`] }));
    const got = await within(Promise.all(answers), 5000, "answers to the calls the provider dropped");
    assert.deepEqual(got.map((r) => r.id), [1n, 2n, 3n]);
    for (const r of got) {
      assert.equal(r.status, 80, "SERVER_ERROR");
      assert.match(String(r.error), /upstream closed the connection before answering/);
    }
    await within(c.closed, 5000, "the client's connection closing after the replies");
    assert.equal(await proxy.waitForStat(STATS + "upstream_closed_reply", (v) => v >= 3), 3);
    assert.deepEqual(proxy.vmFailures(), []);
  });
});
