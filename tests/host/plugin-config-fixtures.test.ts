// The plugin-config contract, checked on the built modules as Envoy runs them: every
// tests/fixtures/plugin-config/valid-*.json is accepted by on_configure, every invalid-*.json
// is refused with a log line that names the field from its .expect file. The controller's
// golden tests produce configs of the same schema; its tests load those into the modules too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tryConfigure } from "../../envoy-dev/host/index.ts";
import { proxyKinds } from "../support/proxies.ts";
import { proxyWith, yamlFor, until } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIR = join(ROOT, "tests/fixtures/plugin-config");
const MODULES = ["dubbo", "thrift", "awesomerpc"];
const files = readdirSync(DIR).sort();
const valid = files.filter((f) => f.startsWith("valid-") && f.endsWith(".json"));
const invalid = files.filter((f) => f.startsWith("invalid-") && f.endsWith(".json"));

test("the fixture set is not empty", () => {
  assert.ok(valid.length >= 3 && invalid.length >= 10, `${valid.length} valid, ${invalid.length} invalid`);
});

for (const mod of MODULES) {
  const wasm = join(ROOT, "build", `${mod}.wasm`);
  test(`${mod}.wasm accepts every valid fixture`, async () => {
    for (const f of valid) {
      const r = await tryConfigure(wasm, readFileSync(join(DIR, f), "utf8"), `metaprotocol-${mod}`);
      assert.ok(r.accepted, `${f} refused:\n${r.logs.join("\n")}`);
    }
  });
  test(`${mod}.wasm refuses every invalid fixture, naming the field`, async () => {
    for (const f of invalid) {
      const expect = readFileSync(join(DIR, f.replace(/\.json$/, ".expect")), "utf8").trim();
      const r = await tryConfigure(wasm, readFileSync(join(DIR, f), "utf8"), `metaprotocol-${mod}`);
      assert.equal(r.accepted, false, `${f} was accepted`);
      const line = r.logs.find((l) => l.includes("plugin config refused"));
      assert.ok(line, `${f}: no refusal log line in:\n${r.logs.join("\n")}`);
      assert.ok(line.includes(`${expect}:`), `${f}: the log line does not name ${expect}: ${line}`);
    }
  });
}

// The same fixtures through real Envoy: one Envoy per module, each fixture delivered by ECDS as
// a config update. Envoy takes what on_configure accepts and refuses (config_fail) the rest,
// keeping the previous config, with the module's log line naming the field.
if (proxyKinds().includes("envoy")) {
  for (const mod of MODULES) {
    test(`${mod}.wasm in Envoy: valid fixtures taken, invalid ones refused naming the field`, async () => {
      const p = await proxyWith("envoy", yamlFor({ wasm: `${mod}.wasm`, config: readFileSync(join(DIR, valid[0]), "utf8") }, { echo: [1] }),
        { wasmDir: join(ROOT, "build"), reconfigurable: ["probe"] });
      try {
        for (const f of valid) assert.equal(await p.reconfigure("probe", readFileSync(join(DIR, f), "utf8")), true, `${f} refused by Envoy`);
        for (const f of invalid) {
          const expect = readFileSync(join(DIR, f.replace(/\.json$/, ".expect")), "utf8").trim();
          const from = p.logs().length;
          assert.equal(await p.reconfigure("probe", readFileSync(join(DIR, f), "utf8")), false, `${f} taken by Envoy`);
          await until(() => p.logs().slice(from).some((l) => l.includes("plugin config refused")), `${f}: the refusal log line`);
          const line = p.logs().slice(from).find((l) => l.includes("plugin config refused"))!;
          assert.ok(line.includes(`${expect}:`), `${f}: the log line does not name ${expect}: ${line}`);
        }
      } finally { await p.close(); }
    });
  }
}
