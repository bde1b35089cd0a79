import { createFraudService, type FraudService } from './app.js';
import type { ResolvedServerConfig } from './config.js';

/** A listening service and its address. */
export interface RunningService extends FraudService {
  url: string;
}

/** Creates the service and listens on the configured host (127.0.0.1 by default) and port. */
export async function startFraudService(config: ResolvedServerConfig): Promise<RunningService> {
  const service = await createFraudService(config);
  const url = await service.app.listen({ host: config.host, port: config.port });
  return { ...service, url };
}

/**
 * Closes the service on SIGTERM or SIGINT, flushing captures and logs first, then lets the
 * process exit. Returns a function that removes the handlers.
 */
export function closeOnSignals(service: FraudService, onClosed: (error?: unknown) => void): () => void {
  let closing = false;
  const handler = () => {
    if (closing) return;
    closing = true;
    service.close().then(
      () => onClosed(),
      (error: unknown) => onClosed(error),
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
