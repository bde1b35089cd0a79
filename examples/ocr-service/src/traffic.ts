import { encode } from 'fast-png';
import type { BlobStore } from './blob-store.js';

/** A 5 × 7 bitmap font: enough glyphs to render text lines the classifier recognises as text. */
const FONT: Record<string, string> = {
  A: '01110100011000111111100011000110001',
  B: '11110100011000111110100011000111110',
  C: '01110100011000010000100001000101110',
  D: '11110100011000110001100011000111110',
  E: '11111100001000011110100001000011111',
  F: '11111100001000011110100001000010000',
  G: '01110100011000010111100011000101111',
  H: '10001100011000111111100011000110001',
  I: '01110001000010000100001000010001110',
  K: '10001100101010011000101001001010001',
  L: '10000100001000010000100001000011111',
  M: '10001110111010110101100011000110001',
  N: '10001110011010110011100011000110001',
  O: '01110100011000110001100011000101110',
  P: '11110100011000111110100001000010000',
  R: '11110100011000111110101001001010001',
  S: '01111100001000001110000010000111110',
  T: '11111001000010000100001000010000100',
  U: '10001100011000110001100011000101110',
  Y: '10001100010101000100001000010000100',
  a: '00000000000111000001011111000101111',
  d: '00001000010110110011100011000101111',
  e: '00000000000111010001111111000001110',
  g: '00000000000111110001011110000101110',
  h: '10000100001011011001100011000110001',
  i: '00100000000110000100001000010001110',
  l: '01100001000010000100001000010001110',
  n: '00000000001011011001100011000110001',
  o: '00000000000111010001100011000101110',
  p: '00000000001111010001111101000010000',
  r: '00000000001011011001100001000010000',
  s: '00000000000111010000011100000111110',
  t: '01000010001110001000010000100100110',
  y: '00000000001000110001011110000101110',
  '0': '01110100011001110101110011000101110',
  '1': '00100011000010000100001000010001110',
  '2': '01110100010000100010001000100011111',
  '3': '11111000100010000010000011000101110',
  '4': '00010001100101010010111110001000010',
  '5': '11111100001111000001000011000101110',
  '6': '00110010001000011110100011000101110',
  '7': '11111000010001000100010000100001000',
  '8': '01110100011000101110100011000101110',
  '9': '01110100011000101111000010001001100',
};
const DESCENDERS = new Set(['g', 'p', 'y']);
const WORDS = [
  'Invoice',
  'Total',
  'Payment',
  'Delivery',
  'Parking',
  'Tenant',
  'STREET',
  'Danger',
  'Receipt',
  'Order',
  'Address',
  'Shipping',
  'Balance',
  'Deposit',
  'Station',
  'Platform',
  'Gate',
  'Hotel',
  'Reading',
  'Harbor',
];

/** One text line of the traffic, with what the classifier should answer. */
export interface TextLine {
  id: string;
  text: string;
  /** 0 upright, 180 upside down: the true answer. */
  angle: 0 | 180;
  /** A blank crop (no text): what a text detector sends when it boxes an empty region. */
  blank: boolean;
  png: Uint8Array;
}

/** mulberry32: a small seeded generator, so the same seed gives the same traffic everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Renders `text` dark on light paper, glyphs `scale` pixels per dot, with scanner noise. */
function render(
  text: string,
  scale: number,
  rand: () => number,
): { width: number; height: number; data: Uint8Array } {
  const cell = 6 * scale;
  const width = text.length * cell + 3 * scale;
  const height = 11 * scale;
  const paper = 205 + Math.floor(rand() * 45);
  const ink = 15 + Math.floor(rand() * 50);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = paper - Math.floor(rand() * 12);
  [...text].forEach((ch, k) => {
    const glyph = FONT[ch];
    if (!glyph) return;
    const drop = DESCENDERS.has(ch) ? 2 : 0;
    for (let r = 0; r < 7; r++) {
      for (let c = 0; c < 5; c++) {
        if (glyph[r * 5 + c] !== '1') continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const y = scale + (r + drop) * scale + dy;
            const x = 2 * scale + k * cell + c * scale + dx;
            data[y * width + x] = ink + Math.floor(rand() * 10);
          }
        }
      }
    }
  });
  return { width, height, data };
}

