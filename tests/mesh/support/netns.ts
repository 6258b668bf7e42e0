// Pods as network namespaces: a bridge in the root namespace (the "node", 10.213.0.1), one
// namespace per pod with its own IP on that bridge, and istio-init's iptables rules inside a pod
// that has a sidecar. The pods' only routes are the pod network and the Service range (on-link),
// and the root namespace does not forward: nothing sent here leaves these namespaces.
import { execFileSync } from "node:child_process";

export const NODE_IP = "10.213.0.1";
export const POD_CIDR = "10.213.0.0/24";
export const SERVICE_CIDR = "10.213.128.0/24";
/** Istio's proxy user: the sidecar runs as it, and its own traffic is not captured. */
export const PROXY_UID = 1337;

const run = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { input, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"], encoding: "utf8" });

function runIn(pod: Pod, argv: string[], input?: string): string {
  const full = inPod(pod, argv);
  return run(full[0], full.slice(1), input);
}

export interface Pod { name: string; ns: string; ip: string; hostVeth: string }

/** `ip netns exec <ns> ...` as argv, optionally as another user. */
export function inPod(pod: Pod, argv: string[], uid?: number): string[] {
  const user = uid === undefined ? [] : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--inh-caps=-all"];
  return ["ip", "netns", "exec", pod.ns, ...user, ...argv];
}

export class PodNetwork {
  readonly pods: Pod[] = [];
  private constructor(readonly id: string, readonly bridge: string) {}

  static create(): PodNetwork {
    if (process.getuid?.() !== 0) throw new Error("the mesh tests need root (ip netns, iptables)");
    const id = String(process.pid % 100000);
    const net = new PodNetwork(id, `mwbr${id}`);
    // A leftover bridge from a crashed run with the same pid would make `add` fail: remove it first.
    try { run("ip", ["link", "del", net.bridge]); } catch { /* none */ }
    // The pod network's addresses are fixed: two runs at once on one machine would collide.
    const holder = run("ip", ["-o", "-4", "addr", "show", "to", `${NODE_IP}/32`]).trim();
    if (holder) throw new Error(`${NODE_IP} is already on ${holder.split(/\s+/)[1]}: another mesh run is active (or crashed: ip link del it)`);
    run("ip", ["link", "add", net.bridge, "type", "bridge"]);
    run("ip", ["addr", "add", `${NODE_IP}/24`, "dev", net.bridge]);
    run("ip", ["link", "set", net.bridge, "up"]);
    process.on("exit", () => net.destroy()); // also when a suite dies before its `after`
    return net;
  }

  addPod(name: string, ip: string): Pod {
    const ns = `mw${this.id}-${name}`;
    const hostVeth = `mw${this.id}p${this.pods.length}`;
    try { run("ip", ["netns", "del", ns]); } catch { /* none */ }
    run("ip", ["netns", "add", ns]);
    run("ip", ["link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    run("ip", ["link", "set", hostVeth, "master", this.bridge, "up"]);
    const pod: Pod = { name, ns, ip, hostVeth };
    runIn(pod, ["ip", "addr", "add", `${ip}/24`, "dev", "eth0"]);
    runIn(pod, ["ip", "link", "set", "eth0", "up"]);
    runIn(pod, ["ip", "link", "set", "lo", "up"]);
    // ClusterIPs are on-link: with the sidecar's REDIRECT they never leave the pod; without it
    // they would only be ARPed for on this bridge, where nobody answers.
    runIn(pod, ["ip", "route", "add", SERVICE_CIDR, "dev", "eth0"]);
    this.pods.push(pod);
    return pod;
  }

  /**
   * istio-init's rules (REDIRECT mode): inbound TCP to 15006 except the proxy's own ports,
   * outbound TCP to 15001 except the proxy user's own connections and loopback.
   */
  captureTraffic(pod: Pod, opts: { inbound: boolean; excludeInboundPorts?: number[] }): void {
    const exclude = [15000, 15001, 15006, 15008, 15020, 15021, 15090, ...(opts.excludeInboundPorts ?? [])];
    const rules = [
      "*nat",
      ":ISTIO_INBOUND - [0:0]", ":ISTIO_IN_REDIRECT - [0:0]", ":ISTIO_OUTPUT - [0:0]", ":ISTIO_REDIRECT - [0:0]",
      ...(opts.inbound ? ["-A PREROUTING -p tcp -j ISTIO_INBOUND"] : []),
      "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
      ...exclude.map((p) => `-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`),
      "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
      "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
      "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
      "-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN",
      `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner ${PROXY_UID} -j ISTIO_IN_REDIRECT`,
      `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${PROXY_UID} -j RETURN`,
      `-A ISTIO_OUTPUT -m owner --uid-owner ${PROXY_UID} -j RETURN`,
      "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
      "-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
      "COMMIT", "",
    ].join("\n");
    runIn(pod, ["iptables-restore"], rules);
  }

  /** The nat table of a pod, as iptables-save prints it (for failure messages). */
  natRules(pod: Pod): string {
    return runIn(pod, ["iptables-save", "-t", "nat"]);
  }

  destroy(): void {
    for (const p of this.pods.splice(0)) try { run("ip", ["netns", "del", p.ns]); } catch { /* gone */ }
    try { run("ip", ["link", "del", this.bridge]); } catch { /* gone */ }
  }
}
