import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import {
  buildModel,
  f32,
  floatTensor,
  graph,
  type NodeSpec,
  T,
  type ValueSpec,
} from '../test/build-model.js';
import { parseOnnxInspection, serializeReport } from './codec.js';
import { compareRuns } from './compare.js';
import { LayersError } from './errors.js';
import { parseFeeds } from './feeds.js';
import { inspectOnnx } from './onnx.js';
import { analyseModel } from './onnx-graph.js';
import { encodeSegment, planSegments } from './segments.js';

const { onnx } = onnxProto;

const vec = (name: string, n = 3) => ({ name, dims: [n] });

async function expectLayersError(p: Promise<unknown>, code: string, message: RegExp) {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LayersError);
  expect((error as LayersError).code).toBe(code);
  expect((error as LayersError).message).toMatch(message);
}

describe('inspectOnnx: first non-finite node', () => {
  it('names the Log of a negative number, not the Relu after it', async () => {
    const model = buildModel({
      inputs: [vec('x')],
      outputs: [vec('y')],
      nodes: [
        { op: 'Abs', inputs: ['x'], outputs: ['a'], name: 'abs' },
        { op: 'Neg', inputs: ['a'], outputs: ['n'], name: 'neg' },
        { op: 'Log', inputs: ['n'], outputs: ['l'], name: 'log' },
        { op: 'Relu', inputs: ['l'], outputs: ['y'], name: 'relu' },
      ],
    });
    const report = await inspectOnnx(model, { x: f32([3], [1, 2, 3]) });
    expect(report.nodes.map((n) => n.name)).toEqual(['abs', 'neg', 'log', 'relu']);
    expect(report.firstNonFinite).toMatchObject({ node: 'log', opType: 'Log', output: 'l' });
    expect(report.firstNonFinite?.inputs).toEqual([
      expect.objectContaining({
        name: 'n',
        health: 'finite',
        stats: expect.objectContaining({ min: -3, max: -1 }),
      }),
    ]);
    expect(report.firstNonFinite?.outputs[0]).toMatchObject({ name: 'l', health: 'non-finite' });
    const neg = report.nodes[1]!.outputs[0]!;
    expect(neg).toMatchObject({ name: 'n', dtype: 'float32', shape: [3], graphOutput: false });
    expect(neg.stats).toMatchObject({ count: 3, min: -3, max: -1, mean: -2, nan: 0, zero: 0 });
    expect(neg.stats?.std).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(report.nodes[3]!.outputs[0]).toMatchObject({ graphOutput: true, stats: { nan: 3 } });
    expect(report.observerEffect).toMatchObject({ checked: true, equal: true });
  });

  it('names a Div by zero (+Inf and -Inf counted) and not the Sub that made the zeros', async () => {
    const model = buildModel({
      inputs: [vec('x', 4)],
      outputs: [vec('y', 4)],
      initializers: [floatTensor('num', [4], [1, -1, 2, 0])],
      nodes: [
        { op: 'Sub', inputs: ['x', 'x'], outputs: ['z'], name: 'sub' },
        { op: 'Div', inputs: ['num', 'z'], outputs: ['q'], name: 'div' },
        { op: 'Mul', inputs: ['q', 'x'], outputs: ['y'], name: 'mul' },
      ],
    });
    const report = await inspectOnnx(model, { x: f32([4], [1, 2, 3, 4]) });
    expect(report.nodes[0]!.outputs[0]!.stats).toMatchObject({ zero: 4, nan: 0 });
    expect(report.firstNonFinite).toMatchObject({ node: 'div', output: 'q' });
    expect(report.nodes[1]!.outputs[0]!.stats).toMatchObject({ posInf: 2, negInf: 1, nan: 1 });
    // The initializer is an input of the node: its health is read from the model.
    expect(report.firstNonFinite?.inputs.map((i) => [i.name, i.health])).toEqual([
      ['num', 'finite'],
      ['z', 'finite'],
    ]);
  });

  it('names a Sqrt of a negative number', async () => {
    const model = buildModel({
      inputs: [vec('x')],
      outputs: [vec('y')],
      nodes: [
        { op: 'Sub', inputs: ['x', 'x'], outputs: ['z'], name: 'zeros' },
        { op: 'Sub', inputs: ['z', 'x'], outputs: ['m'], name: 'minus' },
        { op: 'Sqrt', inputs: ['m'], outputs: ['y'], name: 'sqrt' },
      ],
    });
    const report = await inspectOnnx(model, { x: f32([3], [0.5, 4, 9]) });
    expect(report.firstNonFinite).toMatchObject({ node: 'sqrt', opType: 'Sqrt', output: 'y' });
  });

  it('names the Div after a Sub of two equal Constants (a zero std in scaling)', async () => {
    const constant = (name: string, value: number) => ({
      op: 'Constant',
      inputs: [],
      outputs: [name],
      name: `const_${name}`,
      attributes: [
        { name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: floatTensor('', [1], [value]) },
      ],
    });
    const model = buildModel({
      inputs: [vec('x')],
      outputs: [vec('scaled')],
      nodes: [
        constant('p90', 7),
        constant('p10', 7),
        { op: 'Sub', inputs: ['p90', 'p10'], outputs: ['range'], name: 'range' },
        { op: 'Sub', inputs: ['x', 'p10'], outputs: ['centered'], name: 'center' },
        { op: 'Div', inputs: ['centered', 'range'], outputs: ['scaled'], name: 'scale' },
      ],
    });
    const report = await inspectOnnx(model, { x: f32([3], [7, 8, 6]) });
    expect(report.firstNonFinite).toMatchObject({ node: 'scale', output: 'scaled' });
    expect(report.nodes.find((n) => n.name === 'range')!.outputs[0]!.stats).toMatchObject({ zero: 1 });
    expect(report.nodes.find((n) => n.name === 'scale')!.outputs[0]!.stats).toMatchObject({
      nan: 1,
      posInf: 1,
      negInf: 1,
    });
  });

  it('blames no node when the feed itself carries NaN, and finite models report null', async () => {
    const model = buildModel({
      inputs: [vec('x')],
      outputs: [vec('y')],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'relu' }],
    });
    const feeds = parseFeeds('{"x": {"dims": [3], "data": [1, "NaN", "-Infinity"], "type": "float32"}}');
    const bad = await inspectOnnx(model, feeds);
    expect(bad.feeds[0]!.stats).toMatchObject({ nan: 1, negInf: 1 });
    expect(bad.firstNonFinite).toBeNull();
    const good = await inspectOnnx(model, { x: f32([3], [1, -2, 3]) });
    expect(good.firstNonFinite).toBeNull();
    expect(good.nodes[0]!.outputs[0]!.stats).toMatchObject({ zero: 1, min: 0, max: 3 });
  });
});

