/**
 * Deep equality that tells apart everything the codec promises to keep: NaN vs null, -0 vs 0,
 * undefined vs a missing key, holes vs undefined, bigint vs number, the typed array's type.
 * Returns a path to the first difference, or undefined when equal.
 */
export function losslessDiff(a: unknown, b: unknown, path = '$'): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a !== 'object' || a === null || b === null) return `${path}: ${String(a)} vs ${String(b)}`;
  const ta = Object.prototype.toString.call(a);
  const tb = Object.prototype.toString.call(b);
  if (ta !== tb) return `${path}: ${ta} vs ${tb}`;
  if (a instanceof Date) {
    return Object.is(a.getTime(), (b as Date).getTime()) ? undefined : `${path}: date ${a.getTime()}`;
  }
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    const x = ArrayBuffer.isView(a) ? (a as unknown as ArrayLike<unknown>) : new Uint8Array(a);
    const y = ArrayBuffer.isView(b) ? (b as unknown as ArrayLike<unknown>) : new Uint8Array(b as ArrayBuffer);
    if (x.length !== y.length) return `${path}: length ${x.length} vs ${y.length}`;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${path}[${i}]: ${x[i]} vs ${y[i]}`;
    return undefined;
  }
  if (a instanceof Map || a instanceof Set) {
    const x = [...(a as Map<unknown, unknown>).entries()];
    const y = [...(b as Map<unknown, unknown>).entries()];
    return losslessDiff(x, y, `${path}<${ta}>`);
  }
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}: length ${a.length} vs ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      if (i in a !== i in bb) return `${path}[${i}]: hole vs value`;
      const d = losslessDiff(a[i], bb[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.join('\u0000') !== kb.join('\u0000')) return `${path}: keys [${ka}] vs [${kb}]`;
  for (const k of ka) {
    const d = losslessDiff(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}.${k}`,
    );
    if (d) return d;
  }
  return undefined;
}
