import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealInput, sealKeyId, unsealInput } from './seal.js';

const key = createHash('sha256').update('seal-test-key').digest(); // 32 bytes, deterministic
const other = createHash('sha256').update('another key').digest();

describe('sealInput / unsealInput', () => {
  it('round-trips values JSON would lose', () => {
    const raw = {
      email: 'jane@example.com',
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      missing: undefined,
      big: 123456789012345678901234567890n,
      when: new Date('2024-02-29T12:00:00.000Z'),
      vec: new Float32Array([1.5, Number.NaN]),
      nested: [null, { a: [1, 2] }],
    };
    const sealed = sealInput(raw, key);
    expect(sealed.keyId).toBe(sealKeyId(key));
    expect(Buffer.from(sealed.ciphertext, 'base64').toString('latin1')).not.toContain('jane@example.com');
    const back = unsealInput(sealed, key) as typeof raw;
    expect(back).toEqual(raw);
    expect(back.vec).toBeInstanceOf(Float32Array);
    expect('missing' in back).toBe(true);
  });

  it('uses a fresh nonce per seal', () => {
    const a = sealInput({ x: 1 }, key);
    const b = sealInput({ x: 1 }, key);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('fails clearly with a wrong key and on tampering', () => {
    const sealed = sealInput({ secret: 'x' }, key);
    expect(() => unsealInput(sealed, other)).toThrow(/wrong key.*sealed with key id/);
    expect(() => unsealInput(sealed, other)).toThrow(expect.objectContaining({ code: 'UNSEAL_FAILED' }));
    const ct = Buffer.from(sealed.ciphertext, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 1;
    expect(() => unsealInput({ ...sealed, ciphertext: ct.toString('base64') }, key)).toThrow(
      /failed authentication/,
    );
    expect(() => unsealInput(sealed, new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });
});
