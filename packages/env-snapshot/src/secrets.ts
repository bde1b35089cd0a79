import { createHmac } from 'node:crypto';
import { createDetector } from '@prodprobe/sanitize';
import type { EnvSection, EnvVar, JsonValue } from './schema.js';

/**
 * An environment variable whose name matches this is treated as a secret. Deliberately broad
 * (substring match): a false positive costs only a hash instead of a value.
 */
export const DEFAULT_SECRET_ENV_PATTERN =
  /KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIAL|CREDS|AUTH|PRIVATE|CERT|SESSION|COOKIE|SIGNATURE|SALT|DSN|CONNECTION_?STRING|DATABASE_URL/i;

/**
 * Variables recorded when the caller gives no allowlist: the ones that change how Node and
 * numeric libraries behave. Names ending in `*` match a prefix.
 */
export const DEFAULT_ENV_ALLOW: readonly string[] = [
  'NODE_ENV',
  'NODE_OPTIONS',
  'TZ',
  'LANG',
  'LC_ALL',
  'LC_NUMERIC',
  'UV_THREADPOOL_SIZE',
  'OMP_NUM_THREADS',
  'MKL_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
  'CUDA_VISIBLE_DEVICES',
  'ORT_*',
];

// Shell bookkeeping that the broad pattern would catch (the working directory is not a secret).
const NOT_SECRET = new Set(['PWD', 'OLDPWD']);

/** Whether an environment variable name looks like it holds a secret. */
export function isSecretEnvName(name: string, pattern: RegExp = DEFAULT_SECRET_ENV_PATTERN): boolean {
  pattern.lastIndex = 0;
  return !NOT_SECRET.has(name) && pattern.test(name);
}

// A URL with a password in it (postgres://user:pass@host) is a secret whatever the variable is called.
const CREDENTIAL_URL = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

// Config keys are matched per word (camelCase, snake_case, kebab-case) so `max_tokens`, `tokenizer`
// or `feature_keys` in a model config stay readable while `apiKey`, `db_password` and `authToken`
// are hidden.
const STRONG_TERMS = [
  'password',
  'passwd',
  'secret',
  'credential',
  'private',
  'apikey',
  'authorization',
  'cookie',
];
const WORD_SUFFIXES = ['key', 'token', 'auth', 'pwd', 'pass', 'salt', 'dsn', 'cert', 'session'];

/** Whether a config object key looks like it holds a secret (`apiKey`, `db_password`, `auth_token`). */
export function isSecretConfigKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  const joined = words.join('');
  if (STRONG_TERMS.some((t) => joined.includes(t))) return true;
  return words.some((w) => WORD_SUFFIXES.some((s) => w === s || (w.length > s.length + 2 && w.endsWith(s))));
}

/** Whether a value looks like a credential by itself (a URL carrying a password). */
export function looksLikeCredentialValue(value: string): boolean {
  return CREDENTIAL_URL.test(value);
}

function toKeyBytes(key: string | Uint8Array): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
}

/** HMAC-SHA256 of a secret value, hex. */
export function hmacHex(key: string | Uint8Array, value: string): string {
  return createHmac('sha256', toKeyBytes(key)).update(value, 'utf8').digest('hex');
}

/**
 * An id for the HMAC key that reveals nothing about it (an HMAC of a fixed label), so `diff` can
 * tell "the secret changed" from "the two snapshots were hashed with different keys".
 */
export function hmacKeyId(key: string | Uint8Array): string {
  return hmacHex(key, 'prodprobe-env-snapshot/key-id').slice(0, 16);
}

function secretEntry(value: string, key: string | Uint8Array | undefined): EnvVar {
  return key === undefined
    ? { present: true, secret: true, length: value.length }
    : { present: true, secret: true, length: value.length, hmac: hmacHex(key, value) };
}

