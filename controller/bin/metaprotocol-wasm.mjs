#!/usr/bin/env node
// Launcher for `npx metaprotocol-wasm`: runs the TypeScript sources through tsx (a
// devDependency, present after `npm ci`), so a checkout never runs a stale bundle; without
// tsx (a production install) it runs the esbuild bundle from `npm run build:controller`.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
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
const r = spawnSync(process.execPath, cmd, { stdio: "inherit" });
process.exit(r.status ?? 1);
