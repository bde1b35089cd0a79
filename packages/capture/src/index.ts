export { defaultIsFailure, type IsFailure } from './bad-output.js';
export { CaptureError, type CaptureErrorCode } from './errors.js';
export {
  type ExportRegressionTestOptions,
  exportRegressionTest,
  type RegressionTestOptions,
  renderRegressionTest,
} from './export-test.js';
export {
  createFileCaptureStore,
  type FileCaptureStore,
  type FileCaptureStoreOptions,
  type FileCaptureStoreStats,
  type SkippedFile,
} from './file-store.js';
export {
  CAPTURE_SCHEMA_VERSION,
  type CapturedError,
  CapturedErrorSchema,
  type CaptureRecord,
  CaptureRecordSchema,
  describeFailure,
  type Failure,
  FailureSchema,
  failureName,
  parseCaptureRecord,
  type SealedInput,
  SealedInputSchema,
} from './record.js';
export { decodeCaptureRecord, encodeCaptureRecord } from './record-codec.js';
export {
  type InputUsed,
  type LoadModel,
  type ReplayDifference,
  type ReplayManyOptions,
  type ReplayManyResult,
  type ReplayOptions,
  type ReplayPredict,
  type ReplayResult,
  type ReplayVerdict,
  replay,
  replayMany,
} from './replay.js';
export { sealInput, sealKeyId, unsealInput } from './seal.js';
export {
  type CaptureFilter,
  type CaptureStore,
  compileFilter,
  createMemoryCaptureStore,
} from './store.js';
export {
  type CapturedPredict,
  type CaptureStats,
  newCaptureId,
  type SettledCall,
  type WithCaptureOptions,
  withCapture,
} from './with-capture.js';
