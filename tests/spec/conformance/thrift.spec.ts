// Registers the Thrift codec (every transport x protocol variant) with the conformance suite.
import { conformance } from "./suite";
import { thriftVariants } from "./thrift.frames";

conformance("thrift", thriftVariants());
