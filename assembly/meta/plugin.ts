// The one call a protocol module's entry file makes: hand the framework its codec.
import { RootContext, setRootFactory } from "../abi/context";
import { Codec } from "./codec";
import { MetaRoot } from "./root";

let codecFactory: (() => Codec) | null = null;

function newRoot(id: u32): RootContext {
  return new MetaRoot(id, codecFactory!());
}

export function setCodecFactory(f: () => Codec): void {
  codecFactory = f;
  setRootFactory(newRoot);
}
