// Checks Envoy makes in C++ when it builds a filter from its config, beyond what the protos
// say. Only rules for the messages this project writes; each cites where Envoy enforces it.
type Report = (path: string, msg: string) => void;
type Rule = (value: Record<string, unknown>, path: string, report: Report) => void;

const get = (o: Record<string, unknown>, name: string, json: string) => o[name] ?? o[json];

const RULES: Record<string, Rule> = {
  // source/common/tcp_proxy/tcp_proxy.cc, Config::Config: "max_early_data_bytes must be set when
  // upstream_connect_mode is not IMMEDIATE" (EnvoyException; envoyproxy/envoy PR #42505).
  "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy": (v, path, report) => {
    const mode = get(v, "upstream_connect_mode", "upstreamConnectMode");
    const immediate = mode === undefined || mode === null || mode === "IMMEDIATE" || mode === 0;
    const early = get(v, "max_early_data_bytes", "maxEarlyDataBytes");
    if (!immediate && (early === undefined || early === null)) {
      report(path ? `${path}.max_early_data_bytes` : "max_early_data_bytes",
        `required when upstream_connect_mode is ${String(mode)} (Envoy refuses the tcp_proxy otherwise)`);
    }
  },
};

export function checkRuntimeRules(typeName: string, value: Record<string, unknown>, path: string, report: Report): void {
  RULES[typeName]?.(value, path, report);
}
