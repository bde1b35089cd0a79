import { decode } from 'fast-png';

/** A grayscale image, row-major; values 0..255 as decoded, 0..1 after `cropToText`. */
export interface GrayImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** The classifier's input: 3 × 48 × 192, values in −1..1 (PaddleOCR's normalisation). */
export const TENSOR_HEIGHT = 48;
export const TENSOR_WIDTH = 192;
export const TENSOR_SIZE = 3 * TENSOR_HEIGHT * TENSOR_WIDTH;

/** Decodes a PNG (gray, gray + alpha, RGB or RGBA; 8 or 16 bits) to grayscale 0..255. */
export function decodeGray(bytes: Uint8Array): GrayImage {
  const png = decode(bytes);
  const { width, height, channels } = png;
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4)
    throw new TypeError(`unsupported PNG: ${channels} channels`);
  const scale = png.depth === 16 ? 255 / 65535 : 1;
  const data = new Float32Array(width * height);
  const src = png.data;
  for (let i = 0; i < data.length; i++) {
    const at = i * channels;
    // Luma of RGB(A); the gray channel of gray(+alpha).
    const v = channels >= 3 ? 0.299 * src[at]! + 0.587 * src[at + 1]! + 0.114 * src[at + 2]! : src[at]!;
    data[i] = v * scale;
  }
  return { width, height, data };
}

function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean of an empty list');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** How much darker than the paper a pixel must be to count as ink. */
const INK_CONTRAST = 64;
const MARGIN = 2;

/**
 * Trims the paper around the text and stretches its contrast: ink 0, paper 1. The stroke level is
 * the mean of the ink pixels, so faint and dark scans look alike to the classifier.
 */
export function cropToText(img: GrayImage): GrayImage {
  const { width, height, data } = img;
  let paper = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > paper) paper = data[i]!;
  const ink: number[] = [];
  let x0 = width;
  let x1 = -1;
  let y0 = height;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x]!;
      if (v >= paper - INK_CONTRAST) continue;
      ink.push(v);
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  const stroke = mean(ink);
  x0 = Math.max(0, x0 - MARGIN);
  y0 = Math.max(0, y0 - MARGIN);
  x1 = Math.min(width - 1, x1 + MARGIN);
  y1 = Math.min(height - 1, y1 + MARGIN);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = (data[(y + y0) * width + x + x0]! - stroke) / (paper - stroke);
      out[y * w + x] = Math.min(1, Math.max(0, v));
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * Resizes the line to 48 pixels high (width in proportion, at most 192; bilinear), normalises to
 * −1..1 and writes it into `out` as 3 × 48 × 192, padded with 0 on the right.
 */
export function writeTensor(img: GrayImage, out: Float32Array): Float32Array {
  out.fill(0);
  const { width, height, data } = img;
  const w = Math.max(1, Math.min(TENSOR_WIDTH, Math.ceil((TENSOR_HEIGHT * width) / height)));
  const plane = TENSOR_HEIGHT * TENSOR_WIDTH;
  for (let y = 0; y < TENSOR_HEIGHT; y++) {
    const sy = Math.min(height - 1, Math.max(0, ((y + 0.5) * height) / TENSOR_HEIGHT - 0.5));
    const ya = Math.floor(sy);
    const yb = Math.min(height - 1, ya + 1);
    const fy = sy - ya;
    for (let x = 0; x < w; x++) {
      const sx = Math.min(width - 1, Math.max(0, ((x + 0.5) * width) / w - 0.5));
      const xa = Math.floor(sx);
      const xb = Math.min(width - 1, xa + 1);
      const fx = sx - xa;
      const top = data[ya * width + xa]! * (1 - fx) + data[ya * width + xb]! * fx;
      const bottom = data[yb * width + xa]! * (1 - fx) + data[yb * width + xb]! * fx;
      const v = (top * (1 - fy) + bottom * fy - 0.5) / 0.5;
      const at = y * TENSOR_WIDTH + x;
      out[at] = v;
      out[plane + at] = v;
      out[2 * plane + at] = v;
    }
  }
  return out;
}
