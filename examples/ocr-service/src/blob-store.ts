import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Options of {@link startBlobStore}. */
export interface BlobStoreOptions {
  /**
   * Share of keys kept on a slow tier (chosen by a hash of the key, so always the same keys).
   * @default 0
   */
  slowShare?: number;
  /** How long a read from the slow tier takes. @default 0 */
  slowMs?: number;
  /** How long an idle client connection is kept open. @default 60000 (a typical load balancer's) */
  keepAliveTimeoutMs?: number;
}

/** A blob store on 127.0.0.1: `GET /blobs/<key>` answers the bytes `put` stored. */
export interface BlobStore {
  url: string;
  put(key: string, bytes: Uint8Array): void;
  /** Whether reads of `key` take the slow tier. */
  isSlow(key: string): boolean;
  /** Reads served and client connections opened so far. */
  stats(): { reads: number; slowReads: number; connections: number };
  close(): Promise<void>;
}

/** Starts the blob store (an HTTP server of its own: the service reaches it over loopback). */
export async function startBlobStore(options: BlobStoreOptions = {}): Promise<BlobStore> {
  const { slowShare = 0, slowMs = 0, keepAliveTimeoutMs = 60_000 } = options;
  const blobs = new Map<string, Uint8Array>();
  const counts = { reads: 0, slowReads: 0, connections: 0 };
  const isSlow = (key: string) =>
    slowShare > 0 && createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32 < slowShare;
  const server: Server = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '').replace(/^\/blobs\//, ''));
    const blob = req.method === 'GET' && req.url?.startsWith('/blobs/') ? blobs.get(key) : undefined;
    if (!blob) {
      res.writeHead(404).end();
      return;
    }
    counts.reads++;
    const send = () => res.writeHead(200, { 'content-type': 'image/png' }).end(blob);
    if (isSlow(key)) {
      counts.slowReads++;
      setTimeout(send, slowMs);
    } else send();
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', () => counts.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    put: (key, bytes) => void blobs.set(key, bytes),
    isSlow,
    stats: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
