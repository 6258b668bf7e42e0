// The whole chain on Istio 1.30 with TrafficExtension, which supersedes WasmPlugin (see support/mesh-suite.ts).
import { meshSuite } from "./support/mesh-suite.ts";

meshSuite("1.30");
