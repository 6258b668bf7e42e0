// Entry file of build/awesomerpc.wasm: the MetaProtocol framework plus the awesomerpc codec.
export * from "../../abi/exports";
import { setCodecFactory } from "../../meta/plugin";
import { Codec } from "../../meta/codec";
import { AwesomerpcCodec } from "./codec";
setCodecFactory((): Codec => new AwesomerpcCodec());
