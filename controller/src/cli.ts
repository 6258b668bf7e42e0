// Entry point: `metaprotocol-wasm render -f <files>` (offline) and `metaprotocol-wasm run` (controller).
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { DEFAULT_SETTINGS, type Settings } from "./model/types.js";
import { moduleFlag, parseSettings } from "./model/settings.js";
import { renderFiles, whyNothing } from "./render.js";
import { moduleCheckFrom } from "./translate/module-check.js";
import { existsSync } from "node:fs";

const USAGE = `usage:
  metaprotocol-wasm render -f <file|dir|-> [-f ...] [-R] [-n <namespace>] [--settings <file>]
                           [--module <protocol>=<url>[@sha256:<hex>]] [--strict] [--wasm-dir <dir>]
      Print the objects the controller would apply (YAML, for kubectl diff -f -); conditions,
      warnings and what the API server would say about the inputs go to stderr.
      -f           a file, a folder's .yaml/.yml/.json files, or - for standard input (as kubectl)
      -R           with -f <dir>, read its subfolders too (kubectl's --recursive)
      -n           the namespace of inputs that name none (default "default"); inputs naming
                   another namespace are an error, as with kubectl apply -n
      --strict     exit 2 when any MetaRouter is not Accepted/ResolvedRefs, any warning is raised, or
                   an input has unknown fields, invalid values or a duplicate (for CI)
      Exit status: 0 objects printed, 1 bad usage or inputs or nothing to generate, 2 --strict findings.
  metaprotocol-wasm run [--settings <file>] [--namespace <ns>] [--port 8080] [--kubeconfig <file>] [--wasm-dir <dir>]
      Run the controller against the cluster (in-cluster config when --kubeconfig is absent).
  --wasm-dir: where <protocol>.wasm modules are (default $METAPROTOCOL_WASM_DIR, else the build/
      folder of this checkout): every pluginConfig is parsed by its module before it is applied.
  -h, --help: this text.`;

/** The modules' folder: --wasm-dir, $METAPROTOCOL_WASM_DIR, or build/ of the checkout. */
async function moduleCheck(dir: string | undefined) {
  const found = dir ?? process.env.METAPROTOCOL_WASM_DIR ??
    ["../../build", "../build"].map((d) => new URL(d, import.meta.url).pathname).find((d) => existsSync(d));
  if (!found) {
    console.error("metaprotocol-wasm: no module folder (--wasm-dir): pluginConfigs are not checked by the modules");
    return undefined;
  }
  return moduleCheckFrom(found);
}

function reportMissing(m: { missing: Set<string> } | undefined) {
  if (m?.missing.size) console.error(`metaprotocol-wasm: not checked by a module (no <wasm-dir>/<protocol>.wasm): ${[...m.missing].join(", ")}`);
}

function settingsFrom(values: { settings?: string; module?: string[] }): Settings {
  let s = values.settings ? parseSettings(readFileSync(values.settings, "utf8")) : { ...DEFAULT_SETTINGS };
  for (const m of values.module ?? []) s = moduleFlag(s, m);
  return s;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h" || rest.includes("--help") || rest.includes("-h")) {
    (cmd === undefined ? console.error : console.log)(USAGE);
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === "render") {
    let values;
    try {
      ({ values } = parseArgs({ args: rest, options: {
        file: { type: "string", short: "f", multiple: true }, recursive: { type: "boolean", short: "R" },
        namespace: { type: "string", short: "n" }, settings: { type: "string" },
        module: { type: "string", multiple: true }, strict: { type: "boolean" }, "wasm-dir": { type: "string" },
      } }));
    } catch (e) {
      console.error(`metaprotocol-wasm render: ${(e as Error).message}\n${USAGE}`);
      return 1;
    }
    if (!values.file?.length) { console.error(`metaprotocol-wasm render: -f is required\n${USAGE}`); return 1; }
    const mc = await moduleCheck(values["wasm-dir"]);
    const out = renderFiles(values.file, { recursive: values.recursive, namespace: values.namespace, base: settingsFrom(values), check: mc?.check });
    const { loaded, translation: t } = out;
    if (loaded.errors.length) { for (const e of loaded.errors) console.error(`error: ${e}`); return 1; }
    reportMissing(mc);
    for (const i of loaded.ignored) console.error(`ignored (the controller does not read this kind): ${i}`);
    for (const f of loaded.findings) console.error(`Warning ${f}`);
    process.stdout.write(out.yaml);
    if (out.report) process.stderr.write(out.report + "\n");
    if (!t.objects.length) {
      console.error(`metaprotocol-wasm render: nothing generated: ${whyNothing(loaded, t)}`);
      return 1;
    }
    const bad = loaded.findings.length > 0 || t.events.some((e) => e.type === "Warning") || t.statuses.some((s) => s.conditions.some((c) => c.status === "False"));
    return values.strict && bad ? 2 : 0;
  }
  if (cmd === "run") {
    const { values } = parseArgs({ args: rest, options: {
      settings: { type: "string" }, module: { type: "string", multiple: true }, namespace: { type: "string" },
      port: { type: "string" }, kubeconfig: { type: "string" }, identity: { type: "string" }, "wasm-dir": { type: "string" },
    } });
    const { runController } = await import("./controller.js");
    const mc = await moduleCheck(values["wasm-dir"]);
    await runController({
      settings: settingsFrom(values),
      moduleCheck: mc?.check,
      namespace: values.namespace ?? process.env.POD_NAMESPACE ?? "metaprotocol-wasm",
      port: Number(values.port ?? 8080),
      kubeconfig: values.kubeconfig,
      identity: values.identity ?? process.env.POD_NAME ?? `metaprotocol-wasm-${process.pid}`,
    });
    return 0;
  }
  console.error(`metaprotocol-wasm: unknown command "${cmd}"\n${USAGE}`);
  return 1;
}

main(process.argv.slice(2)).then((code) => { if (code !== 0 || process.argv[2] === "render") process.exitCode = code; },
  (e) => { console.error(`metaprotocol-wasm: ${(e as Error).message}`); process.exitCode = 1; });
