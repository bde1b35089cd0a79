import { defineWorkspaceProject } from '../vitest.shared.ts';

// The fault-injection suite: real processes, real files, a real server on 127.0.0.1.
// Each test file adds rows to the table the global teardown prints (`fault | cases | lost | figure`).
// FAULTS_LONG=1 (`pnpm test:faults --long`) runs the long variants.
export default defineWorkspaceProject('faults', {
  include: ['*.test.ts'],
  testTimeout: 600_000,
  hookTimeout: 120_000,
  globalSetup: ['./table-setup.ts'],
  // After every other project, one file at a time: kills and full disks are timing-sensitive.
  sequence: { groupOrder: 2 },
  fileParallelism: false,
});
