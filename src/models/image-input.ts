/**
 * Edits a decoded ONNX graph so that its image input takes any height and width: convolutional
 * networks run at any size, but exports record the training size in the input, the outputs and every
 * intermediate shape, and onnxruntime refuses other sizes while those are there.
 */
import onnxProto from 'onnx-proto';
import { FindthisError } from '../core/errors.js';

const { onnx } = onnxProto;

/**
 * Makes the NCHW image input's height and width symbolic and forgets the recorded output and
 * intermediate shapes. Old IR versions also list initializers as inputs; those stay. Throws
 * MODEL_INVALID when there is no single 4-dimensional image input. Returns the image input.
 */
export function freeImageSize(graph: onnxProto.onnx.IGraphProto, label: string): onnxProto.onnx.IValueInfoProto {
  const initializers = new Set((graph.initializer ?? []).map((initializer) => initializer.name));
  const images = (graph.input ?? []).filter((candidate) => !initializers.has(candidate.name));
  const dims = images[0]?.type?.tensorType?.shape?.dim;
  if (images.length !== 1 || !dims || dims.length !== 4) throw new FindthisError('MODEL_INVALID', `${label} does not take one NCHW image input`);
  dims[2] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'height' });
  dims[3] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'width' });
  for (const output of graph.output ?? []) if (output.type?.tensorType) output.type.tensorType.shape = null;
  graph.valueInfo = [];
  return images[0]!;
}
