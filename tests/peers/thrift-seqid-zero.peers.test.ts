// A real client that sends sequence id 0 on every call: Apache Thrift's Python library with the
// code thrift-compiler generates (its Client never increments _seqid), against Go servers,
// through real Envoy and the local host. Thrift servers answer a connection's calls in order,
// so replies are matched to requests in order when ids repeat: rejected calls still get their
// own TApplicationException, the others their answers, and no reply counts as unmatched.
import { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { CLUSTERS, startThriftProxy, type Subset, type ThriftProxyMesh } from "../../envoy-dev/apps/thrift/mesh.ts";
import { pluginConfigOf } from "../../envoy-dev/apps/mesh-config.ts";
import { PyThriftClient, ThriftPeerServer, goThriftPeer, pyThriftPython } from "../../peers/thrift-peers.ts";

const SUBSETS = Object.keys(CLUSTERS) as Subset[];
const STATS = "metaprotocol_thrift_zero_";

function config(): string {
  const cfg = pluginConfigOf("thrift_outbound");
  cfg.statPrefix = "thrift_zero";
  cfg.statsFlushIntervalMs = 100;
  cfg.services[0].localRateLimit = {
    tokenBucket: { maxTokens: 1000000, tokensPerFill: 1000000, fillInterval: "1h" },
    conditions: [{ match: { attributes: { method: { exact: "ping" } } }, tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillInterval: "1h" } }],
  };
  return JSON.stringify(cfg);
}

describe("Thrift sequence id 0 on every call (Apache Thrift Python client)", { timeout: 15 * 60_000 }, () => {
  for (const [transport, protocol] of [["framed", "binary"], ["buffered", "compact"]] as const) {
    describe(`${transport}/${protocol}`, () => {
      const servers = {} as Record<Subset, ThriftPeerServer>;
      before(async () => {
        await Promise.all([goThriftPeer(), pyThriftPython()]);
        const started = await Promise.all(SUBSETS.map((s) => ThriftPeerServer.go(s, transport, protocol)));
        SUBSETS.forEach((s, i) => { servers[s] = started[i]; });
      }, { timeout: 10 * 60_000 });
      after(async () => { await Promise.all(Object.values(servers).map((s) => s?.close())); });

      eachProxy(`seqid 0, ${transport}/${protocol}`, (kind) => {
        let mesh: ThriftProxyMesh;
        before(async () => {
          mesh = await startThriftProxy(Object.fromEntries(SUBSETS.map((s) => [s, { host: "127.0.0.1", port: servers[s].port }])) as any,
            { proxy: kind, pluginConfig: config() });
        });
        after(async () => { await mesh?.close(); });

        test("one call at a time: every call carries seqid 0 and is answered", async () => {
          const c = await PyThriftClient.start(mesh.port, transport, protocol);
          try {
            const before = servers.v2.calls.length;
            for (const n of ["a", "b", "c"]) {
              const { results } = await c.pipeline([["sayHello", n]]);
              assert.deepEqual(results, [{ ok: true, value: `Hello ${n}, from v2` }]);
            }
            const calls = await servers.v2.waitForCount(before + 3);
            assert.deepEqual(calls.slice(before).map((k) => k.seqid), [0, 0, 0], "the client really sends 0");
          } finally {
            await c.close();
          }
        });

        test("pipelined calls with the same id 0, some rejected by the proxy: each reply goes to its own call, in order", async () => {
          const unmatched = await mesh.proxy.stat(STATS + "response_unmatched");
          const c = await PyThriftClient.start(mesh.port, transport, protocol);
          try {
            const { results } = await c.pipeline([
              ["sayHello", "one"], ["unknownToRouter", "lost"], ["sayHello", "two"], ["ping"], ["ping"], ["sayHello", "three"],
            ]);
            assert.deepEqual(results[0], { ok: true, value: "Hello one, from v2" });
            assert.equal(results[1].ok, false);
            assert.equal(results[1].error, "TApplicationException");
            assert.match(results[1].message!, /no route matches this request/);
            assert.deepEqual(results[2], { ok: true, value: "Hello two, from v2" });
            // ping: the route sends it to v1, the connection is bound to v2 (KEEP): the first is
            // served by v2; the bucket of 1 refuses the second.
            assert.deepEqual(results[3], { ok: true, value: null });
            assert.equal(results[4].ok, false);
            assert.match(results[4].message!, /local rate limit exceeded/);
            assert.deepEqual(results[5], { ok: true, value: "Hello three, from v2" });
            // And the connection goes on.
            assert.deepEqual((await c.pipeline([["add", 2, 2]])).results, [{ ok: true, value: 4 }]);
          } finally {
            await c.close();
          }
          await new Promise((r) => setTimeout(r, 300)); // a stats flush
          assert.equal(await mesh.proxy.stat(STATS + "response_unmatched"), unmatched, "every reply matched a request");
          assert.deepEqual(mesh.proxy.vmFailures(), []);
        });
      });
    });
  }
});
