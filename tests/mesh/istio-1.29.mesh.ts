// The whole chain on Istio 1.29 with WasmPlugin (see support/mesh-suite.ts).
import { meshSuite } from "./support/mesh-suite.ts";

meshSuite("1.29");
