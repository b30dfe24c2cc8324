import { readFileSync } from 'node:fs';
import { FindthisError } from './errors.js';

const PAGE = 65_536;
/** WebAssembly (32-bit) memory ends at 4 GiB. */
const MAX_BYTES = 65_536 * PAGE;

/**
 * Grows a kernel's `memory` to at least `bytes` (growing detaches earlier views: take them after).
 * WebAssembly memory never shrinks: it stays at the largest size asked for on its thread. `what`
 * names the contents in the INTERNAL error past 4 GiB.
 */
export function reserveKernelBytes(memory: WebAssembly.Memory, bytes: number, what: string): void {
  if (bytes > MAX_BYTES) throw new FindthisError('INTERNAL', `${what} do not fit the 4 GiB of WebAssembly memory`);
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / PAGE));
}

/** A new instance of the compiled kernel at `url` (a committed `.wasm` beside its `.wat`), its exports typed as `T`. */
export function instantiateKernel<T>(url: URL): T {
  return new WebAssembly.Instance(new WebAssembly.Module(readFileSync(url))).exports as unknown as T;
}
