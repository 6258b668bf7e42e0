// Registers the Dubbo codec with the shared conformance suite.
import { conformance } from "./suite";
import { dubboVariants } from "./dubbo.frames";

conformance("dubbo", dubboVariants());
