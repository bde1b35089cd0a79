/** One step of a rule path: an object key, an array index, or a wildcard over either. */
export type PathSegment =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'anyKey' }
  | { kind: 'anyIndex' };

/** Thrown internally by `parsePath`; the policy compiler turns it into a `SanitizeError`. */
export class PathSyntaxError extends Error {}

function isIdentChar(c: string): boolean {
  return c !== '.' && c !== '[' && c !== ']' && c !== '*' && c !== '"' && c !== "'" && c.trim() !== '';
}

/**
 * Parse a rule path: `user.email`, `items[*].sku`, `items[0]`, `meta.*`, `["odd.key"].x`.
 * `.*` matches any object key, `[*]` any array index. Keys with `.`, `[`, `]`, `*`, quotes or
 * spaces are written quoted in brackets.
 * @throws PathSyntaxError naming the position and what was expected.
 */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  let i = 0;
  const n = path.length;
  if (n === 0) throw new PathSyntaxError('empty path');
  const fail = (expected: string): never => {
    const found = i < n ? `'${path[i]}'` : 'end of path';
    throw new PathSyntaxError(`expected ${expected} at position ${i}, found ${found}`);
  };
  const readIdent = (): void => {
    if (path[i] === '*') {
      segments.push({ kind: 'anyKey' });
      i++;
      return;
    }
    const start = i;
    while (i < n && isIdentChar(path[i] as string)) i++;
    if (i === start) fail("a key or '*'");
    segments.push({ kind: 'key', key: path.slice(start, i) });
  };
  const readBracket = (): void => {
    i++; // '['
    const c = path[i];
    if (c === '*') {
      segments.push({ kind: 'anyIndex' });
      i++;
    } else if (c !== undefined && c >= '0' && c <= '9') {
      const start = i;
      while (i < n && (path[i] as string) >= '0' && (path[i] as string) <= '9') i++;
      const digits = path.slice(start, i);
      if (digits.length > 1 && digits[0] === '0') {
        i = start;
        fail('an index without leading zeros');
      }
      segments.push({ kind: 'index', index: Number(digits) });
    } else if (c === '"' || c === "'") {
      i++;
      let key = '';
      while (i < n && path[i] !== c) {
        if (path[i] === '\\' && i + 1 < n) i++;
        key += path[i];
        i++;
      }
      if (i >= n) fail(`a closing ${c}`);
      i++;
      segments.push({ kind: 'key', key });
    } else {
      fail("an index, '*' or a quoted key inside '[...]'");
    }
    if (path[i] !== ']') fail("']'");
    i++;
  };

  if (path[0] === '[') readBracket();
  else readIdent();
  while (i < n) {
    const c = path[i];
    if (c === '.') {
      i++;
      readIdent();
    } else if (c === '[') {
      readBracket();
    } else {
      fail("'.' or '['");
    }
  }
  return segments;
}
