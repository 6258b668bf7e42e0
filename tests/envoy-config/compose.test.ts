// docker-compose.yaml cannot run here (no Docker), so everything checkable without an engine is
// checked: references resolve, ports and hostnames agree with envoy.yaml, healthchecks work.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import http from "node:http";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";

const DEV = new URL("../../envoy-dev/", import.meta.url).pathname;
const compose = parse(readFileSync(join(DEV, "docker-compose.yaml"), "utf8"), { merge: true });
const envoyYaml = parse(readFileSync(join(DEV, "envoy.yaml"), "utf8"));
const services: Record<string, any> = compose.services;
const apps = Object.entries(services).filter(([, s]) => s.build);

test("envoy runs a pinned official image >= v1.37 with the modules and envoy.yaml mounted", () => {
  const envoy = services.envoy;
  const m = /^envoyproxy\/envoy:v1\.(\d+)\.(\d+)$/.exec(envoy.image);
  assert.ok(m && Number(m[1]) >= 37, `pinned tag >= v1.37, got ${envoy.image}`);
  const mounts = envoy.volumes.map((v: string) => v.split(":"));
  assert.deepEqual(mounts.find((x: string[]) => x[1] === "/etc/envoy/envoy.yaml"), ["./envoy.yaml", "/etc/envoy/envoy.yaml", "ro"]);
  assert.deepEqual(mounts.find((x: string[]) => x[1] === "/etc/envoy/wasm"), ["../build", "/etc/envoy/wasm", "ro"]);
  for (const [src] of mounts) assert.ok(existsSync(resolve(DEV, src)) || src === "../build", `${src} exists (build/ is made by npm run build)`);
  // Every module envoy.yaml loads is one the build produces (asconfig target outFile).
  const outFiles = Object.values(JSON.parse(readFileSync(join(DEV, "..", "asconfig.json"), "utf8")).targets).map((t: any) => t.outFile);
  for (const l of envoyYaml.static_resources.listeners) {
    const file = l.filter_chains[0].filters[0].typed_config.config.vm_config.code.local.filename as string;
    assert.ok(outFiles.includes(file.replace("/etc/envoy/wasm/", "build/")), `${file} is built`);
  }
});

test("published ports are the admin and listener ports of envoy.yaml", () => {
  const published = services.envoy.ports.map((p: string) => p.split(":").slice(-2).map(Number));
  const wanted = [envoyYaml.admin.address.socket_address.port_value,
    ...envoyYaml.static_resources.listeners.map((l: any) => l.address.socket_address.port_value)];
  for (const port of wanted) assert.ok(published.some(([h, c]: number[]) => h === port && c === port), `port ${port} published`);
});

test("every cluster endpoint in envoy.yaml is a compose service listening on that port", () => {
  for (const c of envoyYaml.static_resources.clusters) {
    for (const ep of c.load_assignment.endpoints.flatMap((e: any) => e.lb_endpoints)) {
      const { address, port_value } = ep.endpoint.address.socket_address;
      const svc = services[address];
      assert.ok(svc, `${c.name}: ${address} is a compose service`);
      assert.equal(Number(svc.environment.PORT), port_value, `${address} listens on ${port_value}`);
      assert.ok(services.envoy.depends_on[address], `envoy waits for ${address}`);
    }
  }
});

test("app services build from the repo's Dockerfile and run scripts that exist", () => {
  for (const [name, s] of apps) {
    const context = resolve(DEV, s.build.context);
    assert.ok(existsSync(join(context, s.build.dockerfile)), `${name}: Dockerfile exists`);
    assert.ok(existsSync(join(context, "package-lock.json")), "npm ci needs the lock file");
    const script = s.command.find((a: string) => a.endsWith(".ts"));
    assert.ok(existsSync(join(context, script)), `${name}: ${script} exists`);
  }
  const versions = ["dubbo-provider", "thrift-server"].flatMap((p) => ["v1", "v2"].map((v) => services[`${p}-${v}`]?.environment.VERSION));
  assert.deepEqual(versions, ["v1", "v2", "v1", "v2"]);
  for (const c of ["dubbo-consumer", "thrift-client"]) {
    assert.deepEqual(services[c].profiles, ["client"], `${c} runs only on demand`);
    assert.match(services[c].environment.TARGET, /^envoy:\d+$/);
  }
});

// The image copies only envoy-dev/: an app importing a file outside it would fail in Docker.
test("apps import only files the image copies", () => {
  const dockerfile = readFileSync(join(DEV, "Dockerfile.apps"), "utf8");
  assert.match(dockerfile, /^COPY envoy-dev\/ \.\/envoy-dev\/$/m);
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    assert.ok(file.startsWith(DEV), `${file} is inside envoy-dev/`);
    for (const m of readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)[^"']*["'](\.{1,2}\/[^"']+)["']/gm)) visit(resolve(dirname(file), m[1]));
  };
  for (const [, s] of apps) visit(resolve(DEV, "..", s.command.find((a: string) => a.endsWith(".ts"))));
  assert.ok(seen.size > 0);
});

// The healthcheck commands, run for real against stand-ins.
test("the app healthcheck passes on a listening port and fails on a closed one", async () => {
  const cmd: string[] = services["dubbo-provider-v1"].healthcheck.test.slice(1);
  const server = net.createServer().listen(0, "0.0.0.0");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as net.AddressInfo).port;
  const run = (p: number) => spawnSync(cmd[0] === "node" ? process.execPath : cmd[0], cmd.slice(1), { env: { ...process.env, PORT: String(p) } }).status;
  assert.equal(run(port), 0);
  server.close();
  await new Promise((r) => server.once("close", r));
  assert.equal(run(port), 1);
});

test("the envoy healthcheck reads LIVE from admin /ready", async () => {
  let body = "LIVE\n";
  const admin = http.createServer((req, res) => res.end(req.url === "/ready" ? body : "")).listen(0, "127.0.0.1");
  await new Promise((r) => admin.once("listening", r));
  const port = (admin.address() as net.AddressInfo).port;
  const script = services.envoy.healthcheck.test[3].replace("/9901", `/${port}`);
  const run = () => new Promise<number | null>((r) => {
    const c = spawn("bash", ["-c", script]);
    c.on("exit", r);
  });
  assert.equal(await run(), 0);
  body = "PRE_INITIALIZING\n";
  assert.equal(await run(), 1);
  admin.close();
});
