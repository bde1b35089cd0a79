import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileCaptureStore, withCapture } from '@prodprobe/capture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../program.js';
import { memoryIo } from '../test-io.js';
import type { DiagnoseReport } from './diagnose.js';

// Inside the app, so the service module resolves @prodprobe/layers as a team's service would.
const work = join(import.meta.dirname, '..', '..', `.test-other-failure-${process.pid}`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Locally the service cannot reach the store its features come from: every replay throws, but
// with another error than production's. `same.ts` fails locally exactly as production did.
const service = (message: string) => `
import { definePipeline, defineService } from '@prodprobe/layers';
export default defineService({
  name: 'lookup',
  defaultVersion: 'v1',
  load: () =>
    definePipeline([
      { name: 'fetch', kind: 'features', run: () => { throw new Error(${JSON.stringify(message)}); } },
      { name: 'score', kind: 'inference', run: (x: number) => x },
    ]),
});
`;

beforeAll(async () => {
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'other.ts'), service('connect ECONNREFUSED 127.0.0.1:9'));
  writeFileSync(join(work, 'same.ts'), service('features have 7 columns, the model wants 8'));
  const predict = withCapture(
    async (_x: { id: string }): Promise<number> => {
      throw new Error('features have 7 columns, the model wants 8');
    },
    { store: createFileCaptureStore(join(work, 'captures')), modelVersion: 'v1' },
  );
  for (let i = 0; i < 6; i++) await predict({ id: `k${i}` }).catch(() => {});
  await predict.flush();
});

async function diagnoseWith(module: string): Promise<DiagnoseReport> {
  const mem = memoryIo({ cwd: work });
  await run(
    ['node', 'prodprobe', '--json', 'diagnose', '--captures', 'captures', '--pipeline', module],
    mem.io,
  );
  return JSON.parse(mem.stdout()) as DiagnoseReport;
}

describe('diagnose: a replay that fails another way', () => {
  it('does not reproduce the captured failure: no stage is blamed, the environment is', async () => {
    const report = await diagnoseWith('other.ts');
    const [finding] = report.replays;
    expect(finding).toMatchObject({
      reproduced: false,
      verdict: 'environment',
      otherFailure: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9' },
    });
    expect(finding!.isolation).toBeUndefined();
    expect(finding!.explanation).toMatch(/fails another way \(Error: connect ECONNREFUSED 127\.0\.0\.1:9\)/);
    expect(report.rootCauses.some((c) => c.kind === 'stage-error')).toBe(false);
    expect(report.rootCauses[0]?.kind).toBe('environment');
  });

  it('the same failure locally is a reproduction, isolated to its stage', async () => {
    const report = await diagnoseWith('same.ts');
    expect(report.replays[0]).toMatchObject({ reproduced: true, verdict: 'model-or-input' });
    expect(report.replays[0]!.otherFailure).toBeUndefined();
    expect(report.rootCauses[0]).toMatchObject({ kind: 'stage-error' });
    expect(report.rootCauses[0]!.title).toContain('Stage fetch (features) throws Error');
  });
});
