// The controller judges regexes with real RE2 and then has the protocol module itself (the built
// dubbo.wasm, in the local host) parse each pluginConfig before applying it: what RE2 accepts
// but the module refuses becomes a condition naming the field, and the last good version serves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { loadObjects } from "../../controller/src/render.js";
import { translate } from "../../controller/src/translate/index.js";
import { moduleCheckFrom, metaRouterField } from "../../controller/src/translate/module-check.js";
import { key, type KubeObject } from "../../controller/src/model/types.js";

const ROOT = new URL("../../", import.meta.url).pathname;

function world(regex: string, generation = 2): string {
  return `
apiVersion: v1
kind: ConfigMap
metadata: { name: metaprotocol-wasm-settings, namespace: metaprotocol-wasm }
data:
  settings.yaml: |
    modules:
      dubbo: { url: "oci://ghcr.io/metaprotocol-wasm/dubbo:0.1.0" }
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: ApplicationProtocol
metadata: { name: dubbo }
spec: { protocol: dubbo }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: prod }
spec:
  clusterIP: 10.96.4.1
  selector: { app: api }
  ports: [{ name: tcp-metaprotocol-dubbo, port: 20880, targetPort: 20880 }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: api, namespace: prod }
spec: { host: api, subsets: [{ name: v1 }, { name: v2 }] }
---
apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: { name: api, namespace: prod, generation: ${generation} }
spec:
  hosts: [api]
  routes:
  - name: plain
    match: { attributes: { method: { exact: ping } } }
    route: [{ destination: { host: api, subset: v1 } }]
  - name: by-regex
    match: { attributes: { method: { regex: ${JSON.stringify(regex)} } } }
    route: [{ destination: { host: api, subset: v2 } }]
`;
}

function dubboWasm(): string {
  const wasm = `${ROOT}build/dubbo.wasm`;
  if (!existsSync(wasm)) {
    const r = spawnSync(process.execPath, [`${ROOT}scripts/build.mjs`, "dubbo"], { cwd: ROOT, stdio: "inherit", timeout: 300_000 });
    assert.equal(r.status, 0, "building dubbo.wasm failed");
  }
  return `${ROOT}build/`;
}

function run(regex: string, previous?: string) {
  const { observed, settings } = loadObjects([{ name: "in.yaml", text: world(regex) }]);
  const prev = new Map<string, KubeObject>();
  if (previous) {
    const old = loadObjects([{ name: "old.yaml", text: world(previous, 1) }]).observed.metaRouters[0];
    prev.set(key(old), old);
  }
  return { observed, settings, prev };
}

const regexOf = (t: ReturnType<typeof translate>) => JSON.stringify(t.objects.filter((o) => o.kind === "WasmPlugin").map((o) => o.spec.pluginConfig));

test("RE2 syntax the old JavaScript check refused is Accepted and reaches the module", async () => {
  const { check } = await moduleCheckFrom(dubboWasm());
  for (const re of ["(?i)say(Hello|Bye)", "(?P<m>get|set)[A-Z]\\w*", "\\Qa.b\\E.*", "[[:alpha:]]+", "\\Aping\\z", "(?s).+", "\\x{41}x", "a\\}+", "x\\?+"]) {
    const { observed, settings } = run(re);
    const t = translate(observed, settings, undefined, [], check);
    const acc = t.statuses[0].conditions.find((c) => c.type === "Accepted")!;
    assert.equal(acc.status, "True", `${re}: ${acc.message}`);
    assert.ok(regexOf(t).includes(JSON.stringify(re).slice(1, -1)), `${re} is in the pluginConfig`);
  }
});

test("what RE2 refuses is InvalidRegex, named by field, before any module sees it", async () => {
  const { check } = await moduleCheckFrom(dubboWasm());
  for (const re of ["\\u0041", "\\cA", "a{1001}", "a++", "(?=x)"]) {
    const { observed, settings } = run(re);
    const t = translate(observed, settings, undefined, [], check);
    const acc = t.statuses[0].conditions.find((c) => c.type === "Accepted")!;
    assert.equal(acc.status, "False", re);
    assert.equal(acc.reason, "InvalidRegex", re);
    assert.match(acc.message, /spec\.routes\[1\]\.match\.attributes\.method\.regex/);
  }
});

test("what RE2 accepts but the module refuses is RefusedByModule, and the last good version keeps serving", async () => {
  const { check } = await moduleCheckFrom(dubboWasm());
  // \pL is valid RE2; the module has no Unicode property tables (README "Limits").
  const { observed, settings, prev } = run("\\pL+", "say[A-Z]\\w*");
  const without = translate(observed, settings, prev, []);
  assert.ok(regexOf(without).includes("\\\\pL+"), "without the module check the refused regex would be applied");
  const t = translate(observed, settings, prev, [], check);
  const acc = t.statuses[0].conditions.find((c) => c.type === "Accepted")!;
  assert.equal(acc.status, "False");
  assert.equal(acc.reason, "RefusedByModule");
  assert.match(acc.message, /spec\.routes\[1\]\.match\.attributes\.method\.regex/);
  assert.match(acc.message, /Unicode character classes/);
  assert.ok(t.statuses[0].conditions.some((c) => c.type === "LastGoodConfig"), JSON.stringify(t.statuses[0].conditions));
  assert.ok(!regexOf(t).includes("\\\\pL"), "the refused regex is not applied");
  assert.ok(regexOf(t).includes("say[A-Z]"), "generation 1 serves");
  // Every pluginConfig that is applied is one the module accepts.
  for (const o of t.objects.filter((x) => x.kind === "WasmPlugin")) assert.equal(check("dubbo", o.spec.pluginConfig), null);
});

test("module paths map to MetaRouter fields", () => {
  assert.equal(metaRouterField("services[0].routes[3].match.attributes.method.regex"), "spec.routes[3].match.attributes.method.regex");
  assert.equal(metaRouterField("services[0].localRateLimit.conditions[1].match"), "spec.localRateLimit.conditions[1].match");
  assert.equal(metaRouterField("services[0].match.attributes.interface.regex"), "spec");
});
