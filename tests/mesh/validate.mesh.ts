// Istio's own validation (what `istioctl validate` runs, from istio.io/istio of each release)
// over every object the controller emits for the samples and every controller fixture, with
// both carriers (TrafficExtension only where the release has it). A broken copy of each kind
// must fail, which proves the validator really covered that kind instead of skipping it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe } from "node:test";
import { parseAllDocuments } from "yaml";
import { loadObjects, renderYaml } from "../../controller/src/render.ts";
import { parseSettings } from "../../controller/src/model/settings.ts";
import { translate } from "../../controller/src/translate/index.ts";
import { test } from "./support/test.ts";
import { istioValidate } from "./support/validate.ts";
import { ISTIO_RELEASES, REPO } from "./support/tools.ts";
import { controllerSettings } from "./support/settings.ts";

function inputs(): Array<{ name: string; text: string }> {
  const samples = ["application-protocols.yaml", "dubbo/dubbo.yaml", "thrift/thrift.yaml"]
    .map((f) => ({ name: `samples/${f}`, text: readFileSync(join(REPO, "manifests/samples", f), "utf8") }));
  const fixtures = readdirSync(join(REPO, "tests/fixtures/controller")).sort()
    .map((c) => ({ name: `fixture ${c}`, text: readFileSync(join(REPO, "tests/fixtures/controller", c, "input.yaml"), "utf8") }));
  return [{ name: "samples", text: samples.map((s) => s.text).join("\n---\n") }, ...fixtures];
}

function emitted(text: string, extensionKind: string): string {
  const base = parseSettings(controllerSettings(`extensionKind: ${extensionKind}`));
  const { observed, settings } = loadObjects([{ name: "input.yaml", text }], base);
  return renderYaml(translate(observed, { ...settings, extensionKind: extensionKind as any }));
}

for (const release of ISTIO_RELEASES) {
  const carriers = release === "1.29" ? ["WasmPlugin"] : ["WasmPlugin", "TrafficExtension"];
  describe(`mesh: istioctl validate (Istio ${release}) over the controller's output`, { timeout: 1_800_000 }, () => {
    for (const carrier of carriers) {
      test(`${carrier}: every object for the samples and every fixture is valid`, async () => {
        let count = 0;
        for (const input of inputs()) {
          const yaml = emitted(input.text, carrier);
          const docs = parseAllDocuments(yaml).map((d) => d.toJS()).filter(Boolean);
          if (!docs.length) continue;
          count += docs.length;
          assert.ok(docs.every((d: any) => d.kind === carrier || d.kind === "EnvoyFilter"), input.name);
          const r = await istioValidate(release, yaml);
          assert.equal(r.code, 0, `${input.name}:\n${r.output}`);
          // Istio warns about every EnvoyFilter ("exposes internal implementation details"); any other warning fails.
          const other = r.output.split("\n").filter((l) => /^\s*\*/.test(l) && !/EnvoyFilter exposes internal implementation details/.test(l));
          assert.deepEqual(other, [], `${input.name}:\n${r.output}`);
        }
        assert.ok(count >= 10, `only ${count} objects validated`);
      }, 1_200_000);

      test(`${carrier}: a broken copy of each kind is refused (the validator covers it)`, async () => {
        const docs = parseAllDocuments(emitted(inputs()[0].text, carrier)).map((d) => d.toJS());
        const plugin = docs.find((d: any) => d.kind === carrier);
        const wasm = carrier === "TrafficExtension" ? plugin.spec.wasm : plugin.spec;
        wasm.failStrategy = "FAIL_SOMETIMES";
        const filter = docs.find((d: any) => d.kind === "EnvoyFilter");
        filter.spec.configPatches[0].applyTo = "NOT_A_THING";
        for (const broken of [plugin, filter]) {
          const r = await istioValidate(release, JSON.stringify(broken));
          assert.notEqual(r.code, 0, `${broken.kind} accepted:\n${r.output}`);
        }
      }, 600_000);
    }
  });
}
