module metaprotocol-wasm/bench/dubboload

go 1.22
