import { describe, expect, it } from 'vitest';
import { captureEnv, isSecretConfigKey, isSecretEnvName, redactConfig, scrubStrings } from './secrets.js';

describe('secret detection', () => {
  it('env names: broad, substring match', () => {
    for (const name of [
      'API_KEY',
      'GITHUB_TOKEN',
      'PGPASSWORD',
      'MYSQL_PWD',
      'AWS_SECRET_ACCESS_KEY',
      'SENTRY_DSN',
      'AUTH_HEADER',
      'PRIVATE_PEM',
      'DB_PASSWD',
      'GCP_CREDENTIALS',
    ])
      expect(isSecretEnvName(name), name).toBe(true);
    for (const name of ['NODE_ENV', 'TZ', 'LANG', 'PWD', 'OLDPWD', 'OMP_NUM_THREADS'])
      expect(isSecretEnvName(name), name).toBe(false);
  });

  it('config keys: per word, so ML config stays readable', () => {
    for (const key of [
      'apiKey',
      'api_key',
      'password',
      'dbPassword',
      'authToken',
      'secret',
      'privateKey',
      'clientSecret',
      'x-api-key',
    ])
      expect(isSecretConfigKey(key), key).toBe(true);
    for (const key of ['max_tokens', 'tokenizer', 'threshold', 'keypoints', 'features', 'host'])
      expect(isSecretConfigKey(key), key).toBe(false);
  });

  it('captureEnv: allowlist with prefixes; unset names recorded as absent; credential URLs hidden', () => {
    const env = {
      ORT_THREADS: '4',
      ORT_LOG: 'warn',
      OTHER: 'x',
      REDIS_URL: 'redis://:s3cretpass@cache:6379',
    };
    const section = captureEnv(env, { allow: ['ORT_*', 'NODE_ENV', 'REDIS_URL'] });
    expect(section.vars).toEqual({
      NODE_ENV: { present: false },
      ORT_LOG: { present: true, value: 'warn' },
      ORT_THREADS: { present: true, value: '4' },
      REDIS_URL: { present: true, secret: true, length: env.REDIS_URL.length },
    });
  });

  it('redactConfig hides values under secret keys (whole subtrees) and credential URLs', () => {
    const hidden = new Set<string>();
    const out = redactConfig(
      {
        db: { url: 'postgres://u:p4ss@h/db', pool: 5 },
        credentials: { id: 'abc', pem: '-----BEGIN' },
        max_tokens: 10,
      },
      undefined,
      hidden,
    );
    expect(out).toEqual({
      db: { url: { $secret: { length: 22 } }, pool: 5 },
      credentials: { id: { $secret: { length: 3 } }, pem: { $secret: { length: 10 } } },
      max_tokens: 10,
    });
    expect([...hidden].sort()).toEqual(['-----BEGIN', 'abc', 'postgres://u:p4ss@h/db']);
  });

  it('scrubStrings also hides secrets it was not told about, by their shape', () => {
    const probe = {
      error:
        'connect redis://:Hs3Kd8Wq1Zn6@cache:6379 refused (token ghp_Q7rT2mXv9LpK4sWd8NcB1yHf6JzU3aEo5GiR)',
    };
    expect(scrubStrings(probe, [])).toEqual({
      error: 'connect redis://:<SECRET>@cache:6379 refused (token <SECRET>)',
    });
  });

  it('scrubStrings replaces secret values inside any string, keys included, ignoring very short ones', () => {
    expect(
      scrubStrings({ msg: 'bad token hunter22 here', hunter22: 1, list: ['xhunter22x'], n: 3 }, [
        'hunter22',
        'abc',
      ]),
    ).toEqual({
      msg: 'bad token [redacted] here',
      '[redacted]': 1,
      list: ['x[redacted]x'],
      n: 3,
    });
  });
});
