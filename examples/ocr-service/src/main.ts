import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { startService } from './service.js';

// `node dist/main.js --config config.json [--port N]`: one deployment of the service. Prints
// `{"url":...,"pid":...}` on stdout once it listens; SIGTERM or SIGINT closes it, writing what
// is still buffered.
const { values } = parseArgs({ options: { config: { type: 'string' }, port: { type: 'string' } } });
if (!values.config) {
  process.stderr.write('usage: main.js --config <config.json> [--port N]\n');
  process.exit(2);
}
const config = loadConfig(values.config);
if (values.port !== undefined) config.port = Number(values.port);
const service = await startService(config);
process.stdout.write(`${JSON.stringify({ url: service.url, pid: process.pid, env: config.env })}\n`);
let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  service.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
