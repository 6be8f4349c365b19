/**
 * What every standardizer in clean/ answers: the standard value with the
 * rules that produced it, or a typed issue saying why there is none. Bad
 * input is a value here, never an exception.
 */
export type Cleaned<T, I extends string = string> = CleanValue<T> | CleanIssue<I>;

export interface CleanValue<T> {
  ok: true;
  value: T;
  /** ids of the rules that changed the input (`phone.e164`, `name.proper_case`…); empty when it was already standard */
  rules: readonly string[];
  /** worth a data steward's look, but the value stands: `email.disposable`, `email.domain_typo`… */
  flags: readonly CleanFlag[];
}

export interface CleanIssue<I extends string = string> {
  ok: false;
  /** `<field kind>.<reason>`, e.g. `phone.invalid`, `date.ambiguous` */
  issue: I;
  /** one sentence for people, naming what is wrong */
  reason: string;
}

export interface CleanFlag {
  code: string;
  message: string;
  /** a proposed fix, e.g. the corrected email for a domain typo */
  suggestion?: string;
}

const NO_FLAGS: readonly CleanFlag[] = Object.freeze([]);
const NO_RULES: readonly string[] = Object.freeze([]);

export function cleanValue<T>(value: T, rules: readonly string[] = NO_RULES, flags: readonly CleanFlag[] = NO_FLAGS): CleanValue<T> {
  return { ok: true, value, rules, flags };
}

export function cleanIssue<I extends string>(issue: I, reason: string): CleanIssue<I> {
  return { ok: false, issue, reason };
}

/**
 * Rule ids by bit, as one frozen array per combination: a standardizer runs
 * for millions of rows, the same few combinations recur, and sharing them
 * keeps a result from allocating more than itself.
 */
export function ruleMasks(ids: ReadonlyArray<readonly [bit: number, id: string]>): (mask: number) => readonly string[] {
  const cache: (readonly string[] | undefined)[] = [];
  return (mask) => {
    let rules = cache[mask];
    if (rules === undefined) {
      rules = Object.freeze(ids.filter(([bit]) => (mask & bit) !== 0).map(([, id]) => id));
      cache[mask] = rules;
    }
    return rules;
  };
}

/** A value as text for a standardizer: strings as they are, finite numbers in decimal, anything else undefined. */
export function asText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw === 'bigint') return raw.toString();
  return undefined;
}

/** Countries (ISO 3166-1 alpha-2) national-format phones and addresses are tried against, in order. */
export const DEFAULT_COUNTRIES: readonly string[] = Object.freeze(['CN', 'US']);
