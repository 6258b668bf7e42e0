// as-pect runs the AssemblyScript specs (codec, router, config) in Node, without a proxy host.
// SPEC_FILES (comma-separated globs, set by scripts/test-spec.mjs) narrows the run.
export default {
  entries: process.env.SPEC_FILES ? process.env.SPEC_FILES.split(",") : ["tests/spec/**/*.spec.ts"],
  include: ["tests/spec/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
