import { defineWorkspaceProject } from '../vitest.shared.ts';

export default defineWorkspaceProject('repo', { include: ['*.test.ts'], testTimeout: 300_000 });
