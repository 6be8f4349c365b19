import { classifyField } from './field-catalog.js';

/**
 * Show the shape of a personal value without the value: `138****8000`,
 * `z***@qq.com`, `张*`. Enough for a data steward to see what is wrong with a
 * phone or an email, not enough to contact the person.
 */
export function maskValue(value: unknown): unknown {
  if (typeof value === 'number') return maskValue(String(value));
  // An address object keeps its quasi parts (city, province…) readable; only the street is hidden.
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskField(k, v)]));
  if (typeof value !== 'string') return value === null || value === undefined ? value : '***';
  const chars = [...value];
  const at = value.lastIndexOf('@');
  if (at > 0) return `${[...value.slice(0, at)][0]}***${value.slice(at)}`;
  const digits = value.replace(/\D/g, '');
  if (digits.length >= 7 && digits.length >= chars.length * 0.6) return `${value.slice(0, 3)}****${value.slice(-4)}`;
  if (chars.length <= 1) return '*';
  if (chars.length <= 3) return `${chars[0]}${'*'.repeat(chars.length - 1)}`;
  return `${chars[0]}${'*'.repeat(Math.min(chars.length - 2, 6))}${chars[chars.length - 1]}`;
}

/** Mask a field's value when the field catalog classes it as an identifier. */
export function maskField(field: string, value: unknown): unknown {
  return classifyField(field) === 'identifier' || /nationalid|idnumber|idcard/i.test(field) ? maskValue(value) : value;
}
