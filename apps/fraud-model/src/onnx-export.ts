import onnxProto from 'onnx-proto';
import type { LogisticModel } from './logistic.js';

const { onnx } = onnxProto;

/** Names of the graph's input and output, which the server and the tests feed and read. */
export const INPUT_NAME = 'features';
export const OUTPUT_NAME = 'fraud_probability';

function floatTensor(name: string, dims: number[], values: Float32Array) {
  // raw_data, little-endian float32: byte-for-byte stable across runs.
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw });
}

function valueInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/**
 * Exports the logistic regression as an ONNX model: features[N, D] → MatMul → Add → Sigmoid →
 * fraud_probability[N, 1]. Encoding has no timestamps, so equal weights give equal bytes.
 */
export function exportOnnx(
  model: LogisticModel,
  featureNames: readonly string[],
  modelVersion: string,
): Uint8Array {
  const d = model.weights.length;
  const graph = onnx.GraphProto.create({
    name: 'fraud_logistic_regression',
    node: [
      onnx.NodeProto.create({
        name: 'linear',
        opType: 'MatMul',
        input: [INPUT_NAME, 'weights'],
        output: ['logit_no_bias'],
      }),
      onnx.NodeProto.create({
        name: 'bias',
        opType: 'Add',
        input: ['logit_no_bias', 'bias_value'],
        output: ['logit'],
      }),
      onnx.NodeProto.create({ name: 'sigmoid', opType: 'Sigmoid', input: ['logit'], output: [OUTPUT_NAME] }),
    ],
    initializer: [
      floatTensor('weights', [d, 1], model.weights),
      floatTensor('bias_value', [1], Float32Array.of(model.bias)),
    ],
    input: [valueInfo(INPUT_NAME, ['batch', d])],
    output: [valueInfo(OUTPUT_NAME, ['batch', 1])],
    docString: `features: ${featureNames.join(', ')}`,
  });
  const modelProto = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 15 }],
    producerName: 'prodprobe-fraud-model',
    producerVersion: '1',
    modelVersion: 1,
    docString: `prodprobe demo fraud model ${modelVersion}`,
    graph,
  });
  return onnx.ModelProto.encode(modelProto).finish();
}
