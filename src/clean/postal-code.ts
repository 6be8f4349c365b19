import { asText, cleanIssue, cleanValue, type Cleaned } from './result.js';

export type PostalCodeIssue = 'postal_code.empty' | 'postal_code.invalid';

// Postal codes are checked only where their shape is certain; elsewhere any
// short code of letters, digits, spaces and hyphens is taken as written.
const GENERIC = /^[0-9A-Z][0-9A-Z -]{1,9}$/;

/** Trim and upper-case a postal code; refuse what cannot be one. `country` narrows the check (CN: 6 digits, US: ZIP or ZIP+4). */
export function standardizePostalCode(raw: unknown, country?: string): Cleaned<string, PostalCodeIssue> {
  const text = asText(raw);
  if (text === undefined) return cleanIssue('postal_code.invalid', 'postal code must be text');
  let value = text.normalize('NFKC').trim().toUpperCase().replace(/\s+/g, ' ');
  const rules: string[] = [];
  // Spreadsheets read New England ZIPs (02138) as numbers and drop the zero.
  if (country === 'US' && /^\d{4}(-\d{4})?$/.test(value)) {
    value = `0${value}`;
    rules.push('postal_code.leading_zero');
  }
  if (value === '') return cleanIssue('postal_code.empty', 'postal code is empty');
  const ok = country === 'CN' ? /^\d{6}$/.test(value) : country === 'US' ? /^\d{5}(-\d{4})?$/.test(value) : GENERIC.test(value);
  if (!ok) return cleanIssue('postal_code.invalid', `postal code ${country ? `is not a valid ${country} code` : 'has characters a postal code cannot have'}`);
  if (value !== text && rules.length === 0) rules.push('postal_code.trim');
  return cleanValue(value, rules);
}
