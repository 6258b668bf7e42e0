#!/usr/bin/env node
// The committed test vectors (tests/spec/vectors) are exactly what the real serializers write:
// hessian.js (npm) and, built from Maven Central by peers/java-dubbo, hessian-lite and fastjson2.
// `--write` regenerates them instead (npm run vectors). Needs a JDK and Maven (.ci/run has both).
import { spawnSync } from "node:child_process";

const write = process.argv.includes("--write");
const run = (args) => spawnSync(process.execPath, args, { stdio: "inherit", cwd: new URL("..", import.meta.url).pathname }).status;
let failed = 0;
failed += run(["scripts/gen-hessian-vectors.mjs", ...(write ? [] : ["--check"])]) ? 1 : 0;
failed += run(["--import", "tsx", "peers/java-dubbo/vectors.ts", ...(write ? [] : ["--check"])]) ? 1 : 0;
process.exit(failed ? 1 : 0);
