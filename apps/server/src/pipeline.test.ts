import { generateTransactions } from '@prodprobe/fraud-model';
import { isolate } from '@prodprobe/layers';
import { describe, expect, it } from 'vitest';
import service from './pipeline.js';

describe('@prodprobe/server/pipeline', () => {
  it('predicts as the service does, and a missing user_age fails its check in the preprocess stage', async () => {
    const predict = await service.loadModel('fraud-v1');
    const [t] = generateTransactions(1, { seed: 3 });
    const ok = await predict(t!.transaction);
    expect(ok.fraudProbability).toBeGreaterThanOrEqual(0);
    expect(service.isFailure!(ok)).toBe(false);
    const { user_age: _dropped, ...missing } = t!.transaction;
    const bad = await predict(missing);
    expect(bad.fraudProbability).toBeNull();
    expect(service.isFailure!(bad)).toMatch(/no probability/);
    const pipeline = await service.pipeline('fraud-v1');
    expect(pipeline.stages.map((s) => s.kind)).toEqual([
      'validation',
      'features',
      'preprocessing',
      'inference',
      'postprocessing',
    ]);
    expect((await isolate(pipeline, missing)).nonFiniteOrigin).toBe('preprocess');
  });

  it('refuses a model version it does not ship', async () => {
    await expect(service.loadModel('fraud-v9')).rejects.toThrow(
      '@prodprobe/server ships model fraud-v1; cannot replay on fraud-v9',
    );
  });
});
