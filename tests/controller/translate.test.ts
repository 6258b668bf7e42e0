// Golden tests of the pure translation: every fixture case under tests/fixtures/controller.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { cases, FIXTURES, golden, translateCase } from "./fixtures.js";
import { renderReport, renderYaml } from "../../controller/src/render.js";

for (const name of cases()) {
  test(`translate ${name} matches golden output`, () => {
    const t = translateCase(name);
    golden(join(FIXTURES, name, "expected.yaml"), renderYaml(t));
    golden(join(FIXTURES, name, "expected-report.txt"), renderReport(t) + "\n");
  });
  test(`translate ${name} is deterministic under input reordering`, () => {
    const a = renderYaml(translateCase(name));
    const b = renderYaml(translateCase(name, { reverse: true }));
    assert.equal(a, b);
  });
}
