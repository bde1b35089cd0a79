import { z } from 'zod';
import { DETECTOR_NAMES } from './detectors.js';
import { PathSyntaxError, parsePath } from './path.js';

/** Rules that need no options and may be written as a bare string. */
export const SHORTHAND_RULES = [
  'keep',
  'redact',
  'length',
  'hash',
  'mask',
  'detect',
  'round',
  'default',
] as const;
/** Every rule type. */
export const RULE_TYPES = [
  'keep',
  'keepIf',
  'redact',
  'length',
  'hash',
  'bucket',
  'round',
  'mask',
  'detect',
  'default',
] as const;
/** One rule type. */
export type RuleType = (typeof RULE_TYPES)[number];

const finite = z.number().refine(Number.isFinite, { message: 'expected a finite number' });

/** Keep the value as it is (strings past `limits.maxStringLength` are cut). */
export const KeepRuleSchema = z.object({ type: z.literal('keep') }).strict();
/** Keep the value only when it is one of `values` (a categorical allowlist). */
export const KeepIfRuleSchema = z
  .object({
    type: z.literal('keepIf'),
    /** Allowed values, compared with SameValueZero (NaN matches NaN). */
    values: z
      .array(z.union([z.string(), z.custom<number>((v) => typeof v === 'number'), z.boolean(), z.null()]))
      .min(1),
    /** Written instead of a value not in the list. @default the default policy's treatment */
    otherwise: z.string().optional(),
  })
  .strict();
/** Replace the value with a fixed string. */
export const RedactRuleSchema = z
  .object({
    type: z.literal('redact'),
    /** @default "<redacted>" */
    replacement: z.string().optional(),
  })
  .strict();
/** Replace a string with `"<string length=N>"` (what the default policy does). */
export const LengthRuleSchema = z.object({ type: z.literal('length') }).strict();
/** Replace the value with its keyed HMAC-SHA256 (hex), stable across records so they can be joined. */
export const HashRuleSchema = z
  .object({
    type: z.literal('hash'),
    /** Hex characters kept. @default 32 */
    length: z.number().int().min(8).max(64).optional(),
  })
  .strict();
/** Replace a number with the lower bound of its fixed-size bucket: `offset + floor((x - offset) / size) * size`. */
export const BucketRuleSchema = z
  .object({
    type: z.literal('bucket'),
    size: finite.refine((n) => n > 0, { message: 'expected a number > 0' }),
    /** @default 0 */
    offset: finite.optional(),
  })
  .strict();
/** Round a number to `digits` significant digits, or to `decimals` decimal places. */
export const RoundRuleSchema = z
  .object({
    type: z.literal('round'),
    /** Significant digits. @default 2 */
    digits: z.number().int().min(1).max(17).optional(),
    /** Decimal places (instead of `digits`). */
    decimals: z.number().int().min(0).max(20).optional(),
  })
  .strict()
  .refine((r) => r.digits === undefined || r.decimals === undefined, {
    message: 'give either digits or decimals, not both',
  });
/** Mask a string (or a number's digits) keeping a few characters at the ends; never more than half. */
export const MaskRuleSchema = z
  .object({
    type: z.literal('mask'),
    /** Characters kept at the start. @default 0 */
    keepStart: z.number().int().min(0).optional(),
    /** Characters kept at the end. @default 4 */
    keepEnd: z.number().int().min(0).optional(),
    /** @default "*" */
    char: z.string().length(1).optional(),
  })
  .strict();
/** Replace PII found inside free text with placeholders, keeping the rest of the text. */
export const DetectRuleSchema = z
  .object({
    type: z.literal('detect'),
    /** @default all detectors */
    detectors: z.array(z.enum(DETECTOR_NAMES)).min(1).optional(),
  })
  .strict();
/** Apply the default policy (useful below a broader `keep`). */
export const DefaultRuleSchema = z.object({ type: z.literal('default') }).strict();

