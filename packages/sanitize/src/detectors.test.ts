import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDetector, ibanValid, luhnValid, redactErrorText, redactPii } from './index.js';

describe('PII detectors: true positives', () => {
  it.each([
    ['email', 'write to jane.doe+tag@mail.example.co.uk now', 'write to <EMAIL> now'],
    ['email (rare local chars)', "o'brien!x@corp.io", '<EMAIL>'],
    ['phone, international', 'call +49 151 12345678.', 'call <PHONE>.'],
    ['phone, E.164 compact', 'sms +447911123456', 'sms <PHONE>'],
    ['phone, NANP with parens', 'tel (555) 123-4567', 'tel <PHONE>'],
    ['phone, NANP dashes', 'tel 555-123-4567', 'tel <PHONE>'],
    ['phone, NANP dots', 'tel 555.123.4567', 'tel <PHONE>'],
    ['phone, +1 with parens', '+1 (555) 123-4567', '<PHONE>'],
    ['credit card, Visa grouped', 'card 4111 1111 1111 1111 ok', 'card <CREDIT_CARD> ok'],
    ['credit card, Mastercard dashes', '5500-0000-0000-0004', '<CREDIT_CARD>'],
    ['credit card, Amex 15 digits', 'amex 378282246310005', 'amex <CREDIT_CARD>'],
    ['credit card, compact', 'pan=4012888888881881;', 'pan=<CREDIT_CARD>;'],
    ['IBAN, grouped', 'IBAN DE89 3704 0044 0532 0130 00 thanks', 'IBAN <IBAN> thanks'],
    ['IBAN, compact', 'GB82WEST12345698765432', '<IBAN>'],
    ['IBAN, short country (NO, 15)', 'NO9386011117947', '<IBAN>'],
    ['IPv4', 'from 192.168.1.20, port 80', 'from <IP>, port 80'],
    ['IPv6 full', 'addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 end', 'addr <IP> end'],
    ['IPv6 compressed', 'via fe80::1ff:fe23:4567:890a', 'via <IP>'],
    ['IPv6 loopback', 'bind ::1 only', 'bind <IP> only'],
    ['SSN', 'ssn 123-45-6789.', 'ssn <SSN>.'],
  ])('%s', (_kind, input, expected) => {
    expect(redactPii(input)).toBe(expected);
  });

  it('finds several kinds in one text', () => {
    expect(redactPii('a@b.io, 10.0.0.1, 078-05-1120, 4111111111111111, (212) 555-0100')).toBe(
      '<EMAIL>, <IP>, <SSN>, <CREDIT_CARD>, <PHONE>',
    );
  });

  it('property: any generated email address is found', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        expect(redactPii(`mail ${email} please`)).toBe('mail <EMAIL> please');
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('property: any valid IPv4 address is found', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(redactPii(`ip ${ip}`)).toBe('ip <IP>');
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('property: any IPv6 address is found', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        expect(redactPii(`ip ${ip} .`)).toBe('ip <IP> .');
      }),
      { numRuns: 300, seed: 13 },
    );
  });
});

describe('secret detector', () => {
  it.each([
    [
      'a JWT',
      'got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk ok',
      'got <SECRET> ok',
    ],
    ['a Stripe key', 'key sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'key <SECRET>'],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE denied', '<SECRET> denied'],
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', '<SECRET>'],
    ['a bearer token', 'Authorization: Bearer abcdefghijkl', 'Authorization: Bearer <SECRET>'],
    [
      'a password in a URL',
      'connect postgres://app:hunter2@db:5432/x failed',
      'connect postgres://app:<SECRET>@db:5432/x failed',
    ],
    [
      'password=',
      'login password=hunter and token: "tok-12"',
      'login password=<SECRET> and token: "<SECRET>"',
    ],
  ])('%s', (_kind, input, expected) => {
    expect(redactPii(input)).toBe(expected);
  });

  it.each([
    ['config words', 'max_tokens=512 tokenizer=bpe tokens: 12 password_policy=strict'],
    ['a URL without a password', 'https://example.com/a?b=1 and http://host:8080/x'],
  ])('leaves %s alone', (_kind, input) => {
    expect(redactPii(input)).toBe(input);
  });
});

describe('redactErrorText', () => {
  it('also replaces bare numbers of 7+ digits, not decimals or shorter ones', () => {
    expect(redactErrorText('no account 52487448805 (user a@b.io), retry 3 of 1234567.5, order 1182.')).toBe(
      'no account <NUMBER> (user <EMAIL>), retry 3 of 1234567.5, order 1182.',
    );
    expect(redactErrorText('id 5553495525.')).toBe('id <NUMBER>.');
    expect(redactErrorText('v1.2.3 at file.ts:12:5')).toBe('v1.2.3 at file.ts:12:5');
  });
});

describe('PII detectors: false positives', () => {
  it.each([
    ['card number failing Luhn', 'order 4111 1111 1111 1112'],
    ['16-digit id failing Luhn', 'id 1234567812345678'],
    ['digits starting with 0, 1, 7-9 are not card numbers', 'ref 0000000000000000 and 7992739871300000'],
    ['IBAN with a wrong check digit', 'DE88 3704 0044 0532 0130 00'],
    ['IBAN-like product code', 'SKU AB12CDEF34567890'],
    ['IPv4 with an octet over 255', 'value 256.1.1.1 and 10.0.0.999'],
    ['version numbers', 'upgraded to 1.2.3 then 1.2.3.4.5'],
    ['time of day', 'at 12:30:45 today'],
    ['C++ scope', 'std::vector and Foo::Bar'],
    ['ISO date', 'on 2024-01-15 at noon'],
    ['SSN with an invalid area', 'code 000-12-3456, 666-12-3456 or 900-12-3456'],
    ['SSN with zero group or serial', '123-00-4567 and 123-45-0000'],
    ['short numbers', 'qty 12345 price 99.95'],
    ['an at-sign that is not an email', 'meet @ noon, @handle, a@b'],
    ['decimal amount', 'total 1234567.89 EUR'],
    ['plain words', 'The quick brown fox jumps over the lazy dog'],
  ])('%s', (_kind, input) => {
    expect(redactPii(input)).toBe(input);
  });

  it('property: text without digits, "@" or ":" comes back unchanged', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[^0-9@:]*$/), (text) => {
        expect(redactPii(text)).toBe(text);
      }),
      { numRuns: 300, seed: 14 },
    );
  });
});

describe('detector selection and checksums', () => {
  it('runs only the chosen detectors', () => {
    const onlyIp = createDetector(['ip']);
    expect(onlyIp('a@b.io from 10.1.2.3')).toBe('a@b.io from <IP>');
  });

  it('luhnValid and ibanValid follow the standards', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('DE89 3704 0044 0532 0130 01')).toBe(false);
    expect(ibanValid('FR1420041010050500013M02606')).toBe(true);
    expect(ibanValid('XX')).toBe(false);
  });
});
