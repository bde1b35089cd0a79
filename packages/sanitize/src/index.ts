export { encodeLeaf, encodeNumber } from './canonical-writer.js';
export {
  type CodecLimits,
  type CodecOptions,
  DEFAULT_CODEC_LIMITS,
  decode,
  encode,
  fromStorable,
  TAG,
  toStorable,
} from './codec.js';
export {
  createDetector,
  DETECTOR_NAMES,
  DETECTOR_PLACEHOLDERS,
  type DetectorName,
  ibanValid,
  luhnValid,
  redactErrorText,
  redactPii,
} from './detectors.js';
export { SanitizeError, type SanitizeErrorCode } from './errors.js';
export { formatIssues } from './format-issues.js';
export { inputHash } from './input-hash.js';
export { isPlainKey, keyPlaceholder } from './keys.js';
export {
  RULE_TYPES,
  type Rule,
  RuleSchema,
  type RuleType,
  type SanitizeLimits,
  SanitizeLimitsSchema,
  type SanitizePolicyInput,
  SanitizePolicySchema,
  SHORTHAND_RULES,
} from './policy.js';
export { roundSignificant } from './round.js';
export { createSanitizer, type FlatPolicy, type Sanitizer, sanitize } from './sanitizer.js';
