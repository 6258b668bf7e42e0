// envoy.yaml for the gRPC callout tests: the grpc-probe module in front of tcp_proxy to an echo
// upstream, and the clusters it calls. A gRPC cluster must speak HTTP/2 to its endpoints, which
// Envoy is told per cluster with HttpProtocolOptions.explicit_http_config.http2_protocol_options
// (in Istio: a port named grpc-* or appProtocol grpc).
export interface GrpcYaml {
  config: string;
  echoPort: number;
  /** HTTP/2 clusters: name -> port on 127.0.0.1. */
  grpc?: Record<string, number>;
  /** Clusters without HTTP/2 options (Envoy's default, HTTP/1.1). */
  plain?: Record<string, number>;
  failurePolicy?: string;
}

export function grpcYaml(o: GrpcYaml): string {
  const endpoint = (name: string, port: number) => `
    load_assignment:
      cluster_name: ${JSON.stringify(name)}
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } }`;
  const h2 = Object.entries(o.grpc ?? {}).map(([name, port]) => `
  - name: ${JSON.stringify(name)}
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {}${endpoint(name, port)}`).join("");
  const plain = Object.entries({ echo: o.echoPort, ...(o.plain ?? {}) }).map(([name, port]) => `
  - name: ${JSON.stringify(name)}
    type: STATIC
    connect_timeout: 1s${endpoint(name, port)}`).join("");
  return `admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
  - name: probe
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: grpc-probe
            root_id: grpc-probe-root
            vm_config:
              vm_id: grpc-probe-vm
              runtime: envoy.wasm.runtime.v8
              code: { local: { filename: /etc/envoy/wasm/grpc-probe.wasm } }
            failure_policy: ${o.failurePolicy ?? "FAIL_CLOSED"}
            configuration:
              "@type": type.googleapis.com/google.protobuf.StringValue
              value: ${JSON.stringify(o.config)}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: probe_tcp
          cluster: echo
          upstream_connect_mode: ON_DOWNSTREAM_DATA
          max_early_data_bytes: 65536
  clusters:${plain}${h2}
`;
}
