#!/usr/bin/env node
// Istio objects (the controller's output, istio/ samples) are validated in `npm test` against
// Istio's own CRD schemas, the same the API server applies: envoy-dev/validate/istio-crds.json
// holds them for the kinds this project writes, for every Istio release the mesh suite pins
// (tests/mesh/go/istio/istio-<release>.mod), descriptions left out. They come from the
// istio.io/istio Go module (manifests/charts/base/files/crd-all.gen.yaml), fetched by `go`.
//   npm run gen:istio-crds      rewrites the file
//   npm run check:istio-crds    fails when the committed file differs from what Istio ships (CI)
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GO_DIR = join(ROOT, "tests/mesh/go/istio");
const OUT = join(ROOT, "envoy-dev/validate/istio-crds.json");
const KINDS = ["WasmPlugin", "TrafficExtension", "EnvoyFilter", "DestinationRule", "ServiceEntry"];

function moduleDir(release) {
  const args = ["list", `-modfile=istio-${release}.mod`, "-m", "-f", "{{.Dir}}", "istio.io/istio"];
  let r = spawnSync("go", args, { cwd: GO_DIR, encoding: "utf8" });
  if (r.status !== 0 || !r.stdout.trim()) {
    const dl = spawnSync("go", ["mod", "download", `-modfile=istio-${release}.mod`, "istio.io/istio"], { cwd: GO_DIR, stdio: "inherit" });
    if (dl.status !== 0) throw new Error(`gen-istio-crds: cannot download istio.io/istio for ${release} (needs Go and the module proxy)`);
    r = spawnSync("go", args, { cwd: GO_DIR, encoding: "utf8" });
  }
  return r.stdout.trim();
}

const strip = (o) => Array.isArray(o) ? o.map(strip)
  : o && typeof o === "object" ? Object.fromEntries(Object.entries(o).filter(([k]) => k !== "description").map(([k, v]) => [k, strip(v)])) : o;

export function generated() {
  const releases = readdirSync(GO_DIR).map((f) => /^istio-(.+)\.mod$/.exec(f)?.[1]).filter(Boolean).sort();
  const out = {};
  for (const release of releases) {
    const text = readFileSync(join(moduleDir(release), "manifests/charts/base/files/crd-all.gen.yaml"), "utf8");
    out[release] = parseAllDocuments(text).map((d) => d.toJS()).filter((d) => d?.kind === "CustomResourceDefinition" && KINDS.includes(d.spec.names.kind))
      .flatMap((d) => {
        // Served versions that share one schema (Istio's do) are listed together.
        const groups = new Map();
        for (const v of d.spec.versions.filter((v) => v.served)) {
          const schema = strip(v.schema.openAPIV3Schema);
          const k = JSON.stringify(schema);
          if (groups.has(k)) groups.get(k).versions.push(v.name);
          else groups.set(k, { group: d.spec.group, kind: d.spec.names.kind, versions: [v.name], schema });
        }
        return [...groups.values()];
      })
      .sort((a, b) => a.kind.localeCompare(b.kind));
  }
  return JSON.stringify(out, null, 1) + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = generated();
  if (process.argv.includes("--check")) {
    if (readFileSync(OUT, "utf8") !== text) {
      console.error(`check-istio-crds: ${OUT} differs from Istio's CRDs: run npm run gen:istio-crds and commit it`);
      process.exit(1);
    }
    console.error("check-istio-crds: envoy-dev/validate/istio-crds.json is what Istio ships");
  } else {
    writeFileSync(OUT, text);
    console.error(`gen-istio-crds: wrote ${OUT} (${text.length} bytes)`);
  }
}