/** Options of {@link textLines}. */
export interface TextLineOptions {
  /** Share of lines sent upside down. @default 0.5 */
  rotatedShare?: number;
  /** Share of blank crops. @default 0 */
  blankShare?: number;
  /** Prefix of the line ids. @default 'line' */
  prefix?: string;
}

/**
 * `count` text lines from `seed`: words and numbers rendered at 2-3 pixels per dot, half of them
 * rotated by 180°, as PNGs (8-bit gray) the way a text detector hands crops to the classifier.
 */
export function textLines(seed: number, count: number, options: TextLineOptions = {}): TextLine[] {
  const { rotatedShare = 0.5, blankShare = 0, prefix = 'line' } = options;
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const lines: TextLine[] = [];
  for (let i = 0; i < count; i++) {
    const blank = rand() < blankShare;
    const text = blank
      ? ''
      : rand() < 0.75
        ? pick(WORDS)
        : `${pick(WORDS).slice(0, 3)}${Math.floor(rand() * 9000 + 1000)}`;
    const scale = 2 + Math.floor(rand() * 2);
    // A blank crop is as wide as a short word, paper and noise only.
    const img = render(blank ? ' '.repeat(4 + Math.floor(rand() * 5)) : text, scale, rand);
    const angle = rand() < rotatedShare ? 180 : 0;
    if (angle === 180) img.data.reverse();
    lines.push({
      id: `${prefix}-${seed}-${i}`,
      text,
      angle,
      blank,
      png: encode({ width: img.width, height: img.height, data: img.data, channels: 1, depth: 8 }),
    });
  }
  return lines;
}

/** Where the traffic goes: the current address of a (supervised) service. */
export interface Target {
  url(): string;
  /** Resolves once the service answers again (after a restart). */
  ready(): Promise<void>;
}

/** What one traffic run saw from the client's side. */
export interface TrafficReport {
  sent: number;
  /** Answered 200 with an orientation. */
  ok: number;
  /** Answered with an error status. */
  failed: number;
  /** No answer: the connection was refused or reset (the process died or restarted). */
  unreachable: number;
  /** Answers with the true angle, of the `ok` ones (blank crops have none). */
  correct: number;
  latenciesMs: number[];
}

/**
 * Sends every line to `POST /classify`, `concurrency` at a time: inline as base64, or with
 * `blobStore` put there first and sent as its key. After a connection error it waits for the
 * service to come back before it goes on, as a load balancer's retry would.
 */
export async function sendTraffic(
  target: Target,
  lines: readonly TextLine[],
  options: { concurrency?: number; blobStore?: Pick<BlobStore, 'put'> } = {},
): Promise<TrafficReport> {
  const { concurrency = 1, blobStore } = options;
  const report: TrafficReport = { sent: 0, ok: 0, failed: 0, unreachable: 0, correct: 0, latenciesMs: [] };
  let next = 0;
  const worker = async () => {
    while (next < lines.length) {
      const n = next++;
      const line = lines[n]!;
      let body: Record<string, string>;
      if (blobStore) {
        blobStore.put(line.id, line.png);
        body = { id: line.id, blob: line.id };
      } else body = { id: line.id, png: Buffer.from(line.png).toString('base64') };
      report.sent++;
      const t0 = performance.now();
      try {
        const res = await fetch(`${target.url()}/classify`, {
          method: 'POST',
          // A line may be sent more than once; every request has its own id.
          headers: { 'content-type': 'application/json', 'x-request-id': `${line.id}.${n}` },
          body: JSON.stringify(body),
        });
        const answer = (await res.json()) as { angle?: number };
        report.latenciesMs.push(performance.now() - t0);
        if (res.ok) {
          report.ok++;
          if (!line.blank && answer.angle === line.angle) report.correct++;
        } else report.failed++;
      } catch {
        report.unreachable++;
        await target.ready();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return report;
}
