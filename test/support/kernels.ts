/**
 * The WebAssembly kernels are committed both as text (src/<folder>/kernels/*.wat, the source) and as
 * compiled bytes (*.wasm, what runs: no compiler at run time). `npm run build:kernels` recompiles them
 * with wabt; test/resize-kernel.test.ts and test/vector-kernel.test.ts check that the committed bytes
 * are what the text compiles to.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** Each kernel and the src/ folder whose `kernels/` holds it. */
export const KERNELS = { resize: 'imaging', vectors: 'indexing', pool: 'embedding', whitening: 'embedding' } as const;
type KernelName = keyof typeof KERNELS;

export function kernelPath(name: KernelName, extension: 'wat' | 'wasm'): string {
  return fileURLToPath(new URL(`../../src/${KERNELS[name]}/kernels/${name}.${extension}`, import.meta.url));
}

/** The kernel's text compiled to WebAssembly bytes (with the SIMD proposal, standard since 2021). */
export async function compileKernel(name: KernelName): Promise<Uint8Array> {
  const compiler = await wabt();
  const module = compiler.parseWat(`${name}.wat`, readFileSync(kernelPath(name, 'wat'), 'utf8'), { simd: true });
  try {
    return Uint8Array.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    const bytes = await compileKernel(name);
    writeFileSync(kernelPath(name, 'wasm'), bytes);
    console.log(`${kernelPath(name, 'wasm')}: ${bytes.length} bytes`);
  }
}
