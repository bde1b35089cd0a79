export {
  benjaminiHochberg,
  type CompareOptions,
  compare,
  DEFAULT_COMPARE_SETTINGS,
  type Rows,
  WASSERSTEIN_MIN_SCALE,
} from './compare.js';
export { DriftError, type DriftErrorCode } from './errors.js';
export {
  type ColumnData,
  createProfileBuilder,
  DEFAULT_PROFILE_SETTINGS,
  mergeProfiles,
  type ProfileBuilder,
  type ProfileOptions,
  profile,
  valueShare,
} from './profile.js';
export {
  type FieldProfile,
  fieldProfileSchema,
  PROFILE_SCHEMA_VERSION,
  type Profile,
  type ProfileSettings,
  parseProfile,
  profileSchema,
  safeParseProfile,
} from './profile-schema.js';
export { renderHtml, renderMarkdown, renderText, type TextReportOptions } from './render.js';
export {
  type CompareSettings,
  type DriftReport,
  type DriftWarning,
  driftReportSchema,
  type FieldReport,
  parseDriftReport,
  REPORT_SCHEMA_VERSION,
  type SideStats,
  type WarningCode,
  warningCodes,
} from './report-schema.js';
export {
  binCounts,
  jensenShannon,
  PSI_EMPTY_BIN_FLOOR,
  type PsiBin,
  psi,
  quantileEdges,
} from './stats/binned.js';
export { type ChiSquareResult, chiSquare } from './stats/chi-square.js';
export { kstwoSf } from './stats/kolmogorov.js';
export { KS_MAX_EXACT_N, type KsResult, ksTwoSample, ksTwoSampleValues } from './stats/ks-test.js';
export { quantiles, type Sample, sampleFrom, sampleSize } from './stats/sample.js';
export { chiSquareSf, gammaIncUpper, logGamma, smirnovSf } from './stats/special.js';
export { wasserstein1 } from './stats/wasserstein.js';
export { parseIsoDate } from './time-format.js';
export {
  createTimelineBuilder,
  type DriftTimeline,
  driftTimeline,
  type TimelineBuilder,
  type TimelineOptions,
  type TimelineWindow,
} from './timeline.js';
