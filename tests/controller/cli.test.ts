// The offline mode as CI uses it: `metaprotocol-wasm render -f ...` through the bin launcher.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeApiServer } from "./fake-apiserver.ts";
import { FIXTURES } from "./fixtures.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [`${ROOT}controller/bin/metaprotocol-wasm.mjs`, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

test("render prints the golden objects and exits 0", () => {
  const r = run("render", "-f", `${FIXTURES}dubbo-demo/input.yaml`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(`${FIXTURES}dubbo-demo/expected.yaml`, "utf8"));
  assert.match(r.stderr, /Accepted=True/);
});

test("render --strict exits 2 on bad input and names the field on stderr", () => {
  const r = run("render", "--strict", "-f", `${FIXTURES}bad-input/input.yaml`);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /spec\.routes\[0\]\.match\.attributes\.interface\.regex/);
});

test("render with no files prints usage and fails", () => {
  const r = run("render");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /usage:/);
});

test("--help, -h and help print the usage to stdout and exit 0; an unknown flag fails with usage", () => {
  for (const args of [["--help"], ["-h"], ["help"], ["render", "--help"], ["render", "-h"], ["run", "--help"]]) {
    const r = run(...args);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, /metaprotocol-wasm render -f <file\|dir\|->/);
    assert.match(r.stdout, /-R  +with -f <dir>, read its subfolders too/);
  }
  const bad = run("render", "--colour", "-f", "x");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /Unknown option '--colour'[\s\S]*usage:/);
});

