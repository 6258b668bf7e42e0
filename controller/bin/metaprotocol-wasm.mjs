#!/usr/bin/env node
// Launcher for `npx metaprotocol-wasm`: runs the TypeScript sources through tsx (a
// devDependency, present after `npm ci`), so a checkout never runs a stale bundle; without
// tsx (a production install) it runs the esbuild bundle from `npm run build:controller`.
import { existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const args = process.argv.slice(2);
let tsx;
try { tsx = import.meta.resolve("tsx"); } catch { tsx = undefined; }
const source = join(root, "controller", "src", "cli.ts");
const bundle = join(root, "dist", "metaprotocol-wasm.js");
const cmd = tsx && existsSync(source) ? ["--import", tsx, source, ...args] : [bundle, ...args];
if (cmd[0] === bundle && !existsSync(bundle)) {
  console.error("metaprotocol-wasm: neither tsx nor dist/metaprotocol-wasm.js found; run `npm ci` or `npm run build:controller`");
  process.exit(1);
}
// A child, not spawnSync: the launcher must pass SIGTERM/SIGINT on (a controller that outlived
// its launcher would keep holding the leader Lease), and exit with the child's status.
const child = spawn(process.execPath, cmd, { stdio: "inherit" });
for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : 1)));
