import { isIPv6 } from 'node:net';

/** The kinds of PII the `detect` rule finds in free text. */
export const DETECTOR_NAMES = ['email', 'creditCard', 'iban', 'ssn', 'ip', 'phone', 'secret'] as const;
/** One kind of PII the `detect` rule can find. */
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** The placeholder each detector writes in place of what it found. */
export const DETECTOR_PLACEHOLDERS: Readonly<Record<DetectorName, string>> = Object.freeze({
  email: '<EMAIL>',
  creditCard: '<CREDIT_CARD>',
  iban: '<IBAN>',
  ssn: '<SSN>',
  ip: '<IP>',
  phone: '<PHONE>',
  secret: '<SECRET>',
});

/** Luhn checksum, as card numbers carry. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34 || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const code = rearranged.charCodeAt(i);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

function ssnValid(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

function ipv4Valid(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (const part of parts) {
    if (part.length > 1 && part[0] === '0') return false;
    if (Number(part) > 255) return false;
  }
  return true;
}

function digitCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

type Replacer = (text: string) => string;

// Each pattern is anchored by look-arounds so it never starts or ends inside a longer token.
const EMAIL =
  /(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}(?![\w-])/g;
// Issuer prefixes 2-6: Mastercard 2-series and 5, Amex/Diners 3, Visa 4, Discover 6.
const CARD = /(?<![\d+-])[2-6](?:[ -]?\d){12,18}(?![\d-])/g;
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;
const SSN = /(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])/g;
const IPV4 = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d]|\.\d)/g;
const IPV6 =
  /(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)/g;
// International (+CC ...) or North-American (555) 123-4567 / 555-123-4567 / 555.123.4567 shapes.
const PHONE =
  /(?<![\w+])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[ .-]\d{3}[ .-]\d{4})(?![\w])/g;

// Credentials: JWTs, API keys of well-known shapes, bearer tokens, the password of a URL, and the
// value after password=/token=/api_key= and the like. What it keeps (`Bearer `, `user:`) says what was there.
const JWT = /(?<![\w-])eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}/g;
const API_KEY =
  /(?<![A-Za-z0-9])(?:[spr]k_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|AKIA[A-Z0-9]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[\w-]{35}|glpat-[\w-]{20,})/g;
const BEARER = /(\b(?:Bearer|Basic|Token)\s+)[\w.~+/=-]{8,}/gi;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^/\s@]+@/gi;
const SECRET_PARAM =
  /(\b(?:password|passwd|pwd|pass|secret|client_secret|token|access_token|refresh_token|api[_-]?key|apikey|access[_-]?key)\b["']?\s*[:=]\s*["']?)[^\s"'&,;]{3,}/gi;

function redactSecrets(text: string): string {
  const secret = DETECTOR_PLACEHOLDERS.secret;
  return text
    .replace(JWT, secret)
    .replace(API_KEY, secret)
    .replace(URL_PASSWORD, `$1${secret}@`)
    .replace(BEARER, `$1${secret}`)
    .replace(SECRET_PARAM, `$1${secret}`);
}

const REPLACERS: Record<DetectorName, Replacer> = {
  email: (text) => text.replace(EMAIL, DETECTOR_PLACEHOLDERS.email),
  creditCard: (text) =>
    text.replace(CARD, (match) =>
      luhnValid(match.replace(/[ -]/g, '')) ? DETECTOR_PLACEHOLDERS.creditCard : match,
    ),
  iban: (text) => text.replace(IBAN, (match) => (ibanValid(match) ? DETECTOR_PLACEHOLDERS.iban : match)),
  ssn: (text) =>
    text.replace(SSN, (match, area: string, group: string, serial: string) =>
      ssnValid(area, group, serial) ? DETECTOR_PLACEHOLDERS.ssn : match,
    ),
  ip: (text) =>
    text
      .replace(IPV6, (match) => (isIPv6(match) ? DETECTOR_PLACEHOLDERS.ip : match))
      .replace(IPV4, (match) => (ipv4Valid(match) ? DETECTOR_PLACEHOLDERS.ip : match)),
  phone: (text) =>
    text.replace(PHONE, (match) => {
      const digits = digitCount(match);
      return digits >= 7 && digits <= 15 ? DETECTOR_PLACEHOLDERS.phone : match;
    }),
  secret: redactSecrets,
};

// Order matters: emails and structured numbers first, so phone (the loosest shape) never claims
// part of a card number or an IBAN, and placeholders hold no digits a later detector could see.
// Secrets go first: a token's digits are no card or phone number, and its placeholder keeps none.
const ORDER: readonly DetectorName[] = ['secret', 'email', 'iban', 'creditCard', 'ssn', 'ip', 'phone'];

/** Characters every detector's match must contain: a quick skip for text that has none. */
function mayContainPii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 64 /* @ */ || c === 58 /* : */) return true;
  }
  return false;
}

/**
 * Build a function that replaces PII found in free text with placeholders (`<EMAIL>`,
 * `<CREDIT_CARD>` (Luhn-checked), `<IBAN>` (mod-97 checked), `<SSN>`, `<IP>` (v4 and v6),
 * `<PHONE>`, `<SECRET>`: JWTs, API keys, bearer tokens, URL passwords, `password=…`), keeping the rest of the text.
 * @default detectors all of `DETECTOR_NAMES`
 */
export function createDetector(
  detectors: readonly DetectorName[] = DETECTOR_NAMES,
): (text: string) => string {
  const chosen = ORDER.filter((name) => detectors.includes(name)).map((name) => REPLACERS[name]);
  const withSecrets = detectors.includes('secret');
  return (text) => {
    // Secrets can be letters only (`password=hunter`, `Bearer abcdefgh`): no quick skip for them.
    if (!mayContainPii(text)) return withSecrets ? redactSecrets(text) : text;
    let out = text;
    for (const replace of chosen) out = replace(out);
    return out;
  };
}

/** Replace every kind of PII the detectors know in `text`. */
export const redactPii: (text: string) => string = createDetector();

// A bare run of 7+ digits (not a decimal's): an account, phone, national id or request number.
const LONG_NUMBER = /(?<![\w.])\d{7,}(?!\w|\.\d)/g;

/**
 * `redactPii(text)`, and every bare number of 7 or more digits as `<NUMBER>`: for error messages,
 * which quote ids of every kind (`no account 52487448805`) and group better without them. Not in
 * the `detect` rule, where such numbers may be the data (order numbers, amounts in cents).
 */
export function redactErrorText(text: string): string {
  return redactPii(text).replace(LONG_NUMBER, '<NUMBER>');
}
