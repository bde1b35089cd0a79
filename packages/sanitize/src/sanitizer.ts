import { createHmac } from 'node:crypto';
import type { z } from 'zod';
import { encode } from './codec.js';
import { createDetector } from './detectors.js';
import { SanitizeError } from './errors.js';
import { isPlainKey, keyPlaceholder } from './keys.js';
import { type PathSegment, PathSyntaxError, parsePath } from './path.js';
import {
  PolicyEnvelopeSchema,
  RULE_OBJECT_SCHEMAS,
  RULE_TYPES,
  type Rule,
  type RuleType,
  type SanitizePolicyInput,
  SHORTHAND_RULES,
} from './policy.js';
import { roundBigIntSignificant, roundDecimals, roundSignificant } from './round.js';

/** Removes PII from values while keeping their structure; built once by `createSanitizer`. */
export interface Sanitizer {
  /** Return a sanitized copy of `value` (same keys, nesting and array lengths). Never throws. */
  sanitize(value: unknown): unknown;
  /**
   * Set when the limits are the defaults and every rule names a top-level field (`price`, not
   * `user.email` or `items[*]`): what a serializer that sanitizes as it writes (the prediction
   * logger's one walk) needs to produce exactly `sanitize`'s result without the copy.
   */
  readonly flat?: FlatPolicy;
  /**
   * The policy it was built from, as data (a deep copy): `createSanitizer(s.policy)` builds the
   * same sanitizer, e.g. in a worker thread, where the functions of this one cannot go. It holds
   * `hashKey` when the policy has one: keep it in the process.
   */
  readonly policy: SanitizePolicyInput;
}

/** A policy of top-level field rules over the default policy: see `Sanitizer.flat`. */
export interface FlatPolicy {
  /** Significant digits numbers outside the rules are rounded to (the default policy's treatment). */
  readonly numberDigits: number;
  /**
   * Each named top-level field's rule, applied to a string, number, boolean or BigInt there (null
   * and undefined stay as they are; an object under a named field is left to `sanitize`).
   */
  readonly fields: ReadonlyMap<string, (value: unknown) => unknown>;
}

const DEFAULT_LIMITS = {
  maxDepth: 100,
  maxStringLength: 10_000,
  maxArrayLength: 100_000,
  maxKeys: 10_000,
  maxNodes: 1_000_000,
};
type Limits = typeof DEFAULT_LIMITS;

/** A rule compiled to a leaf function; containers are walked and the rule applies to their leaves. */
interface CompiledRule {
  type: RuleType;
  leaf: (value: unknown, walk: WalkState) => unknown;
  /** Number of exact (non-wildcard) segments in the path: the most specific rule wins a tie. */
  specificity: number;
}

interface PathNode {
  rule: CompiledRule | undefined;
  keys: Map<string, PathNode> | undefined;
  anyKey: PathNode | undefined;
  indexes: Map<number, PathNode> | undefined;
  anyIndex: PathNode | undefined;
  /** `[this]`, shared: the matches below a single state with one exact match, without an allocation. */
  alone: PathNode[];
}

/** No trie node matches (shared, never mutated). */
const NO_STATES: PathNode[] = [];

interface WalkState {
  nodes: number;
  ancestors: object[];
}

const PLACEHOLDER_CACHE_SIZE = 4096;
const placeholders: string[] = [];
for (let i = 0; i < 64; i++) placeholders.push(`<string length=${i}>`);

/** `"<string length=N>"`, from a cache for common lengths so the hot path does not allocate. */
function lengthPlaceholder(length: number): string {
  if (length < placeholders.length) return placeholders[length] as string;
  if (length < PLACEHOLDER_CACHE_SIZE) {
    for (let i = placeholders.length; i <= length; i++) placeholders.push(`<string length=${i}>`);
    return placeholders[length] as string;
  }
  return `<string length=${length}>`;
}

