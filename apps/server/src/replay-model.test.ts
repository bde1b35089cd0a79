import { generateTransactions } from '@prodprobe/fraud-model';
import { describe, expect, it } from 'vitest';
import { isFailure, loadModel } from './replay-model.js';

describe('@prodprobe/server/replay-model', () => {
  it('predicts as the service does, and a missing user_age fails its check', async () => {
    const predict = await loadModel('fraud-v1');
    expect(await loadModel('fraud-v1')).toBe(predict);
    const [t] = generateTransactions(1, { seed: 3 });
    const ok = await predict(t!.transaction);
    expect(ok.fraudProbability).toBeGreaterThanOrEqual(0);
    expect(isFailure(ok)).toBe(false);
    const { user_age: _dropped, ...missing } = t!.transaction;
    const bad = await predict(missing);
    expect(bad.fraudProbability).toBeNull();
    expect(isFailure(bad)).toMatch(/no probability/);
  });

  it('refuses a model version it does not ship', async () => {
    await expect(loadModel('fraud-v9')).rejects.toThrow(
      '@prodprobe/server ships model fraud-v1; cannot replay on fraud-v9',
    );
  });
});
