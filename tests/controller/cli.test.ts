// The offline mode as CI uses it: `metaprotocol-wasm render -f ...` through the bin launcher.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
