/**
 * PostgreSQL text and jsonb cannot hold U+0000 nor unpaired UTF-16 surrogates,
 * and JSON from SDKs sometimes carries both (C strings, truncated emoji). Such
 * text is repaired before it is stored: NUL removed, a lone surrogate → U+FFFD.
 */
export interface StorableResult<T> {
  value: T;
  /** paths (a.b[2].c) where text was repaired */
  repaired: string[];
}

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/g;

function repairText(text: string): string {
  return text.replace(NUL, '').toWellFormed();
}

function needsRepair(text: string): boolean {
  return text.includes('\u0000') || !text.isWellFormed();
}

function anyUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return needsRepair(value);
  if (Array.isArray(value)) return value.some(anyUnstorable);
  if (typeof value === 'object' && value !== null) {
    for (const key in value) {
      if (needsRepair(key) || anyUnstorable((value as Record<string, unknown>)[key])) return true;
    }
  }
  return false;
}

export function makeStorable<T>(input: T): StorableResult<T> {
  // Nearly all input is clean: look before copying.
  if (!anyUnstorable(input)) return { value: input, repaired: [] };
  const repaired: string[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      if (!needsRepair(value)) return value;
      repaired.push(path || 'body');
      return repairText(value);
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) {
        const safeKey = needsRepair(key) ? repairText(key) : key;
        const innerPath = path ? `${path}.${safeKey}` : safeKey;
        if (safeKey !== key) repaired.push(innerPath);
        out[safeKey] = walk(inner, innerPath);
      }
      return out;
    }
    return value;
  };
  const value = walk(input, '') as T;
  return { value, repaired: [...new Set(repaired)] };
}
