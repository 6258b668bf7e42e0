// A real Kubernetes control plane on loopback: etcd and kube-apiserver built from Kubernetes'
// Go modules (tools.ts), TLS with generated certificates, RBAC on, service accounts signing
// tokens. No kubelet, scheduler or controller-manager: what they would write (Pod status,
// EndpointSlices) the tests write themselves, through the API, as those components do.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makePki, type Pki } from "./pki.ts";
import { freePort, start, until, type Proc } from "./proc.ts";
import { kubeBin } from "./tools.ts";

export interface KubectlResult { stdout: string; stderr: string; code: number }

export interface Cluster {
  dir: string;
  pki: Pki;
  url: string;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  kubectlBin: string;
  apiserver: Proc;
  etcd: Proc;
  /** Runs kubectl as admin (or with another kubeconfig); never throws, look at `code`. */
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<KubectlResult>;
  /** kubectl that throws with stderr on a non-zero exit; returns stdout. */
  k(args: string[], input?: string): Promise<string>;
  /** Parsed `kubectl get -o json`. */
  getJson(args: string[]): Promise<any>;
  /** A kubeconfig for a ServiceAccount, with a token from the TokenRequest API. */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /** Stops kube-apiserver (etcd keeps the data) and starts it again on the same port. */
  restartApiserver(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Service ClusterIP range (default 10.213.128.0/24, only ever used inside the tests' namespaces). */
  serviceCidr?: string;
  /** Extra IPs for the API server certificate (addresses of test network namespaces). */
  extraIps?: string[];
}

function writeKubeconfig(file: string, url: string, ca: string, user: Record<string, string>): void {
  const userLines = Object.entries(user).map(([k, v]) => `    ${k}: ${v}`).join("\n");
  writeFileSync(file, `apiVersion: v1
kind: Config
clusters:
- name: mesh
  cluster:
    server: ${url}
    certificate-authority: ${ca}
users:
- name: user
  user:
${userLines}
contexts:
- name: mesh
  context: { cluster: mesh, user: user }
current-context: mesh
`);
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const tools = kubeBin();
  const dir = mkdtempSync(join(tmpdir(), "metaprotocol-mesh-kube-"));
  const pki = makePki(dir, opts.extraIps);
  const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(dir, "etcd"));
  const etcd = start("etcd", tools.etcd, [
    "--name", "mesh", "--data-dir", join(dir, "etcd"), "--unsafe-no-fsync",
    "--listen-client-urls", `http://127.0.0.1:${clientPort}`, "--advertise-client-urls", `http://127.0.0.1:${clientPort}`,
    "--listen-peer-urls", `http://127.0.0.1:${peerPort}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
    "--initial-cluster", `mesh=http://127.0.0.1:${peerPort}`, "--log-level", "warn",
  ], join(dir, "etcd.log"));
  await until("etcd /health", async () => (await fetch(`http://127.0.0.1:${clientPort}/health`)).ok, 30_000, 200, etcd);

  const url = `https://127.0.0.1:${securePort}`;
  const kubeconfig = join(dir, "admin.kubeconfig");
  writeKubeconfig(kubeconfig, url, pki.ca, { "client-certificate": pki.adminCert, "client-key": pki.adminKey });
  const apiserverArgs = [
    "--etcd-servers", `http://127.0.0.1:${clientPort}`,
    "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", String(securePort),
    "--tls-cert-file", pki.serverCert, "--tls-private-key-file", pki.serverKey, "--client-ca-file", pki.ca,
    "--cert-dir", join(dir, "certs"),
    "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
    "--service-account-key-file", pki.saPub, "--service-account-signing-key-file", pki.saKey,
    "--service-cluster-ip-range", opts.serviceCidr ?? "10.213.128.0/24",
    "--authorization-mode", "RBAC",
    // No controller-manager here: ServiceAccount admission would wait for the token controller.
    "--disable-admission-plugins", "ServiceAccount",
    "--endpoint-reconciler-type", "none",
    "--profiling=false", "-v", "1",
  ];
  const kubectl = (args: string[], o: { input?: string; kubeconfig?: string } = {}) => new Promise<KubectlResult>((resolve) => {
    const child = execFile(tools.kubectl, ["--kubeconfig", o.kubeconfig ?? kubeconfig, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? ((err as any).code ?? 1) : 0 });
    });
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
  const k = async (args: string[], input?: string) => {
    const r = await kubectl(args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  };
  let apiserver!: Proc;
  const startApiserver = async () => {
    apiserver = start("kube-apiserver", tools.apiserver, apiserverArgs, join(dir, "apiserver.log"));
    await until("kube-apiserver /readyz", async () => (await kubectl(["get", "--raw", "/readyz"])).stdout.trim() === "ok", 90_000, 500, apiserver);
  };
  await startApiserver();
  const cluster: Cluster = {
    dir, pki, url, kubeconfig, kubectlBin: tools.kubectl, get apiserver() { return apiserver; }, etcd, kubectl, k,
    getJson: async (args) => JSON.parse(await k([...args, "-o", "json"])),
    async serviceAccountKubeconfig(namespace, name) {
      const token = (await k(["create", "token", name, "-n", namespace, "--duration", "2h"])).trim();
      const file = join(dir, `${namespace}.${name}.kubeconfig`);
      writeKubeconfig(file, url, pki.ca, { token });
      return file;
    },
    async restartApiserver(downMs = 2000) {
      await apiserver.stop();
      await new Promise((r) => setTimeout(r, downMs));
      await startApiserver();
    },
    async stop() {
      await apiserver.stop();
      await etcd.stop();
    },
  };
  return cluster;
}
