/**
 * The WebAssembly kernels are committed both as text (src/imaging/kernels/*.wat, the source) and as
 * compiled bytes (*.wasm, what runs: no compiler at run time). `npm run build:kernels` recompiles them
 * with wabt; test/resize-kernel.test.ts checks that the committed bytes are what the text compiles to.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

export const KERNELS = ['resize'] as const;

export function kernelPath(name: (typeof KERNELS)[number], extension: 'wat' | 'wasm'): string {
  return fileURLToPath(new URL(`../../src/imaging/kernels/${name}.${extension}`, import.meta.url));
}

/** The kernel's text compiled to WebAssembly bytes (with the SIMD proposal, standard since 2021). */
export async function compileKernel(name: (typeof KERNELS)[number]): Promise<Uint8Array> {
  const compiler = await wabt();
  const module = compiler.parseWat(`${name}.wat`, readFileSync(kernelPath(name, 'wat'), 'utf8'), { simd: true });
  try {
    return Uint8Array.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of KERNELS) {
    const bytes = await compileKernel(name);
    writeFileSync(kernelPath(name, 'wasm'), bytes);
    console.log(`${kernelPath(name, 'wasm')}: ${bytes.length} bytes`);
  }
}
