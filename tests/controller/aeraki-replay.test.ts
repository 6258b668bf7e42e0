// The replay the issue asks for: Aeraki-shaped rules (tests/fixtures/aeraki-samples, written from
// Aeraki's documented API) through `metaprotocol-wasm render --strict`, one rule file at a time
// with its base files, as users apply them. Clean where Aeraki's behaviour is supported; where it
// is not, the condition that says so, and nothing else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const ROOT = new URL("../../", import.meta.url).pathname;
const S = `${ROOT}tests/fixtures/aeraki-samples/`;
const render = (...args: string[]) => spawnSync(process.execPath, [`${ROOT}controller/bin/metaprotocol-wasm.mjs`, "render", "--strict",
  "--module", "dubbo=oci://registry.example/dubbo:1", "--module", "thrift=oci://registry.example/thrift:1", "-f", `${S}application-protocols.yaml`, ...args],
{ cwd: ROOT, encoding: "utf8", timeout: 120_000 });

/** [namespace, base, rule, what --strict says: "clean" or the reasons it must report (and only those)]. */
const CASES: Array<[string, string, string, "clean" | string[]]> = [
  ["", "dubbo/base.yaml", "dubbo/traffic-split.yaml", "clean"],
  ["", "dubbo/base.yaml", "dubbo/presence-and-unnamed.yaml", "clean"],
  ["", "dubbo/base.yaml", "dubbo/header-mutation.yaml", "clean"],
  ["", "dubbo/base.yaml", "dubbo/local-ratelimit.yaml", "clean"],
  ["meta-thrift", "thrift/base.yaml", "thrift/traffic-split.yaml", "clean"],
  ["meta-thrift", "thrift/base.yaml", "thrift/mutation-and-limit.yaml", "clean"],
  // Aeraki routes each request; here a connection follows its first request's route.
  ["", "dubbo/base.yaml", "dubbo/route-by-method.yaml", ["RoutesOnPerRequestAttribute"]],
  ["", "dubbo/base.yaml", "dubbo/route-by-regex.yaml", ["RoutesOnPerRequestAttribute"]],
  ["meta-thrift", "thrift/base.yaml", "thrift/route-v2.yaml", ["RoutesOnPerRequestAttribute"]],
  // Not available in a Wasm network filter.
  ["", "dubbo/base.yaml", "dubbo/mirror.yaml", ["MirrorNotSupported"]],
  ["", "dubbo/base.yaml", "dubbo/consistent-hash.yaml", ["ConsistentHashNotApplied"]],
];

for (const [ns, base, rule, want] of CASES) {
  test(`replay ${rule}${ns ? ` -n ${ns}` : ""}: ${want === "clean" ? "clean under --strict" : want.join(", ")}`, () => {
    const r = render(...(ns ? ["-n", ns] : []), "-f", S + base, "-f", S + rule);
    const warnings = r.stderr.split("\n").filter((l) => /^Warning /.test(l) || /=False /.test(l));
    if (want === "clean") {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(warnings, []);
    } else {
      assert.equal(r.status, 2, r.stderr);
      const reasons = new Set([...r.stderr.matchAll(/(?:=True|Warning \S+ \S*) (\w+):/g)].map((m) => m[1]));
      for (const w of want) assert.ok(reasons.has(w) || r.stderr.includes(` ${w}: `), `${w} missing:\n${r.stderr}`);
      // Apart from the named reason (and the duplicate DestinationRule of consistent-hash.yaml, an alternative of base.yaml's), nothing is wrong.
      const other = warnings.filter((l) => !want.some((w) => l.includes(w)) && !/is also in/.test(l));
      assert.deepEqual(other, []);
    }
    if (readFileSync(S + rule, "utf8").includes("kind: MetaRouter")) assert.match(r.stderr, /Accepted=True/);
    assert.doesNotMatch(r.stderr, /ResolvedRefs=False|Accepted=False|unknown field/);
    assert.match(r.stdout, /kind: WasmPlugin/);
  });
}

test("replay: without -n, namespace-less Aeraki demo files land in default, so their MetaRouter names a host nobody has", () => {
  const r = render("-f", `${S}thrift/base.yaml`, "-f", `${S}thrift/traffic-split.yaml`);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /MetaRouter default\/greeter-route: ResolvedRefs=False UnknownHost: spec\.hosts\[0\]: no Service or ServiceEntry visible from namespace default has host greeter\.meta-thrift\.svc\.cluster\.local/);
});

test("replay: every rule file at once names one MetaRouter several times: the duplicates are reported", () => {
  const r = render("-f", `${S}dubbo/`);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Warning .*route-by-regex\.yaml: MetaRouter meta-dubbo\/orders-route is also in .*route-by-method\.yaml/);
});
