/**
 * The encoder identity a catalog's vectors were made with (both backends store it and refuse to open
 * under another), and how it is compared and shown.
 */

/**
 * What produced the stored vectors: the encoder's meta (model, sha256, dim, input sizes, pooling, GeM
 * p...). Every field is stored and compared, so a field the encoder adds later is covered too; a
 * catalog refuses to open under an encoder that differs in any of them.
 */
export interface EncoderIdentity {
  readonly model: string;
  readonly dim: number;
  /** Of `dim`, the mid-level maps' values (at the end); absent when the encoder pools the last layer only. */
  readonly midLevelDim?: number;
}

/** A plain copy with the fields in a fixed order (model and dim first), for storing and comparing. */
export function identityOf(encoder: EncoderIdentity): EncoderIdentity {
  const { model, dim, ...rest } = encoder as EncoderIdentity & Record<string, unknown>;
  const fields = Object.entries(rest).filter(([, value]) => typeof value === 'string' || typeof value === 'number');
  return { model, dim, ...Object.fromEntries(fields.sort(([a], [b]) => a.localeCompare(b))) };
}

/** `mobilenetv2_int8 (dim 1280, gemP 3, inputSize 224, pooling gem, sha256 cc028fe6cae7)` */
export function describeEncoder(encoder: EncoderIdentity): string {
  const fields = Object.entries(identityOf(encoder))
    .filter(([key]) => key !== 'model')
    .map(([key, value]) => `${key} ${key === 'sha256' ? String(value).slice(0, 12) : String(value)}`);
  return `${encoder.model} (${fields.join(', ')})`;
}
