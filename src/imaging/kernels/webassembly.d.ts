// The part of the WebAssembly JS API the resize kernel uses. TypeScript declares it only in its DOM
// library and @types/node 20 not at all; adding the DOM library would bring browser globals in too.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
