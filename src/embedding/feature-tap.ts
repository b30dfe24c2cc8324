/**
 * Exposes a classification network's feature maps: edits the ONNX protobuf in memory so that the
 * feature tensor (and any mid-level tensors asked for) are the graph's only outputs (the classifier
 * after them is pruned away), and lets the input take any height and width (the networks are fully
 * convolutional).
 */
import onnxProto from 'onnx-proto';
import { FindthisError } from '../core/errors.js';
import { freeImageSize } from '../models/image-input.js';

const { onnx } = onnxProto;

/** How to read the tapped tensor: uint8 with (q − zeroPoint) × scale, or plain float32. */
export type FeatureQuantization = { scale: number; zeroPoint: number } | null;

/** One tapped tensor: its name and how to read it. */
export interface TappedTensor {
  tensor: string;
  quantization: FeatureQuantization;
}

export interface FeatureTap extends TappedTensor {
  /** The edited model, ready for onnxruntime: its outputs are the feature tensor, then `midLevel` in order. */
  model: Uint8Array;
  /** Mid-level tensors tapped beside the feature tensor. */
  midLevel: TappedTensor[];
}

const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'QLinearGlobalAveragePool']);

/** The default feature tensor: the input of the last (QLinear)GlobalAveragePool node. */
export function findPooledTensor(graph: onnxProto.onnx.IGraphProto): string | undefined {
  const pools = (graph.node ?? []).filter((node) => GLOBAL_POOLS.has(node.opType ?? ''));
  return pools.at(-1)?.input?.[0] ?? undefined;
}

function scalarInitializer(graph: onnxProto.onnx.IGraphProto, name: string): number | undefined {
  const tensor = graph.initializer?.find((initializer) => initializer.name === name);
  if (!tensor) return undefined;
  if (tensor.floatData?.length) return tensor.floatData[0];
  if (tensor.int32Data?.length) return tensor.int32Data[0];
  const raw = tensor.rawData;
  if (raw?.length) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
    switch (tensor.dataType) {
      case onnx.TensorProto.DataType.FLOAT:
        return view.getFloat32(0, true);
      case onnx.TensorProto.DataType.UINT8:
        return view.getUint8(0);
      case onnx.TensorProto.DataType.INT8:
        return view.getInt8(0);
    }
  }
  return undefined;
}

/**
 * The quantization of `tensor`, if it is quantized: from the QLinear node that consumes it (inputs 1
 * and 2 are its scale and zero point), else from initializers named `<base>_scale` /
 * `<base>_zero_point` (base = the name without `_quantized`).
 */
export function featureQuantization(graph: onnxProto.onnx.IGraphProto, tensor: string): FeatureQuantization {
  const consumer = (graph.node ?? []).find((node) => node.opType?.startsWith('QLinear') && node.input?.[0] === tensor);
  const base = tensor.replace(/_quantized$/, '');
  const [scaleName, zeroPointName] = consumer?.input
    ? [consumer.input[1] ?? '', consumer.input[2] ?? '']
    : [`${base}_scale`, `${base}_zero_point`];
  const scale = scalarInitializer(graph, scaleName);
  const zeroPoint = scalarInitializer(graph, zeroPointName);
  if (scale === undefined || zeroPoint === undefined) {
    if (consumer) throw new FindthisError('MODEL_INVALID', `Feature tensor ${tensor} is quantized but its scale/zero point are not constants`);
    return null;
  }
  return { scale, zeroPoint };
}

/** Keeps only the nodes (and initializers) the `tensors` depend on. */
function pruneTo(graph: onnxProto.onnx.IGraphProto, tensors: readonly string[]): void {
  const needed = new Set(tensors);
  const kept: onnxProto.onnx.INodeProto[] = [];
  for (const node of [...(graph.node ?? [])].reverse()) {
    if (!node.output?.some((output) => needed.has(output))) continue;
    kept.push(node);
    for (const input of node.input ?? []) if (input) needed.add(input);
  }
  graph.node = kept.reverse();
  graph.initializer = (graph.initializer ?? []).filter((initializer) => needed.has(initializer.name ?? ''));
}

/**
 * Taps `tensorName` ('' = the input of the last global pool) of the ONNX model in `bytes`, and the
 * `midLevel` tensors beside it. Throws MODEL_INVALID when a tensor cannot be found.
 */
export function tapFeatures(bytes: Uint8Array, tensorName: string, label: string, midLevel: readonly string[] = []): FeatureTap {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new FindthisError('MODEL_INVALID', `${label} is not an ONNX model: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const graph = model.graph;
  if (!graph?.input?.length) throw new FindthisError('MODEL_INVALID', `${label} has no graph input`);
  const tensor = tensorName || findPooledTensor(graph);
  if (!tensor) {
    throw new FindthisError('MODEL_INVALID', `${label} has no GlobalAveragePool node: name the feature tensor (encoder.featureTensor or the manifest)`);
  }
  const tapped = [tensor, ...midLevel].map((name) => {
    if (!graph.node?.some((node) => node.output?.includes(name))) {
      throw new FindthisError('MODEL_INVALID', `${label} has no tensor named ${JSON.stringify(name)} to use as a feature map`);
    }
    return { tensor: name, quantization: featureQuantization(graph, name) };
  });

  // Before pruning, while initializers listed as inputs (old IR versions) are still told apart from the image.
  const input = freeImageSize(graph, label);
  pruneTo(graph, tapped.map(({ tensor: name }) => name));
  graph.output = tapped.map(({ tensor: name, quantization }) => {
    const elemType = quantization ? onnx.TensorProto.DataType.UINT8 : onnx.TensorProto.DataType.FLOAT;
    return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType } } });
  });
  // Inputs that name initializers: keep those still needed, drop the rest.
  const initializers = new Set((graph.initializer ?? []).map((initializer) => initializer.name));
  graph.input = graph.input.filter((candidate) => candidate === input || initializers.has(candidate.name));

  const [main, ...rest] = tapped as [TappedTensor, ...TappedTensor[]];
  return { model: onnx.ModelProto.encode(model).finish(), ...main, midLevel: rest };
}
