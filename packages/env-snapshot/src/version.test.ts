import { describe, expect, it } from 'vitest';
import { compareVersions, versionChange } from './version.js';

describe('versionChange', () => {
  it.each([
    ['1.2.3', '1.2.3', 'none'],
    ['1.2.3', '2.0.0', 'major'],
    ['1.2.3', '1.3.0', 'minor'],
    ['1.2.3', '1.2.4', 'patch'],
    ['0.3.1', '0.4.0', 'major'],
    ['0.3.1', '0.3.2', 'minor'],
    ['1.5.6-r.1', '1.5.6-r.2', 'prerelease'],
    ['v20.11.0', 'v20.11.1', 'patch'],
    ['11.3.244.8-node.38', '11.3.244.8-node.40', 'prerelease'],
    ['latest', 'next', 'unknown'],
  ])('%s -> %s is %s', (a, b, expected) => {
    expect(versionChange(a, b)).toBe(expected);
  });

  it('compareVersions orders numerically', () => {
    expect(['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9'].sort(compareVersions)).toEqual([
      '0.9.9',
      '1.2.0-rc.1',
      '1.2.0',
      '1.10.0',
    ]);
  });
});
