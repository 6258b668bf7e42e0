// build/dubbo.wasm: the MetaProtocol framework with the Dubbo codec.
export * from "../../abi/exports";
import { setCodecFactory } from "../../meta/plugin";
import { Codec } from "../../meta/codec";
import { DubboCodec } from "./codec";
setCodecFactory((): Codec => new DubboCodec());
