import { classifyField } from './field-catalog.js';

// The parts of an address object that say where, not who: shown as they are.
const PLACE_KEYS = new Set(['city', 'province', 'state', 'region', 'district', 'country', 'postalcode', 'postcode', 'zip', 'zipcode']);

/**
 * Show the shape of a personal value without the value: `138****8000`,
 * `z***@qq.com`, `张*`. Enough for a data steward to see what is wrong with a
 * phone or an email, not enough to contact the person.
 */
export function maskValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'number') return maskValue(String(value));
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, PLACE_KEYS.has(k.toLowerCase().replace(/[\s_\-.]/g, '')) ? v : maskValue(v)]));
  }
  if (typeof value !== 'string') return '***';
  const chars = [...value];
  const at = value.lastIndexOf('@');
  if (at > 0) return `${[...value.slice(0, at)][0]}***${value.slice(at)}`;
  const digits = value.replace(/\D/g, '').length;
  // The usual Chinese masking of a mobile number; shorter numbers would give too much of themselves away.
  if (digits >= 11 && digits >= chars.length * 0.6) return `${value.slice(0, 3)}****${value.slice(-4)}`;
  if (chars.length <= 3) return `${chars.length > 1 ? chars[0] : ''}${'*'.repeat(Math.max(1, chars.length - 1))}`;
  return `${chars[0]}${'*'.repeat(Math.min(chars.length - 2, 6))}${chars[chars.length - 1]}`;
}

/** Mask a field's value when the field catalog classes it as an identifier. */
export function maskField(field: string, value: unknown): unknown {
  return classifyField(field) === 'identifier' ? maskValue(value) : value;
}
