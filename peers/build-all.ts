// npm run build:peers: builds every peer the peers suite uses into .cache/ (each only when its
// sources changed), so CI can build them up front, beside other work; the tests build what is
// still missing themselves.
import { javaPeersDir } from "./java-dubbo/driver.ts";
import { goThriftPeer, javaThriftClasspath, pyThriftPython } from "./thrift-peers.ts";

const steps: [string, () => Promise<unknown>][] = [
  ["java dubbo peers", javaPeersDir], ["java thrift peer", javaThriftClasspath], ["go thrift peer", goThriftPeer], ["python thrift peer", pyThriftPython],
];
for (const [what, build] of steps) {
  const t0 = Date.now();
  await build();
  console.error(`build:peers: ${what} ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
