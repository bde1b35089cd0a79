// Builds small ONNX models in tests with the protobuf schema, so each failure mode is a real model.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element type numbers used in tests. */
export const T = { float: 1, int64: 7, bool: 9, double: 11 } as const;

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: onnxProto.onnx.IAttributeProto[];
}

export interface ValueSpec {
  name: string;
  elemType?: number;
  dims?: (number | string)[];
  /** The whole type, for a value that is not a tensor (a sequence, a map); elemType and dims are then unused. */
  type?: onnxProto.onnx.ITypeProto;
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  const tensor: onnxProto.onnx.ITypeProto = {
    tensorType: {
      elemType: v.elemType ?? T.float,
      shape: v.dims
        ? { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
        : null,
    },
  };
  return { name: v.name, type: v.type ?? tensor };
}

export function floatTensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dataType: T.float, dims, floatData: values };
}

export function graph(spec: {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: onnxProto.onnx.ITensorProto[];
  name?: string;
}): onnxProto.onnx.IGraphProto {
  return {
    name: spec.name ?? 'g',
    node: spec.nodes.map((n, i) => ({
      name: n.name ?? `${n.op.toLowerCase()}_${i}`,
      opType: n.op,
      domain: n.domain ?? '',
      input: n.inputs,
      output: n.outputs,
      attribute: n.attributes ?? [],
    })),
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: spec.initializers ?? [],
  };
}

export function buildModel(
  spec: Parameters<typeof graph>[0] & { opset?: number; extraOpsets?: { domain: string; version: number }[] },
): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'prodprobe-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }, ...(spec.extraOpsets ?? [])],
    graph: graph(spec),
  }).finish();
}

/** A float32 feed in the plain-data form. */
export function f32(dims: number[], values: number[]) {
  return { type: 'float32' as const, dims, data: Float32Array.from(values) };
}
