/** The bytes of a typed array as a Buffer over the same memory (no copy): for writing it out, or filling it. */
export function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
