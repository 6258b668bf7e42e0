// Real Java Dubbo through build/dubbo.wasm, in real Envoy and the local host: Apache Dubbo 3.3
// providers (default, v1, v2) and consumers of Dubbo 3.3 and 2.7 on the dubbo protocol with
// direct URLs (no registry), Hessian2 as both pick by default. The peers are built by Maven
// into .cache/ on first use (peers/java-dubbo). Rules: tests/peers/java-dubbo-config.ts.
//
// Java keeps ONE connection per provider address for every service of that address unless a
// reference asks for its own (`connections`); routing is decided per connection. Scenes that
// show routing give each reference its own connection; one scene shows the shared one.
import { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { eachProxy, test } from "../support/proxies.ts";
import { CLUSTERS, startDubboProxy, type DubboProxyMesh, type Subset } from "../../envoy-dev/apps/dubbo/mesh.ts";
import { GREETING, INVENTORY, JavaConsumer, JavaProvider, javaPeersDir, type CallResult, type JavaDubboVersion, type RefOptions } from "../../peers/java-dubbo/driver.ts";
import { STATS, javaPeersConfig } from "./java-dubbo-config.ts";
import { dubboTap } from "./dubbo-tap.ts";

const SUBSETS = Object.keys(CLUSTERS) as Subset[];
let uid = 0;
const unique = (s: string) => `${s}-${++uid}`;

describe("Java Dubbo peers through the proxies", { timeout: 20 * 60_000 }, () => {
  const providers = {} as Record<Subset, JavaProvider>;
  const consumers = {} as Record<JavaDubboVersion, JavaConsumer>;

  before(async () => {
    await javaPeersDir(); // the Maven build, once (cached in .cache/)
    const started = await Promise.all([
      ...SUBSETS.map((s) => JavaProvider.start(s)),
      JavaConsumer.start("3.3"), JavaConsumer.start("2.7"),
    ]);
    SUBSETS.forEach((s, i) => { providers[s] = started[i] as JavaProvider; });
    consumers["3.3"] = started[SUBSETS.length] as JavaConsumer;
    consumers["2.7"] = started[SUBSETS.length + 1] as JavaConsumer;
  }, { timeout: 15 * 60_000 });

  after(async () => {
    await Promise.all([...Object.values(consumers), ...Object.values(providers)].map((p) => p?.close()));
  });

  /** Which provider saw the call whose first argument is `arg` (exactly one must have). */
  const servedBy = async (arg: string): Promise<Subset> => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const who = SUBSETS.filter((s) => providers[s].calls.some((c) => c.args[0] === arg || (c.args[0] ?? "").includes(arg)));
      if (who.length === 1) return who[0];
      if (who.length > 1 || Date.now() > deadline) throw new Error(`call ${arg} seen by [${who.join(",")}]`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  // The provider's line may arrive after the reply reached the consumer (two pipes): wait for it.
  const callOf = (subset: Subset, arg: string) => providers[subset].waitForCall((c) => c.args[0] === arg || (c.args[0] ?? "").includes(arg), 5000);
  /** Waits (up to 5 s) for provider lines still on their way through the stdout pipe. */
  const until = async (cond: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  const ok = (r: CallResult, what: string) => assert.ok(r.ok, `${what}: ${r.error}: ${r.message} ${JSON.stringify(r.causes ?? [])}`);

  eachProxy("java dubbo", (kind) => {
    let mesh: DubboProxyMesh;
    const refOf = (c: JavaConsumer, o: Omit<RefOptions, "url">) => c.ref({ url: `dubbo://127.0.0.1:${mesh.port}`, timeout: 8000, ...o });
    /** A reference with its own connection: a fresh routing decision. */
    const fresh = (c: JavaConsumer, o: Omit<RefOptions, "url">) => refOf(c, { connections: 1, ...o });

    before(async () => {
      mesh = await startDubboProxy(
        Object.fromEntries(SUBSETS.map((s) => [s, { host: "127.0.0.1", port: providers[s].port }])) as Record<Subset, { host: string; port: number }>,
        { proxy: kind, pluginConfig: javaPeersConfig() });
    });
    after(async () => { await mesh?.close(); });

    for (const version of ["3.3", "2.7"] as const) {
      test(`Dubbo ${version} consumer: routing by interface, version, group and user attachment (a connection each)`, async () => {
        const c = consumers[version];
        const scenes: Array<[string, Omit<RefOptions, "url">, string, Record<string, string> | undefined, Subset]> = [
          ["interface InventoryService", { interface: INVENTORY, version: "1.0.0" }, "stock", undefined, "v1"],
          ["version 2.0.0", { interface: GREETING, version: "2.0.0" }, "echoList", undefined, "v2"],
          ["group canary (before the sayBye method route)", { interface: GREETING, version: "1.0.0", group: "canary" }, "sayBye", undefined, "v2"],
          ["attachment x-user=vip (RpcContext)", { interface: GREETING, version: "1.0.0" }, "echoList", { "x-user": "vip" }, "v2"],
          ["no attribute rule: interface route to the default cluster", { interface: GREETING, version: "1.0.0" }, "echoList", undefined, "default"],
        ];
        for (const [what, ref, method, att, want] of scenes) {
          const r = await fresh(c, ref);
          const arg = unique(what.replace(/\W+/g, "_"));
          ok(await c.call(r, method, arg, att), what);
          assert.equal(await servedBy(arg), want, what);
          await c.destroy(r);
        }
        assert.deepEqual(mesh.vmFailures(), []);
      });
    }

    test("method routing over fresh connections: sayHello -> v2, sayBye -> v1, each time", async () => {
      const c = consumers["3.3"];
      for (let i = 0; i < 3; i++) {
        for (const [method, want] of [["sayHello", "v2"], ["sayBye", "v1"]] as const) {
          const r = await fresh(c, { interface: GREETING, version: "1.0.0" });
          const arg = unique(method);
          const res = await c.call(r, method, arg);
          ok(res, method);
          assert.equal(res.value, `${method === "sayHello" ? "Hello" : "Bye"} ${arg}, from ${want}`);
          await c.destroy(r);
        }
      }
    });

    test("Java's one shared connection carries both interfaces: the first call binds it, the other interface follows (route_mismatch, KEEP)", async () => {
      const c = consumers["3.3"];
      const mismatch = await mesh.counter(STATS + "route_mismatch");
      // No `connections`: both references share Java's single client for this address.
      const greeting = await refOf(c, { interface: GREETING, version: "1.0.0" });
      const inventory = await refOf(c, { interface: INVENTORY, version: "1.0.0" });
      try {
        const hello = unique("shared-hello");
        const first = await c.call(greeting, "sayHello", hello);
        ok(first, "sayHello");
        assert.equal(first.value, `Hello ${hello}, from v2`);
        const sku = unique("shared-sku");
        const second = await c.call(inventory, "stock", sku);
        ok(second, "stock");
        // The inventory route names v1, but the connection is bound to v2: kept there and counted.
        assert.equal(second.value, `7 of ${sku}, from v2`);
        assert.equal((await callOf("v2", hello)).remote, (await callOf("v2", sku)).remote, "one upstream connection carried both interfaces");
        assert.equal(await mismatch.waitFor(1), 1);
      } finally {
        await c.destroy(greeting);
        await c.destroy(inventory);
      }
    });

    for (const version of ["3.3", "2.7"] as const) {
      test(`Dubbo ${version} consumer: no route -> RpcException carrying the proxy's message at once, not a timeout`, async () => {
        const c = consumers[version];
        const notFound = await mesh.counter(STATS + "route_not_found");
        const r = await fresh(c, { interface: INVENTORY, version: "9.9.9", timeout: 10_000 });
        const arg = unique("lost");
        const res = await c.call(r, "stock", arg);
        await c.destroy(r);
        assert.equal(res.ok, false);
        assert.equal(res.error, "org.apache.dubbo.rpc.RpcException");
        assert.match(res.message!, /RemotingException: metaprotocol: no route matches this request in service java-peers/);
        assert.doesNotMatch(res.message!, /TimeoutException|Waiting server-side response timeout/i);
        assert.ok(res.ms < 2000, `the error came after ${res.ms} ms (client timeout 10 s)`);
        console.log(`[${kind}] Dubbo ${version} no-route RpcException: ${res.message}`);
        assert.equal(await notFound.waitFor(1), 1);
        assert.ok(SUBSETS.every((s) => !providers[s].calls.some((k) => k.args[0] === arg)), "no provider saw it");
      });
    }

    test("over the rate limit: RpcException with the proxy's message at once, in Dubbo 3.3 and 2.7", async () => {
      const over = await mesh.counter(STATS + "ratelimit_over_limit");
      const tight = { "x-limit": "tight" };
      const a = await fresh(consumers["3.3"], { interface: GREETING, version: "1.0.0", timeout: 10_000 });
      const b = await fresh(consumers["2.7"], { interface: GREETING, version: "1.0.0", timeout: 10_000 });
      try {
        ok(await consumers["3.3"].call(a, "echoList", unique("limit"), tight), "first");
        ok(await consumers["2.7"].call(b, "echoList", unique("limit"), tight), "second");
        for (const [v, ref] of [["3.3", a], ["2.7", b]] as const) {
          const res = await consumers[v].call(ref, "echoList", unique("limit"), tight);
          assert.equal(res.ok, false, `Dubbo ${v}: the third call must be refused`);
          assert.equal(res.error, "org.apache.dubbo.rpc.RpcException");
          assert.match(res.message!, /RemotingException: metaprotocol: local rate limit exceeded for service java-peers/);
          assert.ok(res.ms < 2000, `Dubbo ${v}: the error came after ${res.ms} ms`);
          console.log(`[${kind}] Dubbo ${v} over-limit RpcException: ${res.message}`);
        }
        // Calls without the attachment draw from the service's big bucket.
        ok(await consumers["3.3"].call(a, "echoList", unique("unlimited")), "unlimited");
      } finally {
        await consumers["3.3"].destroy(a);
        await consumers["2.7"].destroy(b);
      }
      assert.equal(await over.waitFor(2), 2);
    });

    test("mutations: the Java provider sees x-canary in RpcContext, the Dubbo 3.3 consumer sees x-route", async () => {
      const c = consumers["3.3"];
      const r = await fresh(c, { interface: GREETING, version: "1.0.0", group: "canary" });
      const arg = unique("mutate");
      const res = await c.call(r, "sayHello", arg, { "x-user": "plain" });
      await c.destroy(r);
      ok(res, "sayHello");
      const seen = await callOf("v2", arg);
      assert.equal(seen.attachments["x-canary"], "true");
      assert.equal(seen.attachments["x-user"], "plain", "the consumer's own attachment arrives next to it");
      assert.equal(seen.group, "canary");
      assert.equal(res.serverAttachments?.["x-route"], "canary-group");
      assert.equal(res.serverAttachments?.["x-provider"], "v2", "the provider's own response attachment is kept");
    });

    for (const version of ["3.3", "2.7"] as const) {
      test(`Dubbo ${version} consumer: DTO graph, byte[] 10 KB and 1 MB, List, Map, enum, BigDecimal, Date, null behind an attachment rule`, async () => {
        const c = consumers[version];
        const errors = await mesh.counter(STATS + "request_decoding_error");
        const r = await fresh(c, { interface: GREETING, version: "1.0.0", timeout: 20_000 });
        const vip = { "x-user": "vip" };
        try {
          const cases: Array<[string, string | null, string | null]> = [
            ["echoOrder", "note", "Order{42,Customer{ada,GOLD,Address{London,1 Analytical Way}},Address{Paris,2 Rue du Calcul},[LineItem{sku-1,2,19.99}, LineItem{sku-2,1,5.00}],{channel=web},44.98,1700000000123,bytes:64:84c86088,note}"],
            ["echoBytes", "10240", "bytes:10240:c11e013"],
            ["echoBytes", "1048576", "bytes:1048576:d424bdc1"],
            ["echoList", "x,y,z", "[x, y, z]"],
            ["echoMap", "a=1,b=2", "{a=1, b=2}"],
            ["echoEnum", "SILVER", "SILVER"],
            ["echoDecimal", "12345.678901234567890", "decimal:12345.678901234567890"],
            ["echoDate", "1700000000123", "date:1700000000123"],
            ["echoNull", null, null],
          ];
          const before = providers.v2.calls.length;
          for (const [method, arg, want] of cases) {
            const res = await c.call(r, method, arg, vip);
            ok(res, `${method}(${arg})`);
            assert.equal(res.value, want, method);
          }
          // All on the connection the attachment bound to v2: every argument was skipped to reach it.
          await until(() => providers.v2.calls.length >= before + cases.length);
          const seen = providers.v2.calls.slice(before).map((k) => k.method);
          assert.deepEqual(seen, cases.map(([m]) => m));
        } finally {
          await c.destroy(r);
        }
        assert.equal(await errors.delta(), 0);
        assert.deepEqual(mesh.vmFailures(), []);
      });
    }

    test("pipelining: 8 slow calls in flight on one Java connection come back matched", async () => {
      const c = consumers["3.3"];
      const r = await fresh(c, { interface: GREETING, version: "1.0.0", group: "canary" });
      try {
        const names = Array.from({ length: 8 }, () => unique("pipe"));
        const t0 = Date.now();
        const results = await Promise.all(names.map((n) => c.call(r, "slow", n)));
        const ms = Date.now() - t0;
        results.forEach((res, i) => { ok(res, names[i]); assert.equal(res.value, `Slow ${names[i]}, from v2`); });
        // Each call sleeps 300 ms in the provider: together they overlapped.
        assert.ok(ms < 8 * 300, `8 calls took ${ms} ms`);
        const remotes = await Promise.all(names.map((n) => callOf("v2", n)));
        assert.equal(new Set(remotes.map((k) => k.remote)).size, 1, "one upstream connection");
      } finally {
        await c.destroy(r);
      }
    });

    test("fastjson2 (serialization 23): routing by group and attachment, mutations both ways, DTOs and byte[], the error reply", async () => {
      const c = consumers["3.3"];
      const tap = await dubboTap(mesh.port);
      const ref = (o: Omit<RefOptions, "url">) => c.ref({ url: `dubbo://127.0.0.1:${tap.port}`, timeout: 20_000, connections: 1, serialization: "fastjson2", ...o });
      const errors = await mesh.counter(STATS + "request_decoding_error");
      try {
        const canary = await ref({ interface: GREETING, version: "1.0.0", group: "canary" });
        const arg = unique("json-hello");
        const hello = await c.call(canary, "sayHello", arg, { "x-user": "plain" });
        ok(hello, "sayHello");
        assert.equal(hello.value, `Hello ${arg}, from v2`);
        const seen = await callOf("v2", arg);
        assert.equal(seen.attachments["x-canary"], "true");
        assert.equal(seen.attachments["x-user"], "plain");
        assert.equal(hello.serverAttachments?.["x-route"], "canary-group");
        assert.equal(hello.serverAttachments?.["x-provider"], "v2");
        await c.destroy(canary);

        const vip = await ref({ interface: GREETING, version: "1.0.0" });
        for (const [method, a, want] of [
          ["echoOrder", "j", "Order{42,Customer{ada,GOLD,Address{London,1 Analytical Way}},Address{Paris,2 Rue du Calcul},[LineItem{sku-1,2,19.99}, LineItem{sku-2,1,5.00}],{channel=web},44.98,1700000000123,bytes:64:84c86088,j}"],
          ["echoBytes", "1048576", "bytes:1048576:d424bdc1"],
          ["echoMap", "a=1,b=2", "{a=1, b=2}"],
          ["echoDate", "1700000000123", "date:1700000000123"],
          ["echoNull", null, null],
        ] as const) {
          const before = providers.v2.calls.length;
          const res = await c.call(vip, method, a, { "x-user": "vip" });
          ok(res, method);
          assert.equal(res.value, want, method);
          await until(() => providers.v2.calls.length >= before + 1);
          assert.equal(providers.v2.calls.length, before + 1, `${method} reached v2 (the x-user route)`);
        }
        await c.destroy(vip);

        const lost = await ref({ interface: INVENTORY, version: "9.9.9", timeout: 10_000 });
        const res = await c.call(lost, "stock", unique("json-lost"));
        await c.destroy(lost);
        assert.equal(res.ok, false);
        assert.match(res.message!, /RemotingException: metaprotocol: no route matches this request/);
        assert.ok(res.ms < 2000, `error after ${res.ms} ms`);
      } finally {
        await tap.close();
      }
      // Every request and response on the wire was fastjson2 (heartbeats aside).
      assert.ok(tap.serializations.size > 0);
      assert.deepEqual([...tap.serializations], [23]);
      assert.equal(await errors.delta(), 0);
      assert.deepEqual(mesh.vmFailures(), []);
    });

    for (const version of ["3.3", "2.7"] as const) {
      test(`Dubbo ${version} consumer: heartbeats every 1 s pass through and keep the connection`, async () => {
        const c = consumers[version];
        const beats = await mesh.counter(STATS + "heartbeat");
        const r = await fresh(c, { interface: GREETING, version: "1.0.0", heartbeat: 1000 });
        try {
          const first = unique("beat");
          ok(await c.call(r, "sayHello", first), "before");
          await new Promise((res) => setTimeout(res, 4000));
          const n = await beats.waitFor(2, 5000);
          assert.ok(n >= 2, `${n} heartbeats`);
          const second = unique("beat");
          ok(await c.call(r, "sayHello", second), "after");
          assert.equal((await callOf("v2", first)).remote, (await callOf("v2", second)).remote, "same connection after the idle time");
        } finally {
          await c.destroy(r);
        }
      });
    }

    test("reconnect after the provider restarts: calls fail with an error (not a hang), then succeed on a new connection", async () => {
      const c = consumers["3.3"];
      const r = await fresh(c, { interface: INVENTORY, version: "1.0.0", heartbeat: 1000, timeout: 5000 });
      try {
        const before = unique("restart");
        ok(await c.call(r, "stock", before), "before the restart");
        const oldRemote = (await callOf("v1", before)).remote;
        await providers.v1.restart();
        const failures: string[] = [];
        const deadline = Date.now() + 45_000;
        let after: CallResult | null = null;
        let arg = "";
        while (Date.now() < deadline) {
          arg = unique("restart");
          const res = await c.call(r, "stock", arg);
          if (res.ok) { after = res; break; }
          failures.push(`${res.ms} ms ${res.error}: ${res.message?.slice(0, 120)}`);
          await new Promise((res2) => setTimeout(res2, 500));
        }
        assert.ok(after, `no call succeeded within 45 s after the restart:\n${failures.join("\n")}`);
        assert.equal(after.value, `7 of ${arg}, from v1`);
        assert.notEqual((await callOf("v1", arg)).remote, oldRemote, "a new connection");
        for (const f of failures) assert.doesNotMatch(f, /^\d{4,} ms .*Timeout/, "failed at once, not by waiting for the timeout");
      } finally {
        await c.destroy(r);
      }
    });
  }, { timeout: 10 * 60_000 });
});
