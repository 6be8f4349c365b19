import type { StandardField } from './traits.js';

/** What cleaning does to each standard field (docs/cleaning.md), in a line: the field catalog shows it until someone writes a rule of their own. */
export const STANDARD_FIELD_RULES: Record<StandardField, string> = {
  email: 'trimmed, NFKC, lower case; syntax checked; disposable domains flagged',
  phone: 'E.164 via libphonenumber, with the source\'s default country',
  name: 'trimmed; CJK spaces removed; Western proper case; "Last, First" reordered',
  firstName: 'cleaned together with lastName',
  lastName: 'cleaned together with firstName',
  birthday: 'YYYY-MM-DD; impossible dates refused',
  gender: 'male, female, other or unknown',
  age: 'whole number 0–150',
  country: 'ISO 3166-1 alpha-2',
  province: 'CN: full official name; US: state code',
  city: 'CN: full official name; elsewhere proper case',
  address: 'split into street, district, city, province or state, postal code, country',
  postalCode: 'CN 6 digits; US ZIP or ZIP+4',
  nationalId: 'China resident ID, checksum validated',
  createdAt: 'ISO 8601 instant',
};