const objectProto = Object.prototype;

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function typedArrayOf(value: object): (ArrayLike<number | bigint> & { constructor: unknown }) | undefined {
  return ArrayBuffer.isView(value) && !(value instanceof DataView)
    ? (value as unknown as ArrayLike<number | bigint> & { constructor: unknown })
    : undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(policy)' : out;
}

const POLICY_KEYS = Object.keys(PolicyEnvelopeSchema.shape);

function zodMessage(prefix: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where =
        issue.path.length === 0 ? prefix : `${prefix}${prefix ? '.' : ''}${formatPath(issue.path)}`;
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `'${k}'`).join(', ');
        const expected =
          issue.path.length === 0 && prefix === '' ? ` (expected ${POLICY_KEYS.join(', ')})` : '';
        return `${where || '(policy)'}: unknown key ${keys}${expected}`;
      }
      return `${where || '(policy)'}: ${issue.message}`;
    })
    .join('; ');
}

function invalid(message: string): SanitizeError {
  return new SanitizeError('INVALID_POLICY', `invalid sanitize policy: ${message}`);
}

function parseRule(path: string, raw: unknown): Exclude<Rule, string> {
  const where = `rules[${JSON.stringify(path)}]`;
  if (typeof raw === 'string') {
    if ((SHORTHAND_RULES as readonly string[]).includes(raw)) return { type: raw } as Exclude<Rule, string>;
    if ((RULE_TYPES as readonly string[]).includes(raw)) {
      throw invalid(`${where}: rule '${raw}' needs options, write it as { type: '${raw}', ... }`);
    }
    throw invalid(`${where}: unknown rule '${raw}' (expected one of ${RULE_TYPES.join(', ')})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(
      `${where}: expected a rule name or an object with a 'type', got ${raw === null ? 'null' : typeof raw}`,
    );
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string' || !(type in RULE_OBJECT_SCHEMAS)) {
    throw invalid(
      `${where}.type: unknown rule ${type === undefined ? '(missing)' : `'${String(type)}'`} (expected one of ${RULE_TYPES.join(', ')})`,
    );
  }
  const parsed = RULE_OBJECT_SCHEMAS[type as RuleType].safeParse(raw);
  if (!parsed.success) throw invalid(zodMessage(where, parsed.error));
  return parsed.data as Exclude<Rule, string>;
}

// ---------------------------------------------------------------------------------------------
// Default treatment of a leaf

function defaultOther(value: object, digits: number): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '<invalid date>' : '<date>';
  const typed = typedArrayOf(value);
  if (typed !== undefined) {
    const Ctor = typed.constructor as new (n: number) => { [i: number]: number | bigint };
    const out = new Ctor(typed.length);
    for (let i = 0; i < typed.length; i++) {
      const x = typed[i] as number | bigint;
      out[i] = typeof x === 'bigint' ? roundBigIntSignificant(x, digits) : roundSignificant(x, digits);
    }
    return out;
  }
  if (value instanceof Map) return `<Map size=${value.size}>`;
  if (value instanceof Set) return `<Set size=${value.size}>`;
  if (value instanceof Error) return '<Error>';
  return `<${value.constructor?.name ?? 'object'}>`;
}

function defaultLeaf(value: unknown, digits: number): unknown {
  switch (typeof value) {
    case 'string':
      return lengthPlaceholder(value.length);
    case 'number':
      return roundSignificant(value, digits);
    case 'bigint':
      return roundBigIntSignificant(value, digits);
    case 'boolean':
    case 'undefined':
      return value;
    case 'function':
      return '<function>';
    case 'symbol':
      return '<symbol>';
    default:
      return value === null ? null : defaultOther(value as object, digits);
  }
}

// ---------------------------------------------------------------------------------------------

function toKeyBytes(key: string | Uint8Array): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
}

function compileRule(
  rule: Exclude<Rule, string>,
  specificity: number,
  digits: number,
  limits: Limits,
  hashKey: Buffer | undefined,
): CompiledRule {
  const fallback = (value: unknown): unknown => defaultLeaf(value, digits);
  const make = (leaf: CompiledRule['leaf']): CompiledRule => ({ type: rule.type, leaf, specificity });
  switch (rule.type) {
    case 'keep':
      return make((value) => {
        if (typeof value === 'string' && value.length > limits.maxStringLength) {
          return `${value.slice(0, limits.maxStringLength)}<truncated length=${value.length}>`;
        }
        if (typeof value === 'object' && value !== null) {
          const typed = typedArrayOf(value);
          if (typed !== undefined) return (typed as unknown as { slice(): unknown }).slice();
          if (value instanceof Date) return new Date(value.getTime());
        }
        return value;
      });
    case 'default':
      return make(fallback);
    case 'keepIf': {
      const allowed = new Set<unknown>(rule.values);
      const otherwise = rule.otherwise;
      return make((value) =>
        allowed.has(value) ? value : otherwise === undefined ? fallback(value) : otherwise,
      );
    }
    case 'redact': {
      const replacement = rule.replacement ?? '<redacted>';
      return make(() => replacement);
    }
    case 'length':
      return make((value) => (typeof value === 'string' ? lengthPlaceholder(value.length) : fallback(value)));
    case 'hash': {
      if (hashKey === undefined) throw new Error('unreachable: hash key checked before compiling');
      const key = hashKey;
      const length = rule.length ?? 32;
      return make((value) => {
        // Strings are hashed as their UTF-8 bytes, so the same value hashed elsewhere with the
        // same key joins; other values as their lossless encoding behind a 0x00 byte.
        const data = typeof value === 'string' ? value : `\u0000${encode(value)}`;
        return createHmac('sha256', key).update(data, 'utf8').digest('hex').slice(0, length);
      });
    }
    case 'bucket': {
      const { size } = rule;
      const offset = rule.offset ?? 0;
      return make((value) => {
        if (typeof value !== 'number') return fallback(value);
        if (value - value !== 0) return value;
        return offset + Math.floor((value - offset) / size) * size;
      });
    }
    case 'round': {
      if (rule.decimals !== undefined) {
        const decimals = rule.decimals;
        return make((value) =>
          typeof value === 'number' ? roundDecimals(value, decimals) : fallback(value),
        );
      }
      const d = rule.digits ?? 2;
      return make((value) =>
        typeof value === 'number'
          ? roundSignificant(value, d)
          : typeof value === 'bigint'
            ? roundBigIntSignificant(value, d)
            : fallback(value),
      );
    }
    case 'mask': {
      const keepStart = rule.keepStart ?? 0;
      const keepEnd = rule.keepEnd ?? 4;
      const char = rule.char ?? '*';
      return make((value) => {
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') {
          return fallback(value);
        }
        if (typeof value === 'number' && value - value !== 0) return value;
        const text = String(value);
        // Never show more than half of the value, however the rule is set.
        const budget = Math.floor(text.length / 2);
        const end = Math.min(keepEnd, budget);
        const start = Math.min(keepStart, budget - end);
        return text.slice(0, start) + char.repeat(text.length - start - end) + text.slice(text.length - end);
      });
    }
    case 'detect': {
      const detect = createDetector(rule.detectors);
      return make((value) => {
        if (typeof value !== 'string') return fallback(value);
        const cut = value.length > limits.maxStringLength ? value.slice(0, limits.maxStringLength) : value;
        const out = detect(cut);
        return cut === value ? out : `${out}<truncated length=${value.length}>`;
      });
    }
  }
}

function emptyNode(): PathNode {
  const node: PathNode = {
    rule: undefined,
    keys: undefined,
    anyKey: undefined,
    indexes: undefined,
    anyIndex: undefined,
    alone: NO_STATES,
  };
  node.alone = [node];
  return node;
}

/** The trie nodes matching child `key` of a value matched by `states` (arrays are read-only). */
function keyStates(states: PathNode[], key: string): PathNode[] {
  if (states.length === 1) {
    // The common case (rules on named fields): no array is built.
    const s = states[0] as PathNode;
    if (s.anyKey === undefined) return s.keys?.get(key)?.alone ?? NO_STATES;
  }
  const next: PathNode[] = [];
  for (const s of states) {
    const exact = s.keys?.get(key);
    if (exact !== undefined) next.push(exact);
    if (s.anyKey !== undefined) next.push(s.anyKey);
  }
  return next;
}

/** The trie nodes matching item `index` of an array matched by `states` (arrays are read-only). */
function indexStates(states: PathNode[], index: number): PathNode[] {
  if (states.length === 1) {
    const s = states[0] as PathNode;
    if (s.anyIndex === undefined) return s.indexes?.get(index)?.alone ?? NO_STATES;
  }
  const next: PathNode[] = [];
  for (const s of states) {
    const exact = s.indexes?.get(index);
    if (exact !== undefined) next.push(exact);
    if (s.anyIndex !== undefined) next.push(s.anyIndex);
  }
  return next;
}

function insertPath(root: PathNode, segments: PathSegment[], rule: CompiledRule): void {
  let node = root;
  for (const seg of segments) {
    switch (seg.kind) {
      case 'key': {
        node.keys ??= new Map();
        let next = node.keys.get(seg.key);
        if (next === undefined) {
          next = emptyNode();
          node.keys.set(seg.key, next);
        }
        node = next;
        break;
      }
      case 'index': {
        node.indexes ??= new Map();
        let next = node.indexes.get(seg.index);
        if (next === undefined) {
          next = emptyNode();
          node.indexes.set(seg.index, next);
        }
        node = next;
        break;
      }
      case 'anyKey':
        node = node.anyKey ??= emptyNode();
        break;
      case 'anyIndex':
        node = node.anyIndex ??= emptyNode();
        break;
    }
  }
  node.rule = rule;
}

// ---------------------------------------------------------------------------------------------
// The walk

class Walker {
  constructor(
    readonly digits: number,
    readonly limits: Limits,
  ) {}

  /** Default policy, no rules anywhere below: the hot path. */
  plain(value: unknown, depth: number, w: WalkState): unknown {
    if (typeof value !== 'object' || value === null) {
      // inlined defaultLeaf for the common primitives
      if (typeof value === 'string') return lengthPlaceholder(value.length);
      if (typeof value === 'number') return roundSignificant(value, this.digits);
      if (typeof value === 'boolean' || value === null || value === undefined) return value;
      return defaultLeaf(value, this.digits);
    }
    if (++w.nodes > this.limits.maxNodes) return '<truncated nodes>';
    if (depth >= this.limits.maxDepth) return '<truncated depth>';
    const ancestors = w.ancestors;
    for (let i = 0; i < ancestors.length; i++) if (ancestors[i] === value) return '<cycle>';
    if (Array.isArray(value)) {
      ancestors.push(value);
      const total = value.length;
      const n = Math.min(total, this.limits.maxArrayLength);
      w.nodes += n;
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = this.plain(value[i], depth + 1, w);
      if (n < total) out.push(`<truncated ${total - n} more items>`);
      ancestors.pop();
      return out;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== objectProto && proto !== null && isLeafObject(value))
      return defaultOther(value, this.digits);
    ancestors.push(value);
    const out: Record<string, unknown> = {};
    let count = 0;
    const maxKeys = this.limits.maxKeys;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      w.nodes++;
      if (++count > maxKeys) {
        out['<truncated>'] = `<${countKeys(value) - maxKeys} more keys>`;
        break;
      }
      const item = (value as Record<string, unknown>)[key];
      const name = isPlainKey(key) ? key : keyPlaceholder(count - 1);
      if (name === '__proto__') setOwn(out, name, this.plain(item, depth + 1, w));
      else out[name] = this.plain(item, depth + 1, w);
    }
    ancestors.pop();
    return out;
  }

  /** With rules: `states` are the path-trie nodes matching this value, `rule` the rule in force. */
  ruled(
    value: unknown,
    depth: number,
    states: PathNode[],
    rule: CompiledRule | undefined,
    w: WalkState,
  ): unknown {
    if (states.length === 0 && rule === undefined) return this.plain(value, depth, w);
    if (typeof value !== 'object' || value === null) {
      if (value === null || value === undefined) return value;
      return rule === undefined ? defaultLeaf(value, this.digits) : rule.leaf(value, w);
    }
    if (++w.nodes > this.limits.maxNodes) return '<truncated nodes>';
    if (depth >= this.limits.maxDepth) return '<truncated depth>';
    const ancestors = w.ancestors;
    for (let i = 0; i < ancestors.length; i++) if (ancestors[i] === value) return '<cycle>';
    if (Array.isArray(value)) {
      ancestors.push(value);
      const total = value.length;
      const n = Math.min(total, this.limits.maxArrayLength);
      w.nodes += n;
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const next = indexStates(states, i);
        out[i] = this.ruled(value[i], depth + 1, next, pick(next, rule), w);
      }
      if (n < total) out.push(`<truncated ${total - n} more items>`);
      ancestors.pop();
      return out;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== objectProto && proto !== null && isLeafObject(value)) {
      return rule === undefined ? defaultOther(value, this.digits) : rule.leaf(value, w);
    }
    ancestors.push(value);
    const out: Record<string, unknown> = {};
    let count = 0;
    const maxKeys = this.limits.maxKeys;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      w.nodes++;
      if (++count > maxKeys) {
        out['<truncated>'] = `<${countKeys(value) - maxKeys} more keys>`;
        break;
      }
      const next = keyStates(states, key);
      // A key the policy names, or below a 'keep', is a field name; any other key follows the default.
      const name =
        isPlainKey(key) || rule?.type === 'keep' || namedByPolicy(states, key)
          ? key
          : keyPlaceholder(count - 1);
      setOwn(
        out,
        name,
        this.ruled((value as Record<string, unknown>)[key], depth + 1, next, pick(next, rule), w),
      );
    }
    ancestors.pop();
    return out;
  }
}

/** Whether a path of the policy names `key` exactly below one of `states`. */
function namedByPolicy(states: PathNode[], key: string): boolean {
  for (const s of states) if (s.keys?.has(key)) return true;
  return false;
}

/** The rule in force below: the most specific rule among the matched nodes, else the inherited one. */
function pick(nodes: PathNode[], inherited: CompiledRule | undefined): CompiledRule | undefined {
  let best: CompiledRule | undefined;
  for (const node of nodes) {
    const r = node.rule;
    if (r !== undefined && (best === undefined || r.specificity > best.specificity)) best = r;
  }
  return best ?? inherited;
}

function countKeys(value: object): number {
  return Object.keys(value).length;
}

/** Objects that are values in themselves rather than records of fields. */
function isLeafObject(value: object): boolean {
  return (
    value instanceof Date ||
    ArrayBuffer.isView(value) ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Error ||
    value instanceof ArrayBuffer ||
    value instanceof RegExp ||
    value instanceof Promise ||
    value instanceof WeakMap ||
    value instanceof WeakSet
  );
}

/**
 * Build a sanitizer from a policy, validating and compiling it once (paths are parsed into a
 * matcher, rules into leaf functions), so each call does no policy work.
 *
 * Default policy (no rules): strings become `"<string length=N>"`, numbers are rounded to 2
 * significant digits (staying numbers), booleans, null, undefined, NaN and ±Infinity are kept,
 * BigInts are rounded, Dates become `"<date>"`, typed arrays are rounded element-wise.
 * @throws SanitizeError `INVALID_POLICY` naming the path or option at fault.
 */
export function createSanitizer(policy: SanitizePolicyInput = {}): Sanitizer {
  const envelope = PolicyEnvelopeSchema.safeParse(policy);
  if (!envelope.success) throw invalid(zodMessage('', envelope.error));
  const { rules = {}, hashKey, numberDigits = 2, limits: limitInput } = envelope.data;
  const limits: Limits = { ...DEFAULT_LIMITS, ...limitInput };

  const parsed: [string, PathSegment[], Exclude<Rule, string>][] = [];
  for (const [path, raw] of Object.entries(rules)) {
    let segments: PathSegment[];
    try {
      segments = parsePath(path);
    } catch (error) {
      if (error instanceof PathSyntaxError)
        throw invalid(`rules[${JSON.stringify(path)}]: bad path: ${error.message}`);
      throw error;
    }
    parsed.push([path, segments, parseRule(path, raw)]);
  }

  let key: Buffer | undefined;
  const hashPaths = parsed.filter(([, , rule]) => rule.type === 'hash').map(([path]) => path);
  if (hashPaths.length > 0) {
    if (hashKey === undefined) {
      throw invalid(
        `rules[${JSON.stringify(hashPaths[0])}]: the 'hash' rule needs hashKey (a secret of at least 16 bytes); there is no default key`,
      );
    }
    key = toKeyBytes(hashKey);
    if (key.length < 16) throw invalid(`hashKey: expected at least 16 bytes, got ${key.length}`);
  }

  const root = emptyNode();
  for (const [, segments, rule] of parsed) {
    const specificity = segments.filter((s) => s.kind === 'key' || s.kind === 'index').length;
    insertPath(root, segments, compileRule(rule, specificity, numberDigits, limits, key));
  }

  const walker = new Walker(numberDigits, limits);
  const flat = flatPolicyOf(root, limits, numberDigits);
  const hasRules = parsed.length > 0;
  const states = [root];
  const sanitizeOne = (value: unknown): unknown => {
    const w: WalkState = { nodes: 0, ancestors: [] };
    try {
      return hasRules ? walker.ruled(value, 0, states, undefined, w) : walker.plain(value, 0, w);
    } catch {
      // Only exotic values get here (a getter or proxy that throws). Say nothing of the value:
      // its error message could hold the very data we are removing.
      return '<unsanitizable>';
    }
  };
  // A copy: the caller may reuse its policy object, and this one must keep describing `sanitizeOne`.
  const data = structuredClone(policy);
  return flat === undefined
    ? { sanitize: sanitizeOne, policy: data }
    : { sanitize: sanitizeOne, flat, policy: data };
}

/** The policy as top-level field rules, when that is all it is (see `Sanitizer.flat`). */
function flatPolicyOf(root: PathNode, limits: Limits, numberDigits: number): FlatPolicy | undefined {
  for (const name of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    if (limits[name] !== DEFAULT_LIMITS[name]) return undefined;
  }
  if (root.rule !== undefined || root.anyKey !== undefined) return undefined;
  if (root.indexes !== undefined || root.anyIndex !== undefined) return undefined;
  const fields = new Map<string, (value: unknown) => unknown>();
  // Leaf rules use the walk state only for containers, which are not theirs to see here.
  const scratch: WalkState = { nodes: 0, ancestors: [] };
  for (const [key, node] of root.keys ?? []) {
    const rule = node.rule;
    if (rule === undefined || node.keys !== undefined || node.anyKey !== undefined) return undefined;
    if (node.indexes !== undefined || node.anyIndex !== undefined) return undefined;
    fields.set(key, (value) => rule.leaf(value, scratch));
  }
  return { numberDigits, fields };
}

let defaultSanitizer: Sanitizer | undefined;

/**
 * Sanitize one value. With no policy it uses a shared default sanitizer; with a policy it
 * compiles it on every call, so build one with `createSanitizer` for repeated use.
 * @throws SanitizeError `INVALID_POLICY` when the policy is invalid.
 */
export function sanitize(value: unknown, policy?: SanitizePolicyInput): unknown {
  if (policy === undefined) {
    defaultSanitizer ??= createSanitizer();
    return defaultSanitizer.sanitize(value);
  }
  return createSanitizer(policy).sanitize(value);
}
