import { defineWorkspaceProject } from '../vitest.shared.ts';

export default defineWorkspaceProject('bench', { include: ['*.test.ts'], testTimeout: 300_000 });
