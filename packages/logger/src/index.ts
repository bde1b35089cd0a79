export { LoggerError, type LoggerErrorCode } from './errors.js';
export { type ExitHandlerOptions, type Flushable, installExitHandlers } from './exit-handlers.js';
export { computeInputStats } from './input-stats.js';
export {
  createPredictionLogger,
  type LoggerStats,
  type LogResult,
  type PredictionInput,
  type PredictionLogger,
  type PredictionLoggerOptions,
  type SourceReadInput,
} from './logger.js';
export {
  type LogScan,
  listSegments,
  type PredictionLogs,
  readPredictionLogs,
  type SegmentScan,
  scanLogLines,
  scanSegments,
} from './read.js';
export {
  isSampled,
  sampleUnit,
  scanUniformSample,
  type UniformSample,
  type UniformSampleCounts,
  uniformSample,
} from './sampling.js';
export {
  type GapMarker,
  GapMarkerSchema,
  type InputStats,
  InputStatsSchema,
  type KeptBy,
  KeptBySchema,
  LOG_SCHEMA_VERSION,
  type LogLine,
  LogLineSchema,
  type PredictionLogEntry,
  PredictionLogEntrySchema,
  parseLogLine,
} from './schema.js';
export { type OpenSegment, openFileSegment, partitionOf, type SegmentWriter } from './segment.js';
