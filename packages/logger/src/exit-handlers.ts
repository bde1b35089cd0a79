/** What `installExitHandlers` needs of a logger. */
export interface Flushable {
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): { queued: number; inFlight: number };
}

/** Options of `installExitHandlers`. */
export interface ExitHandlerOptions {
  /** Signals that flush and close the loggers, then end the process as the signal would have. @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** Called when flushing on exit fails (the process still ends). */
  onError?: (error: unknown) => void;
}

/**
 * Opt-in: flush the loggers on `beforeExit`, and on SIGTERM/SIGINT close them and then re-raise the
 * signal (so the process ends as it would have, unless another listener keeps it alive). Packages
 * never touch process signals on their own; call this once in the service's entry point.
 * Returns a function that removes the handlers.
 */
export function installExitHandlers(
  loggers: Flushable | readonly Flushable[],
  options: ExitHandlerOptions = {},
): () => void {
  const list: readonly Flushable[] = Array.isArray(loggers) ? loggers : [loggers as Flushable];
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const report = (error: unknown) => options.onError?.(error);
  let shuttingDown = false;

  const onBeforeExit = () => {
    // beforeExit fires again after async work; only flush when something is left, so it ends.
    if (list.some((l) => l.stats().queued + l.stats().inFlight > 0)) {
      Promise.all(list.map((l) => l.flush())).catch(report);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    uninstall();
    Promise.all(list.map((l) => l.close()))
      .catch(report)
      .finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  };

  process.on('beforeExit', onBeforeExit);
  for (const signal of signals) process.on(signal, onSignal);
  function uninstall(): void {
    process.off('beforeExit', onBeforeExit);
    for (const signal of signals) process.off(signal, onSignal);
  }
  return uninstall;
}