/** The object form of each rule, by type: used to give precise messages. */
export const RULE_OBJECT_SCHEMAS = {
  keep: KeepRuleSchema,
  keepIf: KeepIfRuleSchema,
  redact: RedactRuleSchema,
  length: LengthRuleSchema,
  hash: HashRuleSchema,
  bucket: BucketRuleSchema,
  round: RoundRuleSchema,
  mask: MaskRuleSchema,
  detect: DetectRuleSchema,
  default: DefaultRuleSchema,
} as const;

/** A rule: a shorthand string (`'keep'`, `'hash'`, ...) or an object with `type` and options. */
export const RuleSchema = z.union([
  z.enum(SHORTHAND_RULES),
  KeepRuleSchema,
  KeepIfRuleSchema,
  RedactRuleSchema,
  LengthRuleSchema,
  HashRuleSchema,
  BucketRuleSchema,
  RoundRuleSchema,
  MaskRuleSchema,
  DetectRuleSchema,
  DefaultRuleSchema,
]);
/** A rule, as written in a policy. */
export type Rule = z.input<typeof RuleSchema>;

const positiveInt = z.number().int().min(1);

/** Limits of one `sanitize` call; past them values are replaced by `"<truncated ...>"` / `"<cycle>"` markers. */
export const SanitizeLimitsSchema = z
  .object({
    /** @default 100 */
    maxDepth: positiveInt.optional(),
    /** Longer kept strings are cut. @default 10_000 */
    maxStringLength: positiveInt.optional(),
    /** Longer arrays keep this many items plus one `"<truncated N more items>"`. @default 100_000 */
    maxArrayLength: positiveInt.optional(),
    /** Objects keep this many keys plus a `"<truncated>"` key. @default 10_000 */
    maxKeys: positiveInt.optional(),
    /** Values visited in one call. @default 1_000_000 */
    maxNodes: positiveInt.optional(),
  })
  .strict();
/** Sanitizer limits as written in a policy. */
export type SanitizeLimits = z.input<typeof SanitizeLimitsSchema>;

const policyShape = {
  /** Format version of a stored policy. @default 1 */
  schemaVersion: z.literal(1).optional(),
  /** HMAC key for `hash` rules; required when any rule hashes, never defaulted. At least 16 bytes. */
  hashKey: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  /** Significant digits the default policy keeps of a number. @default 2 */
  numberDigits: z.number().int().min(1).max(17).optional(),
  limits: SanitizeLimitsSchema.optional(),
};

/**
 * A sanitize policy: `rules` maps a path (`user.email`, `items[*].sku`, `meta.*`) to a rule.
 * A rule on an object or array applies to every value below it unless a deeper path has its own.
 * Paths are checked by `createSanitizer`, which reports the bad path.
 */
export const SanitizePolicySchema = z
  .object({ ...policyShape, rules: z.record(z.string(), RuleSchema).optional() })
  .strict()
  .superRefine((policy, ctx) => {
    let hashPath: string | undefined;
    for (const [path, rule] of Object.entries(policy.rules ?? {})) {
      try {
        parsePath(path);
      } catch (error) {
        if (!(error instanceof PathSyntaxError)) throw error;
        ctx.addIssue({ code: 'custom', path: ['rules', path], message: `bad path: ${error.message}` });
      }
      if (rule === 'hash' || (typeof rule === 'object' && rule.type === 'hash')) hashPath ??= path;
    }
    if (hashPath !== undefined && policy.hashKey === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['hashKey'],
        message: `required by the 'hash' rule at ${JSON.stringify(hashPath)}; there is no default key`,
      });
    }
  });
/** A policy as written by a user. */
export type SanitizePolicyInput = z.input<typeof SanitizePolicySchema>;

/** The policy envelope with rules left unchecked, so each rule gets its own precise message. */
export const PolicyEnvelopeSchema = z
  .object({ ...policyShape, rules: z.record(z.string(), z.unknown()).optional() })
  .strict();
