import { defineWorkspaceProject } from '../../vitest.shared.ts';

// The end-to-end tests start real service processes and run the built CLI: generous timeouts,
// since the machine is shared and each test sends real traffic.
export default defineWorkspaceProject('example-ocr', {
  include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  testTimeout: 240_000,
  hookTimeout: 240_000,
  // After every other project: these load both cores for about two minutes, which would make the
  // timing-sensitive tests elsewhere (crash safety, latency bounds) run on a starved machine.
  sequence: { groupOrder: 1 },
});
