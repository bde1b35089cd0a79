#!/usr/bin/env node
import { run } from './program.js';

// `prodprobe … | head` closes the pipe early: stop quietly, as other command-line tools do, rather
// than crash with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await run(process.argv);
