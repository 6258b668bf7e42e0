// Registers the awesomerpc codec with the shared conformance suite.
import { conformance } from "./suite";
import { awesomerpcVariants } from "./awesomerpc.frames";

conformance("awesomerpc", awesomerpcVariants());
