// Real Thrift stacks through build/thrift.wasm, in real Envoy and the local host: Apache Thrift's
// Go library (TSimpleServer; framed, unframed and THeader transports; binary and compact) and
// Java library (unframed TServerSocket + TThreadPoolServer, Java's default; framed
// TNonblockingServer), servers and clients of each, plus the Node library's client where a client
// must pipeline (the Go and Java clients wait for each reply). Rules: the demo routes of
// envoy.yaml's thrift_outbound (sayHello -> v2; sayBye, add, ping -> v1; nothing for
// unknownToRouter) plus a route for "nope*" (to show the server's own TApplicationException), a
// rate limit on ping, and THeader mutations on the hello route.
import { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { CLUSTERS, startThriftProxy, type Subset, type ThriftProxyMesh } from "../../envoy-dev/apps/thrift/mesh.ts";
import { connectGreeter } from "../../envoy-dev/apps/thrift-client.ts";
import { pluginConfigOf } from "../../envoy-dev/apps/mesh-config.ts";
import { ThriftPeerClient, ThriftPeerServer, goThriftPeer, javaThriftClasspath, type GoTransport, type JavaTransport, type ThriftProtocolName } from "../../peers/thrift-peers.ts";

const SUBSETS = Object.keys(CLUSTERS) as Subset[];
const STATS = "metaprotocol_thrift_peers_";
const TAPP_UNKNOWN_METHOD = 1;

function config(): string {
  const cfg = pluginConfigOf("thrift_outbound");
  cfg.statPrefix = "thrift_peers";
  cfg.statsFlushIntervalMs = 100;
  const svc = cfg.services[0];
  const hello = svc.routes.find((r: any) => r.name === "hello-v2");
  hello.requestMutation = [{ key: "x-canary", value: "true" }];
  hello.responseMutation = [{ key: "x-route", value: "hello-v2" }];
  svc.routes.push({ name: "nope", match: { attributes: { method: { prefix: "nope" } } }, route: [{ cluster: CLUSTERS.v1, weight: 100 }] });
  svc.localRateLimit = {
    tokenBucket: { maxTokens: 1000000, tokensPerFill: 1000000, fillInterval: "1h" },
    conditions: [{ match: { attributes: { method: { exact: "ping" } } }, tokenBucket: { maxTokens: 2, tokensPerFill: 2, fillInterval: "1h" } }],
  };
  return JSON.stringify(cfg);
}

interface Stack {
  name: string;
  server: (label: string) => Promise<ThriftPeerServer>;
  client: (port: number) => Promise<ThriftPeerClient>;
  /** The Node library's transport for the same wire format (for pipelining). */
  node: { transport: "framed" | "buffered" | "header"; protocol: ThriftProtocolName };
  theader: boolean;
}
const go = (t: GoTransport, p: ThriftProtocolName): Stack => ({
  name: `Go ${t}/${p}`, server: (l) => ThriftPeerServer.go(l, t, p), client: (port) => ThriftPeerClient.go(port, t, p),
  node: { transport: t, protocol: p }, theader: t === "header",
});
const java = (t: JavaTransport, p: ThriftProtocolName): Stack => ({
  name: `Java ${t === "framed" ? "TNonblockingServer framed" : "TThreadPoolServer unframed"}/${p}`,
  server: (l) => ThriftPeerServer.java(l, t, p), client: (port) => ThriftPeerClient.java(port, t, p),
  node: { transport: t === "framed" ? "framed" : "buffered", protocol: p }, theader: false,
});
const STACKS: Stack[] = [
  go("framed", "binary"), go("buffered", "binary"), go("buffered", "compact"), go("header", "binary"), go("header", "compact"),
  java("unframed", "binary"), java("framed", "compact"),
];

describe("Thrift peers (Apache Thrift Go and Java) through the proxies", { timeout: 20 * 60_000 }, () => {
  before(async () => { await Promise.all([goThriftPeer(), javaThriftClasspath()]); }, { timeout: 15 * 60_000 });

  for (const stack of STACKS) {
    describe(stack.name, () => {
      const servers = {} as Record<Subset, ThriftPeerServer>;
      before(async () => {
        const started = await Promise.all(SUBSETS.map((s) => stack.server(s)));
        SUBSETS.forEach((s, i) => { servers[s] = started[i]; });
      });
      after(async () => { await Promise.all(Object.values(servers).map((s) => s?.close())); });

      eachProxy(`thrift ${stack.name}`, (kind) => {
        let mesh: ThriftProxyMesh;
        before(async () => {
          mesh = await startThriftProxy(Object.fromEntries(SUBSETS.map((s) => [s, { host: "127.0.0.1", port: servers[s].port }])) as any,
            { proxy: kind, pluginConfig: config() });
        });
        after(async () => { await mesh?.close(); });

        const withClient = async <T>(fn: (c: ThriftPeerClient) => Promise<T>): Promise<T> => {
          const c = await stack.client(mesh.port);
          try { return await fn(c); } finally { await c.close(); }
        };

        test("routing by method over fresh connections; later calls on a connection follow it", async () => {
          await withClient(async (c) => {
            const r = await c.call("sayHello", ["ann"]);
            assert.ok(r.ok, r.message);
            assert.equal(r.value, "Hello ann, from v2");
            const bye = await c.call("sayBye", ["ann"]); // bound to v2: kept there (route_mismatch)
            assert.equal(bye.value, "Bye ann, from v2");
          });
          await withClient(async (c) => {
            assert.equal((await c.call("add", [2, 3])).value, 5);
            await servers.v1.waitForCall((k) => k.method === "add");
            assert.equal((await c.call("sayBye", ["bob"])).value, "Bye bob, from v1");
          });
          assert.deepEqual(mesh.proxy.vmFailures(), []);
        });

        test("no route: the client gets the proxy's TApplicationException (UNKNOWN_METHOD) at once", async () => {
          await new Promise((r) => setTimeout(r, 100)); // lines of earlier calls still on their way
          const before = servers.v1.calls.length + servers.v2.calls.length + servers.default.calls.length;
          await withClient(async (c) => {
            const r = await c.call("unknownToRouter", ["x"]);
            assert.equal(r.ok, false);
            assert.equal(r.error, "TApplicationException");
            assert.equal(r.type, TAPP_UNKNOWN_METHOD);
            assert.match(r.message!, /no route matches this request/);
            assert.ok(r.ms < 2000, `after ${r.ms} ms`);
            console.log(`[${kind}] ${stack.name} client, no route: TApplicationException type ${r.type}: ${r.message}`);
          });
          assert.equal(servers.v1.calls.length + servers.v2.calls.length + servers.default.calls.length, before, "no server saw it");
        });

        test("the server's own TApplicationException (unknown method) passes through", async () => {
          await withClient(async (c) => {
            const r = await c.call("nopeMethod", ["x"]);
            assert.equal(r.ok, false);
            assert.equal(r.error, "TApplicationException");
            assert.equal(r.type, TAPP_UNKNOWN_METHOD);
            assert.doesNotMatch(r.message!, /metaprotocol/);
          });
        });

        test("over the rate limit: TApplicationException (INTERNAL_ERROR) with the proxy's message", async () => {
          const over = await mesh.proxy.stat(STATS + "ratelimit_over_limit");
          await withClient(async (c) => {
            const results = [];
            for (let i = 0; i < 3; i++) results.push(await c.call("ping", []));
            const refused = results.filter((r) => !r.ok);
            assert.ok(refused.length >= 1, "the bucket holds 2 for the whole listener");
            assert.equal(refused[0].error, "TApplicationException");
            assert.match(refused[0].message!, /local rate limit exceeded/);
            // The connection stays usable.
            assert.equal((await c.call("add", [1, 1])).value, 2);
          });
          await mesh.waitForCounter(STATS + "ratelimit_over_limit", over, 1);
        });

        test("pipelining: 20 calls in flight on one connection (Node's client) answered in order by this server", async () => {
          const conn = await connectGreeter({ host: "127.0.0.1", port: mesh.port, transport: stack.node.transport, protocol: stack.node.protocol });
          try {
            const names = Array.from({ length: 20 }, (_, i) => `p${i}`);
            const answers = await Promise.all(names.map((n) => conn.sayHello(n)));
            assert.deepEqual(answers, names.map((n) => `Hello ${n}, from v2`));
          } finally {
            await conn.close();
          }
        });

        if (stack.theader) {
          test("THeader: the Go server sees the request mutation, the Go client the response mutation and the server's header", async () => {
            await withClient(async (c) => {
              const r = await c.call("sayHello", ["hdr"], { "x-user": "go" });
              assert.ok(r.ok, r.message);
              assert.equal(r.headers?.["x-route"], "hello-v2");
              assert.equal(r.headers?.["x-server-version"], "v2");
              const seen = await servers.v2.waitForCall((k) => k.method === "sayHello" && (k.args as string[])?.[0] === "hdr");
              assert.equal(seen?.headers?.["x-canary"], "true");
              assert.equal(seen?.headers?.["x-user"], "go", "the client's own header arrives next to it");
            });
          });
        }
      });
    });
  }
});
