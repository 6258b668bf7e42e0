// Root marker only: each Istio release has its own module file, picked with -modfile
// (go build -modfile=istio-1.30.mod .); tests/mesh/tools.ts does this.
module metaprotocol-wasm/tests/mesh/go/istio

go 1.25.0
