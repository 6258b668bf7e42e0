// Module delivery as a mesh operator does it: `npm run package` writes each module as an OCI
// image (Wasm compat layout), it is pushed to a real registry (Debian's docker-registry, the
// CNCF Distribution server, on loopback), and Istio's own Wasm fetcher (istio.io/istio/pkg/wasm,
// the cache istio-agent runs) pulls it back byte for byte, checking the digest as it does for a
// WasmPlugin's sha256.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { freePort, start, until, type Proc } from "./support/proc.ts";
import { test } from "./support/test.ts";
import { istioBin, ISTIO_RELEASES, REPO, type IstioRelease } from "./support/tools.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function pull(release: IstioRelease, url: string, checksum: string, registry: string): Promise<{ code: number; out: string; err: string }> {
  const cache = mkdtempSync(join(tmpdir(), "metaprotocol-wasm-cache-"));
  return new Promise((resolve) => execFile(istioBin(release), ["wasm-pull", cache, url, checksum, registry], { timeout: 120_000 },
    (e, out, err) => resolve({ code: e ? ((e as any).code ?? 1) : 0, out: out.trim().split("\n").pop() ?? "", err: `${err}${out}` })));
}

describe("mesh: module images in a real registry, pulled by Istio's Wasm fetcher", { timeout: 1_800_000 }, () => {
  let registry: Proc;
  let address: string;
  const pushed: Record<string, { digest: string; module: Buffer }> = {};

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "metaprotocol-registry-"));
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    writeFileSync(join(dir, "config.yml"), [
      "version: 0.1", "log: { level: warn }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} } }`,
      `http: { addr: "${address}" }`, "",
    ].join("\n"));
    registry = start("docker-registry", "docker-registry", ["serve", join(dir, "config.yml")], join(dir, "registry.log"));
    await until("the registry", async () => (await fetch(`http://${address}/v2/`)).status === 200, 30_000, 200, registry);
  });
  after(async () => { await registry?.stop(); });

  test("package --push (npm run package after the build) writes OCI layouts and pushes one image per module", async () => {
    // `npm run package` is `npm run build` + this script; test:mesh has just built build/*.wasm.
    const out = execFileSync(process.execPath, ["scripts/package.mjs", "--push", `${address}/metaprotocol-wasm`, "--tag", "mesh-test"],
      { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    for (const protocol of ["dubbo", "thrift", "awesomerpc"]) {
      const m = new RegExp(`pushed oci://${address}/metaprotocol-wasm/${protocol}:mesh-test \\((sha256:[0-9a-f]{64})\\)`).exec(out);
      assert.ok(m, out);
      pushed[protocol] = { digest: m[1], module: readFileSync(join(REPO, "build", `${protocol}.wasm`)) };
      // The registry serves what the layout on disk holds.
      const layout = JSON.parse(readFileSync(join(REPO, "dist/oci", protocol, "index.json"), "utf8"));
      assert.equal(layout.manifests[0].digest, m[1]);
      const r = await fetch(`http://${address}/v2/metaprotocol-wasm/${protocol}/manifests/mesh-test`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("docker-content-digest"), m[1]);
    }
  }, 600_000);

  for (const release of ISTIO_RELEASES) {
    test(`Istio ${release}'s fetcher pulls each module by tag with the manifest digest as sha256, byte for byte`, async () => {
      for (const [protocol, p] of Object.entries(pushed)) {
        const r = await pull(release, `oci://${address}/metaprotocol-wasm/${protocol}:mesh-test`, p.digest.slice(7), address);
        assert.equal(r.code, 0, r.err);
        assert.equal(sha256(readFileSync(r.out)), sha256(p.module), `${protocol}: pulled file differs from build/${protocol}.wasm`);
      }
    }, 900_000);

    test(`Istio ${release}'s fetcher refuses an image whose digest is not the configured sha256`, async () => {
      const r = await pull(release, `oci://${address}/metaprotocol-wasm/dubbo:mesh-test`, "0".repeat(64), address);
      assert.notEqual(r.code, 0);
      assert.match(r.err, /does not match/);
    }, 600_000);
  }
});
