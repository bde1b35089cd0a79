/**
 * An input's anomaly signature: which fields are missing, null, NaN, ±Infinity, an empty list, or a
 * string where the reference has numbers. Failures of one error class with different signatures
 * usually have different causes (a NaN in one field vs another field missing), so each signature
 * is replayed on its own.
 */
export interface InputAnomaly {
  field: string;
  kind: 'missing' | 'null' | 'nan' | 'infinite' | 'non-numeric-string' | 'empty-array';
  /** The value as captured (sanitized), for evidence. */
  value?: string;
}

/** Fields and their kind in the reference data, when known. */
export type FieldKinds = ReadonlyMap<string, 'numeric' | 'categorical' | 'other'>;

/** The anomalies of one (flat) input record, in field order. */
export function inputAnomalies(input: unknown, fields: FieldKinds): InputAnomaly[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const row = input as Record<string, unknown>;
  const out: InputAnomaly[] = [];
  for (const field of fields.keys()) {
    if (!(field in row) || row[field] === undefined) out.push({ field, kind: 'missing' });
  }
  for (const [field, value] of Object.entries(row)) {
    if (value === null) out.push({ field, kind: 'null' });
    else if (typeof value === 'number' && Number.isNaN(value)) out.push({ field, kind: 'nan' });
    else if (typeof value === 'number' && !Number.isFinite(value))
      out.push({ field, kind: 'infinite', value: String(value) });
    else if (Array.isArray(value) && value.length === 0) out.push({ field, kind: 'empty-array' });
    else if (typeof value === 'string' && fields.get(field) === 'numeric') {
      out.push({ field, kind: 'non-numeric-string', value });
    }
  }
  return out;
}

/** A stable key for a set of anomalies (`"none"` when the input looks clean). */
export function signatureKey(anomalies: readonly InputAnomaly[]): string {
  if (anomalies.length === 0) return 'none';
  return anomalies
    .map((a) => `${a.field}:${a.kind}`)
    .sort()
    .join(',');
}

/** A phrase for people: `price is the string "NaN"`, `age is missing`. */
export function describeAnomaly(a: InputAnomaly): string {
  switch (a.kind) {
    case 'missing':
      return `${a.field} is missing`;
    case 'null':
      return `${a.field} is null`;
    case 'nan':
      return `${a.field} is NaN`;
    case 'infinite':
      return `${a.field} is ${a.value}`;
    case 'empty-array':
      return `${a.field} is an empty list`;
    case 'non-numeric-string':
      return `${a.field} is the string ${JSON.stringify(a.value)} where numbers are expected`;
  }
}
