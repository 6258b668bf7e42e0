// Builds the Go load generator (envoy-dev/bench/dubboload, standard library only) into
// .cache/dubboload-<hash of its sources>/, once; later runs reuse it.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SRC = join(REPO, "envoy-dev/bench/dubboload");

export function dubboloadBinary(): string {
  const hash = createHash("sha256").update(readFileSync(join(SRC, "main.go"))).update(readFileSync(join(SRC, "go.mod"))).digest("hex").slice(0, 12);
  const dir = join(REPO, ".cache", `dubboload-${hash}`);
  const bin = join(dir, "dubboload");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("go", ["build", "-o", bin, "."], { cwd: SRC, encoding: "utf8", env: { ...process.env, CGO_ENABLED: "0" } });
  if (r.error || r.status !== 0) throw new Error(`go build envoy-dev/bench/dubboload failed (Go 1.22+ needed): ${r.error?.message ?? ""}${r.stdout}${r.stderr}`);
  return bin;
}
