// Shared by the controller tests: load a fixture case and compare against golden files,
// which are rewritten only when UPDATE_GOLDEN=1 (never silently).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadObjects } from "../../controller/src/render.js";
import { translate, type Translation } from "../../controller/src/translate/index.js";
import { key, type KubeObject, type Settings } from "../../controller/src/model/types.js";

export const FIXTURES = new URL("../fixtures/controller/", import.meta.url).pathname;

export function cases(): string[] {
  return readdirSync(FIXTURES).filter((d) => existsSync(join(FIXTURES, d, "input.yaml"))).sort();
}

export function yamlDocs(text: string): any[] {
  return parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
}

/** Translates a case; previous.yaml holds the last good MetaRouters, applied.yaml the cluster's objects. */
export function translateCase(name: string, opts: { reverse?: boolean; settings?: Partial<Settings> } = {}): Translation {
  const dir = join(FIXTURES, name);
  const loaded = loadObjects([{ name: "input.yaml", text: readFileSync(join(dir, "input.yaml"), "utf8") }]);
  const observed = loaded.observed;
  const settings = { ...loaded.settings, ...opts.settings };
  if (opts.reverse) for (const list of Object.values(observed)) list.reverse();
  const prev = new Map<string, KubeObject>();
  if (existsSync(join(dir, "previous.yaml"))) for (const o of yamlDocs(readFileSync(join(dir, "previous.yaml"), "utf8"))) prev.set(key(o), o);
  const applied = existsSync(join(dir, "applied.yaml")) ? yamlDocs(readFileSync(join(dir, "applied.yaml"), "utf8")) : [];
  return translate(observed, settings, prev, applied);
}

export function golden(file: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === "1") { writeFileSync(file, actual); return; }
  assert.ok(existsSync(file), `${file} is missing; run with UPDATE_GOLDEN=1 to create it, then review it`);
  assert.equal(actual, readFileSync(file, "utf8"), `${file} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)`);
}