describe('inspectOnnx: robustness', () => {
  it('a non-tensor graph output (a ZipMap, as sklearn classifiers export) is listed, not a failed run', async () => {
    // probs is a sequence of maps: onnxruntime-node cannot return it, and asking for it failed the
    // plain run ("Non tensor type is temporarily not supported").
    const mapType = { mapType: { keyType: T.int64, valueType: { tensorType: { elemType: T.float } } } };
    const probs = { name: 'probs', type: { sequenceType: { elemType: mapType } } };
    const zipMap = {
      op: 'ZipMap',
      domain: 'ai.onnx.ml',
      inputs: ['x'],
      outputs: ['probs'],
      name: 'zipmap',
      attributes: [
        { name: 'classlabels_int64s', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 1] },
      ],
    };
    const withOutputs = (outputs: ValueSpec[], nodes: NodeSpec[]) =>
      buildModel({
        inputs: [{ name: 'x', dims: [1, 2] }],
        outputs,
        nodes,
        extraOpsets: [{ domain: 'ai.onnx.ml', version: 1 }],
      });
    const model = withOutputs(
      [{ name: 'y', dims: [1, 2] }, probs],
      [{ op: 'Log', inputs: ['x'], outputs: ['y'], name: 'log' }, zipMap],
    );
    for (const splitGraph of [true, false]) {
      const report = await inspectOnnx(model, { x: f32([1, 2], [0.5, -1]) }, { splitGraph });
      expect(report.notInspected.map((n) => [n.node, n.output, n.reason])).toContainEqual([
        'zipmap',
        'probs',
        'non-tensor',
      ]);
      // The tensor output is still inspected, and the NaN it starts is found.
      expect(report.firstNonFinite).toMatchObject({ node: 'log' });
      expect(report.observerEffect).toMatchObject({ checked: true, equal: true, outputs: [{ name: 'y' }] });
    }
    // A model whose every output is a non-tensor cannot be run from Node: a clear error.
    await expect(inspectOnnx(withOutputs([probs], [zipMap]), { x: f32([1, 2], [0.5, 1]) })).rejects.toThrow(
      /every graph output is a non-tensor value .*probs/,
    );
  });

  it('reads external data (weights in a side file, as large models are saved) from the model file folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-external-'));
    try {
      // y = log(x + w): w = [1, 2] lives in weights.bin after 4 bytes of something else.
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(new Float32Array([9, 1, 2]).buffer));
      const withWeights = (location: string, length = '8') =>
        buildModel({
          inputs: [{ name: 'x', dims: [2] }],
          outputs: [{ name: 'y', dims: [2] }],
          initializers: [
            {
              name: 'w',
              dataType: T.float,
              dims: [2],
              dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
              externalData: [
                { key: 'location', value: location },
                { key: 'offset', value: '4' },
                { key: 'length', value: length },
              ],
            },
          ],
          nodes: [
            { op: 'Add', inputs: ['x', 'w'], outputs: ['s'], name: 'add' },
            { op: 'Log', inputs: ['s'], outputs: ['y'], name: 'log' },
          ],
        });
      const file = join(dir, 'model.onnx');
      const bytes = withWeights('weights.bin');
      writeFileSync(file, bytes);
      const feeds = { x: f32([2], [0.5, -3]) };
      for (const splitGraph of [true, false]) {
        const report = await inspectOnnx(file, feeds, { splitGraph });
        // -3 + 2 = -1: the Log makes the NaN, so w was read (with zeros, the Add would be -3 as well).
        expect(report.firstNonFinite).toMatchObject({ node: 'log' });
        expect(report.nodes.find((n) => n.name === 'add')!.outputs[0]!.stats).toMatchObject({
          min: -1,
          max: 1.5,
        });
        expect(report.model.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      }
      const fails = async (model: string | Uint8Array, message: RegExp) => {
        const error = await inspectOnnx(model, feeds).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LayersError);
        expect((error as LayersError).code).toBe('EXTERNAL_DATA');
        expect((error as LayersError).message).toMatch(message);
      };
      await fails(bytes, /external data files \(w, \.\.\.\): pass it as a file path/);
      writeFileSync(join(dir, 'escape.onnx'), withWeights('../weights.bin'));
      await fails(join(dir, 'escape.onnx'), /location "\.\.\/weights\.bin" is outside the model's folder/);
      writeFileSync(join(dir, 'missing.onnx'), withWeights('nope.bin'));
      await fails(join(dir, 'missing.onnx'), /cannot read its external data file .*nope\.bin/);
      writeFileSync(join(dir, 'short.onnx'), withWeights('weights.bin', '12'));
      await fails(join(dir, 'short.onnx'), /bytes 4\.\.16 are past the end of .*weights\.bin \(12 bytes\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists subgraph values, empty optional outputs and non-tensor outputs as not inspected', async () => {
    const branch = (name: string, op: string) =>
      graph({
        name,
        inputs: [],
        outputs: [vec(`${name}_out`)],
        nodes: [{ op, inputs: ['x'], outputs: [`${name}_out`], name: `${name}_node` }],
      });
    const model = buildModel({
      inputs: [vec('x'), { name: 'cond', elemType: T.bool, dims: [] }],
      outputs: [vec('y'), vec('d'), vec('s0')],
      initializers: [{ name: 'split', dataType: T.int64, dims: [3], int64Data: [1, 1, 1] }],
      nodes: [
        {
          op: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          name: 'if',
          attributes: [
            { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('then', 'Neg') },
            { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('else', 'Abs') },
          ],
        },
        { op: 'Dropout', inputs: ['x'], outputs: ['d', ''], name: 'dropout' },
        { op: 'SplitToSequence', inputs: ['x', 'split'], outputs: ['seq'], name: 'to_seq' },
        {
          op: 'SequenceAt',
          inputs: ['seq', 'zero'],
          outputs: ['s0'],
          name: 'at',
        },
        {
          op: 'Constant',
          inputs: [],
          outputs: ['zero'],
          name: 'zero',
          attributes: [
            {
              name: 'value',
              type: onnx.AttributeProto.AttributeType.TENSOR,
              t: { dataType: T.int64, dims: [], int64Data: [0] },
            },
          ],
        },
      ],
    });
    const feeds = {
      x: f32([3], [1, -2, 3]),
      cond: { type: 'bool' as const, dims: [], data: Uint8Array.from([1]) },
    };
    const report = await inspectOnnx(model, feeds);
    const reasons = report.notInspected.map((n) => [n.node, n.output, n.reason]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        ['if/then_branch/then_node', 'then_out', 'inside-subgraph'],
        ['if/else_branch/else_node', 'else_out', 'inside-subgraph'],
        ['dropout', '', 'empty-optional-output'],
        ['to_seq', 'seq', 'non-tensor'],
      ]),
    );
    // Nodes come out in topological order even though the file lists Constant after its user.
    const names = report.nodes.map((n) => n.name);
    expect(names.indexOf('zero')).toBeLessThan(names.indexOf('at'));
    expect(report.nodes.find((n) => n.name === 'if')!.outputs[0]!.stats).toMatchObject({ min: -3, max: 2 });
    expect(report.nodes.find((n) => n.name === 'at')!.outputs[0]!.stats).toMatchObject({ count: 1, min: 1 });
    // A sequence cannot be fed from one part to the next: such a graph is not split.
    expect(planSegments(analyseModel(model), 1)).toBeNull();
    const batched = await inspectOnnx(model, feeds, { batchSize: 1 });
    expect(batched.nodes).toEqual(report.nodes);
    expect(batched.batches).toBe(report.nodes.flatMap((n) => n.outputs).length - 3);
  });

  it('gives the same stats in batches of one output, with one run per batch', async () => {
    const model = buildModel({
      inputs: [{ name: 'x', dims: ['batch', 2] }],
      outputs: [{ name: 'y', dims: ['batch', 2] }],
      nodes: [
        { op: 'Exp', inputs: ['x'], outputs: ['e'] },
        { op: 'Sin', inputs: ['e'], outputs: ['s'] },
        { op: 'Tanh', inputs: ['s'], outputs: ['t'] },
        { op: 'Add', inputs: ['t', 'x'], outputs: ['y'] },
      ],
    });
    // Dynamic dimension: the feed's batch of 3 is what the shapes report.
    const feeds = { x: f32([3, 2], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) };
    const whole = await inspectOnnx(model, feeds);
    const batched = await inspectOnnx(model, feeds, { batchSize: 1, splitGraph: false });
    const split = await inspectOnnx(model, feeds, { batchSize: 1 });
    expect(whole.batches).toBe(1);
    // Whole graph: one run per added output, the graph output read with the first.
    expect(batched.batches).toBe(3);
    expect(batched.nodes).toEqual(whole.nodes);
    // Split: one part per node, each fed what it reads (the last reads `t` from a part and `x` from the feeds).
    expect(split.batches).toBe(4);
    expect(split.nodes).toEqual(whole.nodes);
    expect(split.observerEffect).toMatchObject({ checked: true, equal: true });
    expect(whole.nodes[2]!.outputs[0]!.shape).toEqual([3, 2]);
  });

  it('splits a graph into parts that give the report of the whole graph', async () => {
    const branch = (name: string, op: string) =>
      graph({
        name,
        inputs: [],
        outputs: [{ name: `${name}_out` }],
        nodes: [{ op, inputs: ['a'], outputs: [`${name}_out`], name: `${name}_node` }],
      });
    const model = buildModel({
      inputs: [
        { name: 'x', dims: ['batch', 2] },
        { name: 'cond', elemType: T.bool, dims: [] },
      ],
      outputs: [{ name: 'y', dims: ['batch', 2] }],
      initializers: [floatTensor('w', [2], [2, -0.5])],
      nodes: [
        { op: 'Mul', inputs: ['x', 'w'], outputs: ['a'], name: 'scale' },
        { op: 'Shape', inputs: ['a'], outputs: ['shape'], name: 'shape' },
        { op: 'Relu', inputs: ['a'], outputs: ['r'], name: 'relu' },
        { op: 'Reshape', inputs: ['r', 'shape'], outputs: ['rr'], name: 'reshape' },
        {
          // Both branches read `a` from the outer scope, three parts earlier.
          op: 'If',
          inputs: ['cond'],
          outputs: ['branch'],
          name: 'if',
          attributes: [
            { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('then', 'Neg') },
            { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('else', 'Abs') },
          ],
        },
        { op: 'Add', inputs: ['rr', 'x'], outputs: ['s'], name: 'skip' },
        { op: 'Mul', inputs: ['s', 'w'], outputs: ['m'], name: 'rescale' },
        { op: 'Div', inputs: ['m', 'branch'], outputs: ['y'], name: 'div' },
      ],
    });
    const feeds = {
      x: f32([2, 2], [1, 0, -3, 4]),
      cond: { type: 'bool' as const, dims: [], data: Uint8Array.from([1]) },
    };
    const whole = await inspectOnnx(model, feeds, { keepTensors: true, splitGraph: false });
    const progress: [number, number][] = [];
    // Parts of two outputs; what each part reads from the feeds and earlier parts is fed to it.
    const info = analyseModel(model);
    const parts = planSegments(info, 2)!;
    // A part is a model of its own: its nodes and initializers copied from the file, its inputs declared.
    const f32Value = { type: 'float32', dims: [2, 2] };
    const last = onnx.ModelProto.decode(
      encodeSegment(
        model,
        info,
        parts[3]!,
        new Map([
          ['s', f32Value],
          ['branch', f32Value],
        ]),
      ),
    );
    expect(last.producerName).toBe('prodprobe-test');
    expect((last.graph!.node ?? []).map((n) => n.name)).toEqual(['rescale', 'div']);
    expect((last.graph!.initializer ?? []).map((t) => t.name)).toEqual(['w']);
    expect(
      (last.graph!.input ?? []).map((v) => [
        v.name,
        v.type!.tensorType!.elemType,
        v.type!.tensorType!.shape!.dim?.length,
      ]),
    ).toEqual([
      ['s', T.float, 2],
      ['branch', T.float, 2],
    ]);
    expect((last.graph!.output ?? []).map((v) => v.name)).toEqual(['m', 'y']);
    expect(parts.map((p) => [p.outputs, [...p.inputs].sort()])).toEqual([
      [['a', 'shape'], ['x']],
      [
        ['r', 'rr'],
        ['a', 'shape'],
      ],
      [
        ['branch', 's'],
        ['a', 'cond', 'rr', 'x'],
      ],
      [
        ['m', 'y'],
        ['branch', 's'],
      ],
    ]);
    const split = await inspectOnnx(model, feeds, {
      keepTensors: true,
      batchSize: 1,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(whole.batches).toBe(1);
    // One part per node (the whole graph in batches of one would take 7 runs).
    expect(split.batches).toBe(8);
    expect(progress.map(([done]) => done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(split.nodes).toEqual(whole.nodes);
    expect(split.notInspected).toEqual(whole.notInspected);
    // 0 / -0 at the zero of x: the first non-finite node is found the same way.
    expect(split.firstNonFinite).toEqual(whole.firstNonFinite);
    expect(split.firstNonFinite).toMatchObject({ node: 'div' });
    expect(split.observerEffect).toMatchObject({ checked: true, equal: true });
  });

  it('rejects a file that is not ONNX, wrong feeds and ops the runtime lacks', async () => {
    const model = buildModel({
      inputs: [vec('x')],
      outputs: [vec('y')],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    });
    const x = f32([3], [1, 2, 3]);
    await expectLayersError(
      inspectOnnx(new TextEncoder().encode('{"not": "onnx"}'), { x }),
      'NOT_ONNX',
      /not an ONNX model/,
    );
    await expectLayersError(inspectOnnx(new Uint8Array(0), { x }), 'NOT_ONNX', /not an ONNX model/);
    await expectLayersError(
      inspectOnnx('/nonexistent/model.onnx', { x }),
      'NOT_ONNX',
      /cannot read model file/,
    );
    await expectLayersError(
      inspectOnnx(model, { input: x }),
      'BAD_FEED',
      /feed "input" is not an input.*x \(float32\[3\]\)/,
    );
    await expectLayersError(inspectOnnx(model, {}), 'BAD_FEED', /missing feed for input "x"/);
    await expectLayersError(
      inspectOnnx(model, { x: { type: 'int32', dims: [3], data: Int32Array.from([1, 2, 3]) } }),
      'BAD_FEED',
      /dtype int32, the model expects float32/,
    );
    await expectLayersError(
      inspectOnnx(model, { x: f32([1, 3], [1, 2, 3]) }),
      'BAD_FEED',
      /rank 2.*expects rank 1/,
    );
    await expectLayersError(
      inspectOnnx(model, { x: f32([4], [1, 2, 3, 4]) }),
      'BAD_FEED',
      /size 4 on axis 0, the model expects 3/,
    );
    const exotic = buildModel({
      inputs: [vec('x')],
      outputs: [vec('y')],
      nodes: [{ op: 'FluxCapacitor', inputs: ['x'], outputs: ['y'] }],
    });
    await expectLayersError(inspectOnnx(exotic, { x }), 'UNSUPPORTED_OP', /FluxCapacitor/);
  });
});

describe('compareRuns and saved reports', () => {
  const model = buildModel({
    inputs: [vec('x')],
    outputs: [vec('y')],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['r'], name: 'relu' },
      { op: 'Mul', inputs: ['r', 'x'], outputs: ['m'], name: 'mul' },
      { op: 'Log', inputs: ['m'], outputs: ['y'], name: 'log' },
    ],
  });

  it('finds the first diverging node, the errors and the minimum passing tolerance', async () => {
    const a = await inspectOnnx(model, { x: f32([3], [1, 2, 3]) }, { keepTensors: true });
    const same = await inspectOnnx(model, { x: f32([3], [1, 2, 3]) }, { keepTensors: true });
    // Only the last element differs, and Relu of -1 vs 1 already differs.
    const b = await inspectOnnx(model, { x: f32([3], [1, 2, 3.001]) }, { keepTensors: true });
    expect(compareRuns(a, same).firstDivergence).toBeNull();
    const cmp = compareRuns(a, b);
    expect(cmp.firstDivergence).toMatchObject({ node: 'relu', output: 'r', status: 'mismatch' });
    const relu = cmp.nodes[0]!.outputs[0]!;
    expect(relu.basis).toBe('elements');
    expect(relu.mismatches).toBe(1);
    expect(relu.maxAbsError).toBeCloseTo(0.001, 6);
    expect(relu.maxRelError).toBeCloseTo(0.001 / 3, 6);
    expect(relu.minPassingTolerance).toBeCloseTo(0.001 / 3, 6);
    // rtol 4e-4 covers relu (3.3e-4) but not mul (x², 6.7e-4); 1e-3 covers everything.
    const looser = compareRuns(a, b, { rtol: 4e-4, atol: 1e-5 });
    expect(looser.nodes[0]!.within).toBe(true);
    expect(looser.firstDivergence).toMatchObject({ node: 'mul', status: 'mismatch' });
    expect(compareRuns(a, b, { rtol: 1e-3, atol: 1e-5 }).firstDivergence).toBeNull();
  });

  it('treats NaN vs NaN as a mismatch unless equalNan, and compares stats when tensors were not kept', async () => {
    const a = await inspectOnnx(model, { x: f32([3], [-1, 2, 3]) }, { keepTensors: true });
    const b = await inspectOnnx(model, { x: f32([3], [-1, 2, 3]) }, { keepTensors: true });
    expect(a.nodes[2]!.outputs[0]!.stats?.negInf).toBe(1);
    expect(compareRuns(a, b).firstDivergence).toBeNull();
    const nanModel = buildModel({
      inputs: [vec('x')],
      outputs: [vec('y')],
      nodes: [{ op: 'Sqrt', inputs: ['x'], outputs: ['y'], name: 'sqrt' }],
    });
    const na = await inspectOnnx(nanModel, { x: f32([3], [-1, 4, 9]) }, { keepTensors: true });
    expect(compareRuns(na, na).firstDivergence).toMatchObject({
      node: 'sqrt',
      minPassingTolerance: Number.POSITIVE_INFINITY,
    });
    expect(compareRuns(na, na, { equalNan: true }).firstDivergence).toBeNull();
    const statsA = await inspectOnnx(model, { x: f32([3], [1, 2, 3]) });
    const statsB = await inspectOnnx(model, { x: f32([3], [1, 2, 4]) });
    const cmp = compareRuns(statsA, statsB);
    expect(cmp.statsOnly).toBe(3);
    expect(cmp.firstDivergence).toMatchObject({ node: 'relu' });
  });

  it('round-trips a report with NaN and infinities through JSON, and compares the loaded copy', async () => {
    const report = await inspectOnnx(model, { x: f32([3], [-1, 0, 3]) }, { keepTensors: true });
    // Stats are over the finite elements, so a run rarely puts a non-finite number in a report; the
    // fields that can hold one (an error between NaN outputs, a mean that overflowed) must survive.
    report.observerEffect.outputs[0]!.maxAbsError = Number.NaN;
    report.observerEffect.outputs[0]!.maxRelError = Number.POSITIVE_INFINITY;
    report.nodes[1]!.outputs[0]!.stats!.mean = Number.NEGATIVE_INFINITY;
    report.nodes[1]!.outputs[0]!.stats!.min = -0;
    const text = serializeReport(report);
    expect(JSON.parse(text).observerEffect.outputs[0]).toMatchObject({
      maxAbsError: { $pp: 'NaN' },
      maxRelError: { $pp: 'Infinity' },
    });
    const loaded = parseOnnxInspection(text);
    expect(loaded).toEqual(report);
    expect(loaded.nodes[1]!.outputs[0]!.stats).toMatchObject({ mean: Number.NEGATIVE_INFINITY, min: -0 });
    expect(Object.is(loaded.nodes[1]!.outputs[0]!.stats!.min, -0)).toBe(true);
    expect(parseOnnxInspection(JSON.parse(text))).toEqual(report);
    expect(compareRuns(report, loaded).firstDivergence).toBeNull();
    // What `prodprobe --json` prints (non-finite numbers as strings) loads too.
    const printed = JSON.parse(
      JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
    );
    // JSON has no -0 of its own: the printed form loses only that sign.
    const unsigned = structuredClone(report);
    unsigned.nodes[1]!.outputs[0]!.stats!.min = 0;
    expect(parseOnnxInspection(printed)).toEqual(unsigned);
    expect(() => parseOnnxInspection({ ...printed, schemaVersion: 2 })).toThrow(/schemaVersion/);
  });
});
