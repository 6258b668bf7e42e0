// Certificates for a loopback cluster, made with openssl: a CA, the API server's serving cert
// (127.0.0.1, localhost, the kubernetes Service names), an admin client cert (group
// system:masters) and the service-account signing key pair.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pki { dir: string; ca: string; caKey: string; serverCert: string; serverKey: string; adminCert: string; adminKey: string; saKey: string; saPub: string }

const ssl = (dir: string, args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });

function issue(dir: string, name: string, subject: string, ext: string): void {
  ssl(dir, ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  ssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
    "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
}

export function makePki(dir: string, extraIps: string[] = []): Pki {
  ssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-subj", "/CN=metaprotocol-mesh-test-ca",
    "-days", "2", "-sha256", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.crt"]);
  const sans = ["DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
    "IP:127.0.0.1", ...extraIps.map((ip) => `IP:${ip}`)].join(",");
  issue(dir, "apiserver", "/CN=kube-apiserver", `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\n`);
  issue(dir, "admin", "/O=system:masters/CN=mesh-test-admin", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
  ssl(dir, ["genrsa", "-out", "sa.key", "2048"]);
  ssl(dir, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
  const p = (f: string) => join(dir, f);
  return { dir, ca: p("ca.crt"), caKey: p("ca.key"), serverCert: p("apiserver.crt"), serverKey: p("apiserver.key"),
    adminCert: p("admin.crt"), adminKey: p("admin.key"), saKey: p("sa.key"), saPub: p("sa.pub") };
}
