/**
 * The logger's serialization thread (`serializeInWorker`): turns batches of kept successes into
 * JSON lines with the same encoder and sanitizer as the main thread, and hands the bytes back
 * (transferred, not copied). It never writes to disk: the main thread keeps the queue, the
 * segments and the crash-time flush.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSanitizer, type SanitizePolicyInput } from '@prodprobe/sanitize';
import { createLineEncoder, type LineSettings } from './line-encoder.js';
import type { PredictionInput } from './logger.js';

/** One kept success sent to the worker. */
export interface EncodeItem {
  entry: PredictionInput;
  t: number;
  keptJson: string;
  memory: string;
}

/** A batch for the worker to encode. */
export interface EncodeRequest {
  id: number;
  items: EncodeItem[];
}

/** The encoded batch: line `i` is `data[ends[i-1] ?? 0, ends[i])`; a failed item's line is empty. */
export interface EncodeReply {
  id: number;
  data: ArrayBuffer;
  ends: Uint32Array;
  failures: { index: number; message: string }[];
}

const { settings, policy } = (workerData ?? {}) as { settings: LineSettings; policy: SanitizePolicyInput };
const encoder = createLineEncoder(settings, createSanitizer(policy));
const port = parentPort!;

port.on('message', (request: EncodeRequest) => {
  const lines: string[] = [];
  const failures: EncodeReply['failures'] = [];
  let room = 0;
  for (let i = 0; i < request.items.length; i++) {
    const item = request.items[i]!;
    try {
      const line = encoder.line(item.entry, item.t, item.keptJson, item.memory, false);
      lines.push(line);
      room += line.length * 3;
    } catch (cause) {
      failures.push({ index: i, message: cause instanceof Error ? cause.message : String(cause) });
      lines.push('');
    }
  }
  // Its own ArrayBuffer (not the shared pool), so it can be transferred.
  const data = Buffer.allocUnsafeSlow(room);
  const ends = new Uint32Array(lines.length);
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    used += data.write(lines[i]!, used);
    ends[i] = used;
  }
  const reply: EncodeReply = { id: request.id, data: data.buffer as ArrayBuffer, ends, failures };
  port.postMessage(reply, [reply.data, ends.buffer as ArrayBuffer]);
});
