export { parseLayerReport, parseOnnxInspection, serializeReport } from './codec.js';
export {
  type ComparedOutput,
  compareRuns,
  diffTensors,
  type RunComparison,
  runComparisonSchema,
  type TensorDiff,
  type Tolerance,
} from './compare.js';
export { LayersError, type LayersErrorCode } from './errors.js';
export {
  checkFeeds,
  type FeedSpec,
  feedsFileSchema,
  parseFeeds,
  type RandomFeedsOptions,
  randomFeeds,
} from './feeds.js';
export { type ScanOptions, scanValue } from './health.js';
export {
  analyseModel,
  type GraphNode,
  type ModelInfo,
  type ModelInput,
  onnxSchema,
  withExtraOutputs,
} from './onnx-graph.js';
export {
  definePipeline,
  type IsolateOptions,
  isolate,
  type Pipeline,
  type PipelineStages,
  type SchemaLike,
  type StageFn,
} from './pipeline.js';
export {
  type FirstNonFinite,
  type InspectedNode,
  type InspectedOutput,
  type LayerReport,
  layerReportSchema,
  type NotInspected,
  type ObserverEffect,
  type OnnxInspection,
  onnxInspectionSchema,
  type StageName,
  type StageReport,
  stageNames,
  type ValueScan,
} from './schemas.js';
export { type TensorDtype, type TensorStats, tensorStats } from './tensor-stats.js';
