// envoy.yaml for the telemetry and global rate limit suites: one Dubbo or Thrift listener with
// the protocol module in front of tcp_proxy (ON_DOWNSTREAM_DATA, as the controller configures
// it), its upstream, and the gRPC clusters the module calls (HTTP/2, as Envoy's gRPC client
// needs; in Istio a `grpc-` port name). Two of these chained make the consumer-side (outbound)
// and provider-side (inbound) sidecars of one call.
import { startProxy, type Proxy, type ProxyKind } from "../../envoy-dev/proxy/index.ts";
import { ROOT, tmpYaml } from "../host/helpers.ts";
import { join } from "node:path";

export const WASM_BUILD = join(ROOT, "build");

export interface SidecarYaml {
  protocol: "dubbo" | "thrift";
  pluginConfig: object;
  /** tcp_proxy's cluster: the next hop (a provider, or the inbound sidecar). */
  upstream: { name: string; port: number };
  /** HTTP/2 clusters: name -> port on 127.0.0.1 (rate limit service, collector). */
  grpc?: Record<string, number>;
  /** Clusters without HTTP/2 options (Envoy's default). */
  plain?: Record<string, number>;
  /** stats_config.stats_tags: tag name -> regex (Envoy's tag extraction). */
  statsTags?: Record<string, string>;
  /** Listener name (default `<protocol>`). */
  listener?: string;
}

export function sidecarYaml(o: SidecarYaml): string {
  const cluster = (name: string, port: number, h2: boolean) => `
  - name: ${JSON.stringify(name)}
    type: STATIC
    connect_timeout: 1s${h2 ? `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {}` : ""}
    load_assignment:
      cluster_name: ${JSON.stringify(name)}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`;
  const clusters = [
    cluster(o.upstream.name, o.upstream.port, false),
    ...Object.entries(o.plain ?? {}).map(([n, p]) => cluster(n, p, false)),
    ...Object.entries(o.grpc ?? {}).map(([n, p]) => cluster(n, p, true)),
  ].join("");
  const tags = Object.entries(o.statsTags ?? {});
  const statsConfig = tags.length ? `stats_config:
  stats_tags:${tags.map(([name, regex]) => `
  - tag_name: ${JSON.stringify(name)}
    regex: ${JSON.stringify(regex)}`).join("")}
` : "";
  const listener = o.listener ?? o.protocol;
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
stats_flush_interval: 1s
${statsConfig}static_resources:
  listeners:
  - name: ${listener}
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: metaprotocol-${o.protocol}
            root_id: metaprotocol-${o.protocol}
            vm_config:
              vm_id: metaprotocol-${o.protocol}
              runtime: envoy.wasm.runtime.v8
              code: { local: { filename: /etc/envoy/wasm/${o.protocol}.wasm } }
            failure_policy: FAIL_CLOSED
            configuration:
              "@type": type.googleapis.com/google.protobuf.StringValue
              value: ${JSON.stringify(JSON.stringify(o.pluginConfig))}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: ${listener}_tcp
          cluster: ${JSON.stringify(o.upstream.name)}
          upstream_connect_mode: ON_DOWNSTREAM_DATA
          max_early_data_bytes: 65536
  clusters:${clusters}
`;
}

/** A sidecar running build/<protocol>.wasm; `port` is its listener. */
export interface Sidecar { proxy: Proxy; port: number; close(): Promise<void> }

export async function startSidecar(kind: ProxyKind, o: SidecarYaml & { concurrency?: number }): Promise<Sidecar> {
  const proxy = await startProxy(kind, { configPath: tmpYaml(sidecarYaml(o)), wasmDir: WASM_BUILD, concurrency: o.concurrency });
  return { proxy, port: proxy.listeners[o.listener ?? o.protocol].port, close: () => proxy.close() };
}

/** Waits until a counter (a /stats/prometheus series) reaches at least `n`. */
export async function counterAtLeast(p: Proxy, series: string, n: number, timeoutMs = 5000): Promise<number> {
  return p.waitForStat(series, (v) => v >= n, timeoutMs);
}