/** A temp folder with files; removed after `fn`. */
function withFiles(files: Record<string, string>, fn: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "mpw-render-"));
  try {
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(join(dir, f, ".."), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const DEMO = readFileSync(`${FIXTURES}dubbo-demo/input.yaml`, "utf8");
const MR = (name: string, subset: string, extra = "") => `apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: { name: ${name}, namespace: meta-dubbo }
spec:
  hosts: [dubbo-demo.meta-dubbo.svc.cluster.local]
  routes:
  - name: all
    route: [{ destination: { host: dubbo-demo.meta-dubbo.svc.cluster.local, subset: ${subset} } }]${extra}
`;
const withoutMetaRouter = DEMO.split(/^---$/m).filter((d) => !/kind: MetaRouter/.test(d)).join("---");

test("render -f <dir> reads the folder only; -R reads its subfolders too (kubectl's --recursive)", () => {
  withFiles({ "base.yaml": withoutMetaRouter, "rules/route.yaml": MR("dubbo-demo", "v2"), "notes.txt": "not yaml" }, (dir) => {
    const flat = run("render", "-f", dir);
    assert.equal(flat.status, 0, flat.stderr);
    assert.doesNotMatch(flat.stdout, /outbound\|20880\|v2\|/);
    const deep = run("render", "-R", "-f", dir);
    assert.equal(deep.status, 0, deep.stderr);
    assert.match(deep.stdout, /cluster: outbound\|20880\|v2\|dubbo-demo\.meta-dubbo\.svc\.cluster\.local/);
    assert.match(deep.stderr, /MetaRouter meta-dubbo\/dubbo-demo: Accepted=True/);
  });
});

test("render: two objects of one name: the later is used for config and status alike, and the duplicate is reported", () => {
  withFiles({ "a.yaml": withoutMetaRouter + "---\n" + MR("dubbo-demo", "v1"), "b.yaml": MR("dubbo-demo", "nope") }, (dir) => {
    const r = run("render", "-f", dir);
    // b.yaml's subset does not exist: its status is the one shown, and its (bad) rule is the one not applied.
    assert.match(r.stderr, /Warning .*b\.yaml: MetaRouter meta-dubbo\/dubbo-demo is also in .*a\.yaml: this later one is used/);
    assert.match(r.stderr, /MetaRouter meta-dubbo\/dubbo-demo: ResolvedRefs=False SubsetNotFound: spec\.routes\[0\]\.route\[0\]\.destination\.subset: subset "nope"/);
    assert.doesNotMatch(r.stdout, /\|v1\|/, "the earlier object's config must not be applied while the later one's status is shown");
    assert.equal(run("render", "--strict", "-f", dir).status, 2);
  });
});

test("render prints the kinds it ignores, and exits 1 with the reason when it generates nothing", () => {
  withFiles({ "app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: shop }\n" }, (dir) => {
    const r = run("render", "-f", dir);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /ignored \(the controller does not read this kind\): .*app\.yaml: Deployment shop\/web/);
    assert.match(r.stderr, /nothing generated: no Service or ServiceEntry among the inputs/);
  });
  withFiles({ "svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: { ports: [{ name: http, port: 80 }] }\n" }, (dir) => {
    assert.match(run("render", "-f", dir).stderr, /nothing generated: no Service or ServiceEntry port is named tcp-metaprotocol-<protocol>/);
  });
});

test("render -n: namespace-less inputs land in that namespace (else default); another namespace is an error, as kubectl -n", () => {
  const bare = DEMO.replace(/,? *namespace: meta-dubbo/g, "").replace(/dubbo-demo\.meta-dubbo\.svc\.cluster\.local/g, "dubbo-demo");
  withFiles({ "in.yaml": bare }, (dir) => {
    const def = run("render", "-f", dir);
    assert.equal(def.status, 0, def.stderr);
    assert.match(def.stdout, /outbound\|20880\|v2\|dubbo-demo\.default\.svc\.cluster\.local/);
    const ns = run("render", "-n", "meta-dubbo", "-f", dir);
    assert.equal(ns.status, 0, ns.stderr);
    assert.match(ns.stdout, /outbound\|20880\|v2\|dubbo-demo\.meta-dubbo\.svc\.cluster\.local/);
    assert.match(ns.stdout, /namespace: meta-dubbo\n\s+labels/);
  });
  const r = run("render", "-n", "other", "-f", `${FIXTURES}dubbo-demo/input.yaml`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: .*the namespace from the provided object "meta-dubbo" does not match the namespace "other"/);
});

test("render reads - as standard input", () => {
  const r = spawnSync(process.execPath, [`${ROOT}controller/bin/metaprotocol-wasm.mjs`, "render", "-f", "-"], { cwd: ROOT, encoding: "utf8", input: DEMO, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(`${FIXTURES}dubbo-demo/expected.yaml`, "utf8"));
});

test("render --strict: misspelled fields are reported as the API server's pruning would, with our CRD schemas", () => {
  const typo = MR("dubbo-demo", "v2").replace("  - name: all\n    route:", "  - name: all\n    routes:")
    + "---\n" + MR("other", "v2").replace("metadata: { name: other, namespace: meta-dubbo }", "metadata: { name: other, namespace: meta-dubbo }\nspce: {}")
      .replace("subset: v2 } }]", "subset: v2 }, weight: -1 }]");
  withFiles({ "base.yaml": withoutMetaRouter, "rules.yaml": typo }, (dir) => {
    const r = run("render", "-f", dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Warning .*rules\.yaml: MetaRouter meta-dubbo\/dubbo-demo: spec\.routes\[0\]\.routes: unknown field "routes": kubectl apply refuses it/);
    assert.match(r.stderr, /Warning .*MetaRouter meta-dubbo\/other: spce: unknown field "spce"/);
    assert.match(r.stderr, /Warning .*MetaRouter meta-dubbo\/other: spec\.routes\[0\]\.route\[0\]\.weight: must be at least 0: the API server refuses this object/);
    assert.equal(run("render", "--strict", "-f", dir).status, 2);
  });
  const clean = run("render", "--strict", "-f", `${FIXTURES}dubbo-demo/input.yaml`);
  assert.doesNotMatch(clean.stderr, /unknown field/);
});

test("run: the launcher passes SIGTERM on, so the controller stops and gives up its Lease", async () => {
  const api = new FakeApiServer();
  await api.start();
  const dir = mkdtempSync(join(tmpdir(), "mpw-cli-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, api.kubeConfig().exportConfig());
  const launcher = spawn(process.execPath, [`${ROOT}controller/bin/metaprotocol-wasm.mjs`, "run", "--kubeconfig", kubeconfig, "--port", "0",
    "--namespace", "metaprotocol-wasm", "--identity", "cli-test"], { cwd: ROOT, stdio: "ignore" });
  try {
    const holder = () => api.get("leases", "metaprotocol-wasm", "metaprotocol-wasm-controller")?.spec?.holderIdentity;
    for (let i = 0; holder() !== "cli-test"; i++) {
      if (i > 600) assert.fail("the controller never took the Lease");
      await new Promise((r) => setTimeout(r, 50));
    }
    const children = () => spawnSync("pgrep", ["-P", String(launcher.pid)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
    const [child] = children();
    assert.ok(child, "the launcher runs the controller as a child");
    const exited = new Promise<number | null>((r) => launcher.on("exit", (code) => r(code)));
    launcher.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal(spawnSync("kill", ["-0", child]).status, 1, `controller ${child} outlived its launcher`);
    assert.notEqual(holder(), "cli-test", "the Lease was given up");
  } finally {
    launcher.kill("SIGKILL");
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
