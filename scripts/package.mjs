#!/usr/bin/env node
// Packages each built module (build/<protocol>.wasm) as an OCI image in the Wasm "compat"
// layout that Istio's agent pulls (istio.io/istio/pkg/wasm): one
// application/vnd.oci.image.layer.v1.tar+gzip layer holding plugin.wasm. No Docker needed.
//
//   npm run package                         -> dist/oci/<protocol>/ (OCI image layouts) + digests
//   npm run package -- --push <registry>/<prefix> [--tag 0.1.0] [--insecure]
//        pushes each image as <registry>/<prefix>/<protocol>:<tag> with the OCI distribution API
//        (credentials: REGISTRY_USER / REGISTRY_PASSWORD, or a bearer token in REGISTRY_TOKEN).
//
// The layout is byte-for-byte reproducible (fixed tar header, gzip without a timestamp), so
// the same module always gives the same manifest digest.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

export const MEDIA = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  index: "application/vnd.oci.image.index.v1+json",
};

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

/** A ustar archive with one regular file. */
function tarOne(name, data) {
  const h = Buffer.alloc(512);
  const put = (s, off, len) => h.write(s, off, len, "ascii");
  const oct = (n, len) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(name, 0, 100);
  put(oct(0o644, 8), 100, 8); put(oct(0, 8), 108, 8); put(oct(0, 8), 116, 8);
  put(oct(data.length, 12), 124, 12); put(oct(0, 12), 136, 12);
  h.fill(" ", 148, 156); put("0", 156, 1); put("ustar\0", 257, 6); put("00", 263, 2);
  let sum = 0; for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

/** The blobs of one image: layer, config, manifest (all content-addressed). */
export function imageOf(protocol, wasm, version = pkg.version) {
  const tar = tarOne("plugin.wasm", wasm);
  const layer = gzipSync(tar, { level: 9 }); // Node writes mtime 0: reproducible
  const created = "1970-01-01T00:00:00Z";
  const config = Buffer.from(JSON.stringify({
    created, architecture: "wasm", os: "wasip1",
    config: { Labels: { "org.opencontainers.image.title": `metaprotocol-${protocol}` } },
    rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
    history: [{ created, created_by: "metaprotocol-wasm scripts/package.mjs" }],
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: `sha256:${sha256(config)}`, size: config.length },
    layers: [{ mediaType: MEDIA.layer, digest: `sha256:${sha256(layer)}`, size: layer.length,
      annotations: { "org.opencontainers.image.title": "plugin.wasm" } }],
    annotations: {
      "module.wasm.image/variant": "compat",
      "org.opencontainers.image.title": `metaprotocol-${protocol}`,
      "org.opencontainers.image.version": version,
      "org.opencontainers.image.source": "https://github.com/metaprotocol-wasm/metaprotocol-wasm",
    },
  }));
  return { protocol, wasmSha256: sha256(wasm), layer, config, manifest, digest: `sha256:${sha256(manifest)}` };
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/sha256/*) into dir. */
export function writeLayout(dir, img, tag) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  for (const b of [img.layer, img.config, img.manifest]) writeFileSync(join(dir, "blobs", "sha256", sha256(b)), b);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(join(dir, "index.json"), JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA.index,
    manifests: [{ mediaType: MEDIA.manifest, digest: img.digest, size: img.manifest.length,
      annotations: { "org.opencontainers.image.ref.name": tag } }],
  }));
}

function authHeaders() {
  if (process.env.REGISTRY_TOKEN) return { authorization: `Bearer ${process.env.REGISTRY_TOKEN}` };
  if (process.env.REGISTRY_USER) return { authorization: `Basic ${Buffer.from(`${process.env.REGISTRY_USER}:${process.env.REGISTRY_PASSWORD ?? ""}`).toString("base64")}` };
  return {};
}

/** Pushes one image with the OCI distribution API: blobs (monolithic upload), then the manifest. */
export async function push(img, reference, { insecure = false } = {}) {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(reference);
  if (!m) throw new Error(`push: expected <registry>/<repository>:<tag>, got ${reference}`);
  const [, registry, repo, tag] = m;
  const base = `${insecure || /^(localhost|127\.)/.test(registry) ? "http" : "https"}://${registry}/v2/${repo}`;
  const headers = authHeaders();
  for (const blob of [img.layer, img.config]) {
    const digest = `sha256:${sha256(blob)}`;
    if ((await fetch(`${base}/blobs/${digest}`, { method: "HEAD", headers })).ok) continue;
    const start = await fetch(`${base}/blobs/uploads/`, { method: "POST", headers });
    if (start.status !== 202) throw new Error(`push ${reference}: starting an upload: HTTP ${start.status} ${await start.text()}`);
    const loc = new URL(start.headers.get("location"), base);
    loc.searchParams.set("digest", digest);
    const put = await fetch(loc, { method: "PUT", headers: { ...headers, "content-type": "application/octet-stream" }, body: blob });
    if (put.status !== 201) throw new Error(`push ${reference}: blob ${digest}: HTTP ${put.status} ${await put.text()}`);
  }
  const r = await fetch(`${base}/manifests/${tag}`, { method: "PUT", headers: { ...headers, "content-type": MEDIA.manifest }, body: img.manifest });
  if (r.status !== 201) throw new Error(`push ${reference}: manifest: HTTP ${r.status} ${await r.text()}`);
  return r.headers.get("docker-content-digest") ?? img.digest;
}

async function main(argv) {
  const get = (flag) => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
  const tag = get("--tag") ?? pkg.version;
  const pushTo = get("--push");
  const buildDir = join(root, "build");
  const wanted = argv.filter((a, i) => !a.startsWith("--") && !["--tag", "--push"].includes(argv[i - 1]));
  const modules = (wanted.length ? wanted.map((p) => `${p}.wasm`) : readdirSync(buildDir).filter((f) => f.endsWith(".wasm")).sort())
    .map((f) => join(buildDir, f));
  if (!modules.length || modules.some((f) => !existsSync(f))) {
    console.error("package: build the modules first (npm run build)");
    return 1;
  }
  for (const file of modules) {
    const protocol = basename(file, ".wasm");
    const img = imageOf(protocol, readFileSync(file));
    const dir = join(root, "dist", "oci", protocol);
    writeLayout(dir, img, tag);
    console.log(`package: ${protocol} -> dist/oci/${protocol} manifest ${img.digest} (module sha256 ${img.wasmSha256})`);
    if (pushTo) {
      const ref = `${pushTo.replace(/\/$/, "")}/${protocol}:${tag}`;
      const digest = await push(img, ref, { insecure: argv.includes("--insecure") });
      console.log(`package: pushed oci://${ref} (${digest})`);
    }
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => { console.error(`package: ${e.message}`); process.exitCode = 1; });
}
