import { isolate, type LayerReport, type Pipeline, type StageKind } from '@prodprobe/layers';

/** What isolating one input on a service's pipeline found: the stage, its kind, the ONNX node. */
export interface IsolationFinding {
  /** The stage that threw, and its kind. */
  failedStage: string | null;
  failedKind: StageKind | null;
  /** The error the failing stage threw. */
  error: { name: string; message: string } | null;
  /** The first stage that turned finite values into NaN/Infinity, and its kind. */
  nonFiniteOrigin: string | null;
  nonFiniteKind: StageKind | null;
  /** The first health issues, `stage: what` (at most 8). */
  issues: string[];
  /** Node-by-node inspection of the inference stage, when the fault is there. */
  onnx: {
    inspected: boolean;
    stage?: string;
    firstNonFinite: { node: string; opType: string; output: string } | null;
    reason?: string;
  };
}

function issueText(issue: { path?: string; kind?: string }): string {
  return `${issue.path ?? '(root)'} ${issue.kind ?? ''}`.trim();
}

/**
 * Runs `input` stage by stage (`isolate` of `@prodprobe/layers`) and, when the fault is in an
 * inference stage that declares its ONNX model (`onnx: { model, feeds }`), inspects that model
 * node by node on the very tensor the stage was given.
 */
export async function isolateInput(
  pipeline: Pipeline<never, unknown>,
  input: unknown,
): Promise<{ finding: IsolationFinding; report: LayerReport }> {
  const report = await isolate(pipeline, input, { keepOutputs: true });
  const kindOf = (name: string | null) =>
    name === null ? null : (report.stages.find((s) => s.stage === name)?.kind ?? null);
  const failed = report.stages.find((s) => s.status === 'failed');
  const finding: IsolationFinding = {
    failedStage: report.failedStage,
    failedKind: kindOf(report.failedStage),
    error: failed?.error ? { name: failed.error.name, message: failed.error.message } : null,
    nonFiniteOrigin: report.nonFiniteOrigin,
    nonFiniteKind: kindOf(report.nonFiniteOrigin),
    issues: [
      ...report.input.issues.map((i) => `input: ${issueText(i)}`),
      ...report.stages.flatMap((s) =>
        (s.health?.issues ?? []).slice(0, 3).map((i) => `${s.stage}: ${issueText(i)}`),
      ),
    ].slice(0, 8),
    // The fault shows where non-finite values begin, else in the stage that threw.
    onnx: await inspectInference(pipeline, report, report.nonFiniteOrigin ?? report.failedStage),
  };
  return { finding, report };
}

async function inspectInference(
  pipeline: Pipeline<never, unknown>,
  report: LayerReport,
  faultStage: string | null,
): Promise<IsolationFinding['onnx']> {
  const index = pipeline.stages.findIndex((s) => s.name === faultStage);
  const stage = pipeline.stages[index];
  if (stage?.kind !== 'inference')
    return { inspected: false, firstNonFinite: null, reason: 'not in inference: ONNX nodes not inspected' };
  if (!stage.onnx)
    return {
      inspected: false,
      stage: stage.name,
      firstNonFinite: null,
      reason: `stage ${stage.name} declares no ONNX model (onnx: { model, feeds })`,
    };
  // The stage's input is the previous stage's output (kept by isolate), or the pipeline's input.
  const stageInput = index === 0 ? undefined : report.stages[index - 1]?.output;
  try {
    const feeds = stage.onnx.feeds(stageInput);
    const { inspectOnnx } = await import('@prodprobe/layers/onnx');
    const inspection = await inspectOnnx(stage.onnx.model, feeds);
    const f = inspection.firstNonFinite;
    return {
      inspected: true,
      stage: stage.name,
      firstNonFinite: f ? { node: f.node, opType: f.opType, output: f.output } : null,
    };
  } catch (error) {
    return {
      inspected: false,
      stage: stage.name,
      firstNonFinite: null,
      reason: `inspecting ${stage.name}'s ONNX model failed: ${(error as Error).message}`,
    };
  }
}

/** What isolation found, as a phrase: which stage threw, where NaN/Inf began. */
export function describeIsolation(
  f: Pick<IsolationFinding, 'failedStage' | 'failedKind' | 'nonFiniteOrigin' | 'nonFiniteKind' | 'error'>,
): string {
  const named = (stage: string, kind: StageKind | null) => `${stage}${kind ? ` (${kind})` : ''}`;
  const threw = f.failedStage
    ? `stage ${named(f.failedStage, f.failedKind)} threw${f.error ? ` ${f.error.name}: ${f.error.message}` : ''}`
    : 'no stage threw';
  if (f.nonFiniteOrigin)
    return `${threw}; first non-finite value in ${named(f.nonFiniteOrigin, f.nonFiniteKind)}`;
  return f.failedStage ? threw : 'every stage ran and every value was finite';
}
