/**
 * Every trait has a class (DESIGN.md "PII by class"). identifier: encrypted at
 * rest; quasi: plaintext for segmentation, masked for roles without PII access;
 * behavioral: plaintext.
 */
export type FieldClass = 'identifier' | 'quasi' | 'behavioral';

// Keys are compared lower-cased with separators removed, so `first_name`,
// `firstName` and `First Name` are one field.
// Every spelling cleaning recognises for an identifier field (clean/traits.ts) is here too: a test holds them together.
const IDENTIFIER_KEYS = new Set([
  'email', 'emails', 'emailaddress', 'phone', 'phones', 'mobile', 'mobilephone', 'mobilenumber', 'cellphone', 'phonenumber',
  'telephone', 'tel', 'name', 'firstname', 'givenname', 'lastname', 'familyname', 'surname', 'fullname',
  'middlename', 'username', 'street', 'streetaddress', 'address', 'address1', 'address2',
  'nationalid', 'idnumber', 'idcard', 'idcardnumber', 'residentid', 'ssn', 'passport', 'passportnumber',
]);
const QUASI_KEYS = new Set([
  'city', 'state', 'province', 'region', 'country', 'postalcode', 'zip', 'zipcode', 'postcode',
  'birthyear', 'birthday', 'birthdate', 'dateofbirth', 'dob', 'age', 'gender', 'sex', 'countrycode', 'title', 'company', 'timezone',
]);

/** A key as the catalog compares it: lower-cased, separators removed. */
export function foldKey(key: string): string {
  return key.toLowerCase().replace(/[\s_\-.]/g, '');
}

export function classifyField(key: string): FieldClass {
  const folded = foldKey(key);
  if (IDENTIFIER_KEYS.has(folded)) return 'identifier';
  if (QUASI_KEYS.has(folded)) return 'quasi';
  return 'behavioral';
}

export interface SplitFields {
  /** quasi and behavioral fields */
  plain: Record<string, unknown>;
  /** identifier fields, to be encrypted; null when there are none */
  secret: Record<string, unknown> | null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Split a trait or property object by class. An `address` object keeps its
 * quasi parts (city, country…) in the clear and moves the street into the secret.
 */
export function splitByClass(fields: Record<string, unknown>): SplitFields {
  const plain: Record<string, unknown> = {};
  let secret: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(fields)) {
    if (isPlainObject(value) && foldKey(key) === 'address') {
      const inner = splitByClass(value);
      if (Object.keys(inner.plain).length > 0) plain[key] = inner.plain;
      if (inner.secret) (secret ??= {})[key] = inner.secret;
    } else if (classifyField(key) === 'identifier') {
      (secret ??= {})[key] = value;
    } else {
      plain[key] = value;
    }
  }
  return { plain, secret };
}

/** Inverse of splitByClass. */
export function joinClasses(plain: Record<string, unknown>, secret: Record<string, unknown> | null): Record<string, unknown> {
  const joined: Record<string, unknown> = { ...plain };
  for (const [key, value] of Object.entries(secret ?? {})) {
    const existing = joined[key];
    joined[key] = isPlainObject(existing) && isPlainObject(value) ? { ...existing, ...value } : value;
  }
  return joined;
}
