// A second entry file for measurement builds only (envoy-dev/inprocess/heap.ts): exports the
// exact heap bytes in use, so a test can read the live heap right after a collection. The
// modules Envoy loads do not include it.
export { heapInUse } from "./gc";
