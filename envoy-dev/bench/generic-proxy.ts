// Envoy's generic_proxy network filter with its Dubbo codec (C++, compiled into the release
// binary): the native design Aeraki's MetaProtocol Proxy descends from, used by the benchmark as
// the anchor for what per-request routing costs in C++. Its router pools upstream connections
// and gives each one request at a time; with bind_upstream_connection: true (one upstream per
// downstream) Envoy 1.40 segfaults when pipelined connections close (seen in this benchmark), so
// the pooled default is what is measured.
import { SERVICE } from "./frames.ts";

/** Envoy's generic_proxy with the Dubbo codec: the same method route, decided per request in C++. */
export function genericProxy(cluster: string): object {
  return {
    name: "envoy.filters.network.generic_proxy",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.generic_proxy.v3.GenericProxy",
      stat_prefix: "dubbo_generic",
      codec_config: { name: "dubbo", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.generic_proxy.codecs.dubbo.v3.DubboCodecConfig" } },
      filters: [{ name: "envoy.filters.generic.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.generic_proxy.router.v3.Router" } }],
      route_config: {
        name: "dubbo",
        virtual_hosts: [{
          name: "demo", hosts: [SERVICE],
          routes: { matcher_list: { matchers: [{
            predicate: { single_predicate: {
              input: { name: "request", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.generic_proxy.matcher.v3.RequestMatchInput" } },
              custom_match: { name: "request", typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.generic_proxy.matcher.v3.RequestMatcher",
                host: { exact: SERVICE }, method: { exact: "sayHello" } } },
            } },
            on_match: { action: { name: "route", typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.generic_proxy.action.v3.RouteAction", cluster } } },
          }] } },
        }],
      },
    },
  };
}

