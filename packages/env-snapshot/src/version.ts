/** How far apart two version strings are. */
export type VersionChange = 'none' | 'major' | 'minor' | 'patch' | 'prerelease' | 'unknown';

interface Parsed {
  parts: number[];
  pre: string;
}

function parse(version: string): Parsed | undefined {
  const m = /^v?(\d+(?:\.\d+)*)(?:[-+_]?([0-9A-Za-z.+-]*))?$/.exec(version.trim());
  if (!m) return undefined;
  return { parts: m[1]!.split('.').map(Number), pre: m[2] ?? '' };
}

/**
 * Classifies the change between two versions (`1.2.3`, `v20.11.0`, `11.3.244.8-node.38`).
 * Below 1.0.0 a minor bump counts as major and a patch bump as minor, as semver's caret range
 * treats them (anything may break in 0.x). Unparseable versions that differ are `unknown`.
 */
export function versionChange(a: string, b: string): VersionChange {
  if (a === b) return 'none';
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return 'unknown';
  const [a0 = 0, a1 = 0, ...aRest] = pa.parts;
  const [b0 = 0, b1 = 0, ...bRest] = pb.parts;
  if (a0 !== b0) return 'major';
  const restDiffers = aRest.length !== bRest.length || aRest.some((n, i) => n !== bRest[i]);
  if (a0 === 0) {
    if (a1 !== b1) return 'major';
    if (restDiffers) return 'minor';
  } else {
    if (a1 !== b1) return 'minor';
    if (restDiffers) return 'patch';
  }
  return pa.pre === pb.pre ? 'none' : 'prerelease';
}

/** Sorts versions ascending by their numeric parts (unparseable ones last, as strings). */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < Math.max(pa.parts.length, pb.parts.length); i++) {
    const d = (pa.parts[i] ?? 0) - (pb.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === '') return 1;
  if (pb.pre === '') return -1;
  return pa.pre < pb.pre ? -1 : 1;
}
