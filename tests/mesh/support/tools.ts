// The Go-built tools of the mesh tests, each built once into .cache/<tool>-<version>/ (ignored by
// git; CI keeps .cache between runs) and rebuilt only when missing. Builds are niced; on a
// machine shared with other work set MESH_BUILD_JOBS=1 (go build -p) to keep it responsive.
//   kube  (tests/mesh/go/kube):  kube-apiserver, kubectl and etcd at Kubernetes KUBE_VERSION
//   istio (tests/mesh/go/istio): pilot-discovery, `istioctl validate` and the agent's Wasm
//                                fetcher at each Istio release of ISTIO_RELEASES
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));
export const CACHE = process.env.METAPROTOCOL_CACHE ?? join(REPO, ".cache");
export const KUBE_VERSION = "v1.35.4";
/** Istio releases the mesh suite runs against; go/istio/istio-<release>.mod pins each one. */
const ALL_RELEASES = ["1.29", "1.30"] as const;
export type IstioRelease = (typeof ALL_RELEASES)[number];
/** MESH_ISTIO=1.29 narrows a run to one release (for development; CI runs all). */
export const ISTIO_RELEASES: readonly IstioRelease[] = process.env.MESH_ISTIO
  ? ALL_RELEASES.filter((r) => process.env.MESH_ISTIO!.split(",").includes(r)) : ALL_RELEASES;

function goBuild(dir: string, out: string, args: string[]): void {
  mkdirSync(join(out, ".."), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const t0 = Date.now();
  process.stderr.write(`mesh: building ${out} (cold build, several minutes)\n`);
  const r = spawnSync("nice", ["-n", "10", "go", "build", "-trimpath", ...args, "-o", tmp, "."], {
    cwd: dir, stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ""} -buildvcs=false${process.env.MESH_BUILD_JOBS ? ` -p=${process.env.MESH_BUILD_JOBS}` : ""}`.trim(), CGO_ENABLED: "0" },
  });
  if (r.status !== 0) throw new Error(`go build in ${dir} failed (exit ${r.status})`);
  renameSync(tmp, out);
  process.stderr.write(`mesh: built ${out} in ${Math.round((Date.now() - t0) / 1000)} s\n`);
}

/** The multi-call binary with kube-apiserver, kubectl and etcd; `kubectl` and friends are symlinks. */
export function kubeBin(): { apiserver: string; kubectl: string; etcd: string } {
  const dir = join(CACHE, `kube-${KUBE_VERSION}`);
  const bin = join(dir, "kube");
  if (!existsSync(bin)) {
    const minor = KUBE_VERSION.split(".")[1];
    goBuild(join(REPO, "tests/mesh/go/kube"), bin, ["-ldflags",
      `-s -w -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}`]);
  }
  const tools = { apiserver: join(dir, "kube-apiserver"), kubectl: join(dir, "kubectl"), etcd: join(dir, "etcd") };
  for (const p of Object.values(tools)) if (!existsSync(p)) symlinkSync("kube", p);
  return tools;
}

/** The per-release Istio binary: `istio pilot-discovery|validate|wasm-pull ...`. */
export function istioBin(release: IstioRelease): string {
  const bin = join(CACHE, `istio-${release}`, "istio");
  if (!existsSync(bin)) goBuild(join(REPO, "tests/mesh/go/istio"), bin, [`-modfile=istio-${release}.mod`, "-ldflags", "-s -w"]);
  return bin;
}

/** The istio.io/istio module directory of a release (CRDs are read from its manifests/). */
export function istioModuleDir(release: IstioRelease): string {
  const r = spawnSync("go", ["list", `-modfile=istio-${release}.mod`, "-m", "-f", "{{.Dir}}", "istio.io/istio"],
    { cwd: join(REPO, "tests/mesh/go/istio"), encoding: "utf8" });
  const dir = r.stdout.trim();
  if (r.status !== 0 || !dir) {
    const dl = spawnSync("go", ["mod", "download", `-modfile=istio-${release}.mod`, "istio.io/istio"], { cwd: join(REPO, "tests/mesh/go/istio"), stdio: "inherit" });
    if (dl.status !== 0) throw new Error(`cannot download istio.io/istio for ${release}: ${r.stderr}`);
    return istioModuleDir(release);
  }
  return dir;
}

/** What the machine must provide (Debian packages and root), named up front instead of failing mid-suite. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (ip netns, iptables)");
  for (const [cmd, pkg] of [["go", "Go"], ["openssl", "openssl"], ["iptables-restore", "iptables"], ["docker-registry", "docker-registry"], ["setpriv", "util-linux"]]) {
    if (spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0) missing.push(`${cmd} (${pkg})`);
  }
  return missing;
}

// `npm run build:mesh`: builds every binary the mesh suites need (CI can run it early, in the background).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const missing = missingPrerequisites();
  if (missing.length) {
    process.stderr.write(`mesh: missing ${missing.join(", ")}; on Debian: apt-get install -y iptables docker-registry\n`);
    process.exit(1);
  }
  const t0 = Date.now();
  kubeBin();
  for (const r of ISTIO_RELEASES) istioBin(r);
  process.stderr.write(`mesh: binaries ready in ${Math.round((Date.now() - t0) / 1000)} s\n`);
}
