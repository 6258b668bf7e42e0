// The Go-built services the tests start (envoyproxy/ratelimit, an OpenTelemetry Collector), each
// built from the Go module proxy once into <cache>/<tool>-<version>/ (METAPROTOCOL_CACHE, default
// the repository's ignored .cache/; CI keeps it between runs) and rebuilt only when missing.
// The module folders next to this file pin the versions (go.mod + go.sum); builds are niced and
// run one compile job at a time, as the machine is 2 shared cores.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));
export const REPO = join(HERE, "..", "..");
export const CACHE = process.env.METAPROTOCOL_CACHE ?? join(REPO, ".cache");

/** envoyproxy/ratelimit has no release tags on the module proxy: a pinned commit (pseudo-version). */
export const RATELIMIT_VERSION = "v1.4.1-0.20260122083618-3fb702589d36";
/** go.opentelemetry.io/collector release of otelcol/go.mod. */
export const OTELCOL_VERSION = "v0.165.0";

function goBuild(moduleDir: string, out: string, pkg: string): void {
  mkdirSync(join(out, ".."), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const t0 = Date.now();
  process.stderr.write(`services: building ${out} from the Go module proxy (cold: several minutes)\n`);
  const r = spawnSync("nice", ["-n", "10", "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, pkg], {
    cwd: moduleDir, stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ""} -p=1 -buildvcs=false -mod=readonly`.trim(), CGO_ENABLED: "0" },
  });
  if (r.error) throw new Error(`go build in ${moduleDir}: ${r.error.message} (is Go installed?)`);
  if (r.status !== 0) throw new Error(`go build ${pkg} in ${moduleDir} failed (exit ${r.status})`);
  renameSync(tmp, out);
  process.stderr.write(`services: built ${out} in ${Math.round((Date.now() - t0) / 1000)} s\n`);
}

/** The envoyproxy/ratelimit service binary (its src/service_cmd, a `tool` of ratelimit/go.mod). */
export function ratelimitBin(): string {
  const bin = join(CACHE, `ratelimit-${RATELIMIT_VERSION}`, "ratelimit");
  if (!existsSync(bin)) goBuild(join(HERE, "ratelimit"), bin, "github.com/envoyproxy/ratelimit/src/service_cmd");
  return bin;
}

/** The collector of otelcol/main.go: OTLP receiver and OTLP/HTTP exporter. */
export function otelcolBin(): string {
  const bin = join(CACHE, `otelcol-${OTELCOL_VERSION}`, "otelcol");
  if (!existsSync(bin)) goBuild(join(HERE, "otelcol"), bin, ".");
  return bin;
}

// `npx tsx envoy-dev/services/go-tools.ts`: build what is missing (CI runs it before the tests,
// so a cold cache costs no test time-out) and print the binaries.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(ratelimitBin());
  console.log(otelcolBin());
}
