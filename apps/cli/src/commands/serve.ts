import { closeOnSignals, loadServerConfig, startFraudService } from '@prodprobe/server';
import { CliError, printJson } from '../output.js';
import type { RegisterCommand } from '../program.js';

interface ServeOptions {
  env: string;
  port?: string;
  host?: string;
  dataDir?: string;
  debugTokenEnv?: string;
  instrumentation: boolean;
  logSampleRate?: string;
  logSerializeInWorker?: boolean;
}

/** `prodprobe serve`: the demo fraud service, configured by environment alone. */
export const registerServe: RegisterCommand = (program, io) => {
  program
    .command('serve')
    .description('run the demo fraud-model HTTP service (apps/server) as one environment')
    .option('--env <name|file.json>', 'environment config: staging, production, or a config file', 'staging')
    .option('--port <n>', 'port to listen on (0 picks a free one)')
    .option('--host <addr>', 'address to bind (default 127.0.0.1)')
    .option('--data-dir <dir>', 'where captures and logs go (default .prodprobe/<env>)')
    .option(
      '--debug-token-env <VAR>',
      'environment variable holding the bearer token for /debug/* (off when unset)',
    )
    .option('--no-instrumentation', 'serve without capture and prediction logging (a baseline)')
    .option(
      '--log-sample-rate <r>',
      "share of successful predictions the logs keep, 0 to 1 (errors are always kept; default: the config's, 0.1)",
    )
    .option(
      '--log-serialize-in-worker',
      "serialize kept log entries on the logger's worker thread (default: the config's, off)",
    )
    .action(async (options: ServeOptions, command) => {
      const port = options.port === undefined ? undefined : Number(options.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
        throw new CliError(`--port must be an integer from 0 to 65535, got "${options.port}"`);
      }
      const logSampleRate = options.logSampleRate === undefined ? undefined : Number(options.logSampleRate);
      if (
        logSampleRate !== undefined &&
        (options.logSampleRate!.trim() === '' || !(logSampleRate >= 0 && logSampleRate <= 1))
      ) {
        throw new CliError(`--log-sample-rate must be a number from 0 to 1, got "${options.logSampleRate}"`);
      }
      const debugToken = options.debugTokenEnv ? io.env[options.debugTokenEnv] : undefined;
      if (options.debugTokenEnv && !debugToken) {
        throw new CliError(`--debug-token-env ${options.debugTokenEnv}: that variable is not set`);
      }
      let config: ReturnType<typeof loadServerConfig>;
      try {
        config = loadServerConfig(
          options.env,
          {
            ...(port === undefined ? {} : { port }),
            ...(options.host ? { host: options.host } : {}),
            ...(debugToken ? { debugToken } : {}),
            ...(options.dataDir ? { dataDir: options.dataDir } : {}),
            ...(logSampleRate === undefined ? {} : { logSampleRate }),
            ...(options.logSerializeInWorker ? { logSerializeInWorker: true } : {}),
            instrumentation: options.instrumentation,
          },
          io.cwd,
        );
      } catch (error) {
        throw new CliError((error as Error).message, undefined, { cause: error });
      }
      const service = await startFraudService(config);
      const info = {
        url: service.url,
        env: config.env,
        modelVersion: config.modelVersion,
        pid: process.pid,
        dataDir: config.dataDir,
      };
      if (command.optsWithGlobals().json) printJson(io, info);
      else
        io.stdout.write(
          `prodprobe serve: ${config.env} (${config.modelVersion}) listening on ${service.url}\n`,
        );
      // Keep running until SIGTERM/SIGINT; then flush captures and logs and return.
      await new Promise<void>((resolve, reject) => {
        closeOnSignals(service, (error) => (error ? reject(error) : resolve()));
      });
    });
};
