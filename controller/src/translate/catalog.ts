// The service catalog: every Service / ServiceEntry port that speaks a metaprotocol, with
// what identifies it on a connection (addresses, Dubbo interface) and who may see it.
import { ANNOTATION_INTERFACE, type KubeObject, type Settings } from "../model/types.js";
import { normalizeExportTo } from "./visibility.js";

export interface ServicePort {
  host: string;
  namespace: string;
  source: KubeObject;
  exportTo: string[];
  port: number;
  portName: string;
  protocol: string;
  /** Service targetPort / ServiceEntry targetPort; a name cannot be resolved without pods. */
  targetPort: number | string;
  addresses: string[];
  interfaces: string[];
  /** Workloads behind the service (inbound plugin selector); none for external entries. */
  selector?: Record<string, string>;
}

export interface PortProblem { object: KubeObject; field: string; message: string }

const PREFIX = "tcp-metaprotocol";
/** Also enforced at admission by manifests/policy (kept equal by a test). */
export const PORT_NAME = /^tcp-metaprotocol-([a-z0-9]+)(-[a-z0-9][a-z0-9-]*)?$/;

/** The protocol a port name selects; null for ordinary ports; an error text for bad names. */
export function protocolOfPortName(name: string | undefined): { protocol: string } | { error: string } | null {
  if (!name || !name.startsWith(PREFIX)) return null;
  const m = PORT_NAME.exec(name);
  if (!m) {
    return { error: `port name "${name}" must be ${PREFIX}-<protocol>[-<suffix>] with lower-case letters and digits` };
  }
  return { protocol: m[1] };
}

/** Aeraki's annotation for the Dubbo interface of a ServiceEntry (read for Dubbo ports only, as Aeraki does). */
export const AERAKI_ANNOTATION_INTERFACE = "interface";

function interfacesOf(o: KubeObject, protocol: string): string[] {
  const a = o.metadata.annotations;
  const raw = a?.[ANNOTATION_INTERFACE] ?? (protocol === "dubbo" ? a?.[AERAKI_ANNOTATION_INTERFACE] : undefined);
  if (!raw) return [];
  return [...new Set(raw.split(",").map((s) => s.trim()).filter(Boolean))].sort();
}

/** Plain IPs only: the module compares destination.address, CIDRs cannot match it. */
function plainAddresses(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out = new Set<string>();
  for (const a of list) {
    if (typeof a !== "string" || a === "None" || a === "") continue;
    const [ip, bits] = a.split("/");
    if (bits === undefined || bits === "32" || bits === "128") out.add(ip);
  }
  return [...out].sort();
}

export function buildCatalog(services: KubeObject[], entries: KubeObject[], settings: Settings) {
  const ports: ServicePort[] = [];
  const problems: PortProblem[] = [];
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? "default";
    const host = `${svc.metadata.name}.${ns}.svc.${settings.clusterDomain}`;
    const exportTo = normalizeExportTo(
      svc.metadata.annotations?.["networking.istio.io/exportTo"]?.split(",").map((s) => s.trim()), ns);
    const addresses = plainAddresses(svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []));
    (svc.spec?.ports ?? []).forEach((p: any, i: number) => {
      const sel = protocolOfPortName(p?.name);
      if (!sel) return;
      if ("error" in sel) { problems.push({ object: svc, field: `spec.ports[${i}].name`, message: sel.error }); return; }
      ports.push({
        host, namespace: ns, source: svc, exportTo, port: p.port, portName: p.name, protocol: sel.protocol,
        targetPort: p.targetPort ?? p.port, addresses, interfaces: interfacesOf(svc, sel.protocol),
        selector: svc.spec?.selector && Object.keys(svc.spec.selector).length ? svc.spec.selector : undefined,
      });
    });
  }
  for (const se of entries) {
    const ns = se.metadata.namespace ?? "default";
    const exportTo = normalizeExportTo(se.spec?.exportTo, ns);
    const addresses = plainAddresses(se.spec?.addresses);
    const selector = se.spec?.workloadSelector?.labels;
    for (const host of (se.spec?.hosts ?? []) as string[]) {
      (se.spec?.ports ?? []).forEach((p: any, i: number) => {
        const sel = protocolOfPortName(p?.name);
        if (!sel) return;
        if ("error" in sel) {
          if (host === se.spec.hosts[0]) problems.push({ object: se, field: `spec.ports[${i}].name`, message: sel.error });
          return;
        }
        ports.push({
          host, namespace: ns, source: se, exportTo, port: p.number, portName: p.name, protocol: sel.protocol,
          targetPort: p.targetPort ?? p.number, addresses, interfaces: interfacesOf(se, sel.protocol),
          selector: selector && Object.keys(selector).length ? selector : undefined,
        });
      });
    }
  }
  ports.sort((a, b) => a.port - b.port || cmp(a.host, b.host) || cmp(a.namespace, b.namespace));
  return { ports, problems };
}

export function cmp(a: string, b: string): number { return a < b ? -1 : a > b ? 1 : 0; }
