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
  createTrace,
  definePipeline,
  type IsolateOptions,
  isolate,
  type OnnxStage,
  type Pipeline,
  type PipelineStage,
  type PipelineStages,
  type PipelineTrace,
  type SchemaLike,
  type SourceInfo,
  type StageContext,
  type StageFn,
  type StageSpec,
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
  type SourceRead,
  type StageKind,
  type StageReport,
  sourceReadSchema,
  stageKinds,
  type ValueScan,
} from './schemas.js';
export { defineService, isService, type Service, type ServiceDefinition } from './service.js';
export { type TensorDtype, type TensorStats, tensorStats } from './tensor-stats.js';
