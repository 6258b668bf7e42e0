// Entry file of build/thrift.wasm: the MetaProtocol framework plus the Thrift codec.
export * from "../../abi/exports";
import { setCodecFactory } from "../../meta/plugin";
import { Codec } from "../../meta/codec";
import { ThriftCodec } from "./codec";
setCodecFactory((): Codec => new ThriftCodec());