/** Options for {@link captureEnv}. */
export interface CaptureEnvOptions {
  /** Names to record; a trailing `*` matches a prefix. @default DEFAULT_ENV_ALLOW */
  allow?: readonly string[];
  /** Key for HMACs of secret values; without it only presence and length are stored. */
  hashKey?: string | Uint8Array;
  /** Names matching this are secrets. @default DEFAULT_SECRET_ENV_PATTERN */
  secretPattern?: RegExp;
}

/** Records the allowlisted variables of `env`, secrets as presence, length and HMAC only. */
export function captureEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: CaptureEnvOptions = {},
): EnvSection {
  const allow = options.allow ?? DEFAULT_ENV_ALLOW;
  const pattern = options.secretPattern ?? DEFAULT_SECRET_ENV_PATTERN;
  const names = new Set<string>();
  for (const entry of allow) {
    if (entry.endsWith('*')) {
      const prefix = entry.slice(0, -1);
      for (const name of Object.keys(env))
        if (name.startsWith(prefix) && env[name] !== undefined) names.add(name);
    } else names.add(entry);
  }
  const vars: Record<string, EnvVar> = {};
  for (const name of [...names].sort()) {
    const value = env[name];
    if (value === undefined) vars[name] = { present: false };
    else if (isSecretEnvName(name, pattern) || looksLikeCredentialValue(value))
      vars[name] = secretEntry(value, options.hashKey);
    else vars[name] = { present: true, value };
  }
  return { hmacKeyId: options.hashKey === undefined ? null : hmacKeyId(options.hashKey), vars };
}

/**
 * Replaces string values under secret-looking keys of a config object by
 * `{ "$secret": { length, hmac? } }`; every hidden value is added to `hidden`.
 */
export function redactConfig(
  value: JsonValue,
  hashKey: string | Uint8Array | undefined,
  hidden: Set<string>,
  underSecret = false,
): JsonValue {
  if (typeof value === 'string') {
    if (!underSecret && !looksLikeCredentialValue(value)) return value;
    hidden.add(value);
    return {
      $secret:
        hashKey === undefined
          ? { length: value.length }
          : { length: value.length, hmac: hmacHex(hashKey, value) },
    };
  }
  if (Array.isArray(value)) return value.map((item) => redactConfig(item, hashKey, hidden, underSecret));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = redactConfig(v, hashKey, hidden, underSecret || isSecretConfigKey(k));
    }
    return out;
  }
  return value;
}

/** Shortest secret value that is scrubbed from free text; shorter ones would hit ordinary words. */
export const MIN_SCRUB_LENGTH = 6;

/**
 * Replaces every occurrence of the given secret values in every string of `value` (probe error
 * messages, data-source results, flags) by `[redacted]`: the snapshot never carries a secret.
 */
export function scrubStrings<T>(value: T, secrets: readonly string[]): T {
  const list = [...new Set(secrets.filter((s) => s.length >= MIN_SCRUB_LENGTH))].sort(
    (x, y) => y.length - x.length,
  );
  const scrub = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let out = v;
      for (const secret of list) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
      // Secrets the snapshot was not told about (a token from argv quoted in a probe's error):
      // found by their shape.
      return redactSecretShapes(out);
    }
    if (Array.isArray(v)) return v.map(scrub);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[scrub(k) as string] = scrub(item);
      return out;
    }
    return v;
  };
  return scrub(value) as T;
}

/** JWTs, API keys, bearer tokens, URL passwords, `password=…` values → `<SECRET>` (`@prodprobe/sanitize`). */
const redactSecretShapes = createDetector(['secret']);

/** Values of `env` that are secrets by name or by shape: what must never appear in a snapshot. */
export function secretValues(
  env: Readonly<Record<string, string | undefined>>,
  pattern: RegExp = DEFAULT_SECRET_ENV_PATTERN,
): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    if (isSecretEnvName(name, pattern) || looksLikeCredentialValue(value)) out.push(value);
  }
  return out;
}
