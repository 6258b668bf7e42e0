// as-pect runs the AssemblyScript specs (codec, router, config) in Node, without a proxy host.
export default {
  entries: ["tests/spec/**/*.spec.ts"],
  include: ["tests/spec/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
