// Our controller as it ships: the esbuild bundle (what controller/Dockerfile puts in the image),
// run as the metaprotocol-wasm ServiceAccount (a token from the TokenRequest API, so the RBAC of
// manifests/ is what allows or denies its calls), one process per replica.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster } from "./cluster.ts";
import { freePort, start, type Proc } from "./proc.ts";
import { REPO } from "./tools.ts";

const BUNDLE = join(REPO, "dist", "metaprotocol-wasm.js");
let bundled = false;

/** Builds dist/metaprotocol-wasm.js once per test process (esbuild: about a second). */
export function controllerBundle(): string {
  if (!bundled) {
    const r = spawnSync("npm", ["run", "--silent", "build:controller"], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0 || !existsSync(BUNDLE) || statSync(BUNDLE).size === 0) throw new Error("npm run build:controller failed");
    bundled = true;
  }
  return BUNDLE;
}

export interface ControllerReplica {
  identity: string;
  port: number;
  proc: Proc;
  metric(name: string): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startController(cluster: Cluster, opts: { identity: string; settings: string; kubeconfig: string }): Promise<ControllerReplica> {
  const dir = mkdtempSync(join(tmpdir(), `metaprotocol-controller-${opts.identity}-`));
  const settings = join(dir, "settings.yaml");
  writeFileSync(settings, opts.settings);
  const port = await freePort();
  const proc = start(`controller ${opts.identity}`, process.execPath, [controllerBundle(), "run",
    "--kubeconfig", opts.kubeconfig, "--settings", settings, "--namespace", "metaprotocol-wasm",
    "--port", String(port), "--identity", opts.identity], join(dir, "controller.log"));
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return { identity: opts.identity, port, proc, metric, stop: (signal) => proc.stop(signal) };
}
