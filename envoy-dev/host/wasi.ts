// The WASI subset Envoy registers. stdout/stderr writes become log lines (info / error);
// there is no file system, no arguments and no environment.
import { randomFillSync } from "node:crypto";
import { VmAbort, type WasmVm } from "./vm.ts";

const ESUCCESS = 0, EBADF = 8, EINVAL = 28, ENOSYS = 52;

export function wasiImports(vm: WasmVm): Record<string, (...a: any[]) => unknown> {
  const zeroPair = (a: number, b: number) => (vm.writeU32(a, 0) && vm.writeU32(b, 0) ? ESUCCESS : EINVAL);
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
      if (fd !== 1 && fd !== 2) return EBADF;
      const parts: Uint8Array[] = [];
      for (let i = 0; i < iovsLen; i++) {
        const base = vm.read(iovs + i * 8, 8);
        if (!base) return EINVAL;
        const dv = new DataView(base.buffer);
        const chunk = vm.read(dv.getUint32(0, true), dv.getUint32(4, true));
        if (!chunk) return EINVAL;
        parts.push(chunk);
      }
      const bytes = Buffer.concat(parts);
      const text = bytes.toString("utf8").replace(/\n$/, "");
      if (text.length) vm.logVm(fd === 1 ? 2 : 4, text);
      return vm.writeU32(nwritten, bytes.length) ? ESUCCESS : EINVAL;
    },
    fd_read: () => ENOSYS,
    fd_seek: () => ENOSYS,
    fd_close: () => ENOSYS,
    fd_fdstat_get(fd: number, stat: number): number {
      if (fd > 2) return EBADF;
      const b = vm.read(stat, 24);
      if (!b) return EINVAL;
      vm.mem().fill(0, stat, stat + 24);
      vm.mem()[stat] = 2; // character device
      return ESUCCESS;
    },
    fd_prestat_get: () => EBADF,
    fd_prestat_dir_name: () => ENOSYS,
    environ_get: () => ESUCCESS,
    environ_sizes_get: zeroPair,
    args_get: () => ESUCCESS,
    args_sizes_get: zeroPair,
    proc_exit(code: number): never {
      throw new VmAbort(`proc_exit(${code}) called by the module`);
    },
    clock_time_get(id: number, _precision: bigint, out: number): number {
      const ns = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
      return vm.writeU64(out, ns) ? ESUCCESS : EINVAL;
    },
    random_get(buf: number, len: number): number {
      if (!vm.inRange(buf >>> 0, len >>> 0)) return EINVAL;
      randomFillSync(vm.mem(), buf >>> 0, len >>> 0);
      return ESUCCESS;
    },
    sched_yield: () => ESUCCESS,
    poll_oneoff: () => ENOSYS,
  };
}
