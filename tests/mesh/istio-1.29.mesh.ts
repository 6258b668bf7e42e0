// The whole chain on Istio 1.29 with WasmPlugin (see support/mesh-suite.ts).
import { meshSuite } from "./support/mesh-suite.ts";

import { ISTIO_RELEASES } from "./support/tools.ts";

if (ISTIO_RELEASES.includes("1.29")) meshSuite("1.29");
