import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { decode, encode } from '@prodprobe/sanitize';
import { CaptureError } from './errors.js';
import type { SealedInput } from './record.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * Checks that `key` is a 32-byte AES-256 key and returns it as a Buffer.
 * @throws CaptureError `INVALID_KEY`
 */
export function toSealKey(key: Uint8Array): Buffer {
  if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
    const got = key instanceof Uint8Array ? `${key.byteLength} bytes` : typeof key;
    throw new CaptureError(
      'INVALID_KEY',
      `encryption key: expected ${KEY_BYTES} bytes (AES-256), got ${got}`,
    );
  }
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** First 16 hex characters of sha256(key): names a key without revealing it. */
export function sealKeyId(key: Uint8Array): string {
  return createHash('sha256').update(toSealKey(key)).digest('hex').slice(0, 16);
}

/**
 * Encrypts `raw` (encoded losslessly first, so NaN, undefined, BigInt, Date survive) with
 * AES-256-GCM under `key` and a fresh random nonce.
 * @throws CaptureError `INVALID_KEY` when the key is not 32 bytes.
 */
export function sealInput(raw: unknown, key: Uint8Array, keyId: string = sealKeyId(key)): SealedInput {
  const k = toSealKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', k, iv);
  const ciphertext = Buffer.concat([cipher.update(encode(raw), 'utf8'), cipher.final()]);
  return {
    alg: 'aes-256-gcm',
    keyId,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/**
 * Decrypts a sealed input and decodes it back to the exact raw value.
 * @throws CaptureError `UNSEAL_FAILED` for a wrong key or tampered ciphertext, `INVALID_KEY` for a malformed key.
 */
export function unsealInput(sealed: SealedInput, key: Uint8Array): unknown {
  const k = toSealKey(key);
  const keyId = sealKeyId(k);
  if (keyId !== sealed.keyId) {
    throw new CaptureError(
      'UNSEAL_FAILED',
      `wrong key: the input was sealed with key id ${sealed.keyId}, the given key has id ${keyId}`,
    );
  }
  let text: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(sealed.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    text = Buffer.concat([
      decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
      decipher.final(),
    ]).toString('utf8');
  } catch (cause) {
    throw new CaptureError(
      'UNSEAL_FAILED',
      'sealed input failed authentication: the ciphertext, nonce or tag was altered, or the key is wrong',
      { cause },
    );
  }
  return decode(text);
}
