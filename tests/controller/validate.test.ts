// Every object the translation produces is checked by the tools the real system uses:
// Istio's CRD schemas (+ unknown fields), Envoy's protos for the EnvoyFilter patch, and the
// real Wasm modules' on_configure for every pluginConfig.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { cases, translateCase } from "./fixtures.js";
import { validateEnvoyMessage, validateIstioResource } from "../../envoy-dev/validate/index.ts";
import { tryConfigure } from "../../envoy-dev/host/index.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const all = cases().flatMap((c) => translateCase(c).objects.map((o) => ({ c, o })));

test("fixtures produce both WasmPlugins and EnvoyFilters to check", () => {
  assert.ok(all.some(({ o }) => o.kind === "WasmPlugin") && all.some(({ o }) => o.kind === "EnvoyFilter"));
});

test("every generated object passes Istio's schema with no unknown fields", () => {
  const errors = all.flatMap(({ c, o }) => validateIstioResource(o).map((e) => `${c}: ${e}`));
  assert.deepEqual(errors, []);
});

test("with extensionKind TrafficExtension every generated object passes Istio 1.30's schema too", () => {
  const errors = cases().flatMap((c) => {
    const t = translateCase(c, { settings: { extensionKind: "TrafficExtension" } });
    assert.ok(t.objects.every((o) => o.kind !== "WasmPlugin"), c);
    return t.objects.flatMap((o) => validateIstioResource(o).map((e) => `${c}: ${e}`));
  });
  assert.deepEqual(errors, []);
  const broken = { ...translateCase("dubbo-demo", { settings: { extensionKind: "TrafficExtension" } }).objects.find((o) => o.kind === "TrafficExtension")! };
  broken.spec = { ...broken.spec, wasm: { ...broken.spec.wasm, pluginConfigg: {} } };
  assert.ok(validateIstioResource(broken).some((e) => /spec\.wasm\.pluginConfigg: unknown field/.test(e)), "the check can fail");
});

test("the tcp_proxy patch is a valid TcpProxy fragment per Envoy's protos", () => {
  for (const { c, o } of all.filter(({ o }) => o.kind === "EnvoyFilter")) {
    const { "@type": type, ...value } = o.spec.configPatches[0].patch.value.typed_config;
    assert.equal(type, "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
    assert.deepEqual(validateEnvoyMessage("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", value, { partial: true }), [], c);
  }
});

test("the validator would catch a wrong patch (the check above can fail)", () => {
  const errs = validateEnvoyMessage("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
    { upstream_connect_mode: "ON_FIRST_BYTE", max_early_data_bytes: 1 }, { partial: true });
  assert.ok(errs.some((e) => e.includes("upstream_connect_mode")), errs.join("\n"));
});

function moduleFor(protocol: string): string {
  const wasm = `${ROOT}build/${protocol}.wasm`;
  if (!existsSync(wasm)) {
    const r = spawnSync(process.execPath, [`${ROOT}scripts/build.mjs`, protocol], { cwd: ROOT, stdio: "inherit", timeout: 300_000 });
    assert.equal(r.status, 0, `building ${protocol}.wasm failed`);
  }
  return wasm;
}

for (const protocol of ["dubbo", "thrift"]) {
  test(`every generated ${protocol} pluginConfig is accepted by build/${protocol}.wasm`, async () => {
    const plugins = all.filter(({ o }) => o.kind === "WasmPlugin" && o.metadata.labels?.["metaprotocol-wasm.io/protocol"] === protocol);
    assert.ok(plugins.length > 0, `no ${protocol} fixture`);
    const wasm = moduleFor(protocol);
    const refused = await tryConfigure(wasm, JSON.stringify({ services: [{ name: "x", colour: "red" }] }), `metaprotocol-${protocol}`);
    assert.equal(refused.accepted, false, "the module accepted an unknown field: this check could not fail");
    for (const { c, o } of plugins) {
      const r = await tryConfigure(wasm, JSON.stringify(o.spec.pluginConfig), o.spec.pluginName);
      assert.ok(r.accepted, `${c} ${o.metadata.namespace}/${o.metadata.name} refused:\n${r.logs.join("\n")}`);
    }
  });
}
