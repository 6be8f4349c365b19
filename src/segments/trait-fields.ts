import { standardizeCity, standardizeProvince, standardizeUsState } from '../clean/address.js';
import { standardizeCountry } from '../clean/country.js';
import { standardizeGender } from '../clean/enums.js';
import { standardFieldOf } from '../clean/traits.js';
import { classifyField } from '../privacy/field-catalog.js';
import type { Scalar } from './rule.js';

/**
 * What a trait name in a rule stands for. Profiles hold standardized values
 * (上海市, CN, female), so a rule's values go through the same standardizers:
 * a marketer writes 上海 and the rule matches what cleaning stored.
 */

/** `$createdAt` and friends: the profile's own times, not traits a source sent. */
const PROFILE_COLUMNS: Record<string, 'created_at' | 'updated_at' | 'last_seen_at'> = {
  $createdAt: 'created_at',
  $updatedAt: 'updated_at',
  $lastSeenAt: 'last_seen_at',
};

export function profileColumnOf(trait: string): 'created_at' | 'updated_at' | 'last_seen_at' | undefined {
  return PROFILE_COLUMNS[trait];
}

export const PROFILE_COLUMN_TRAITS = Object.keys(PROFILE_COLUMNS);

/**
 * Identifier traits are encrypted at rest, so a rule cannot compare them; it
 * can ask whether a profile has one, which the identity graph answers.
 */
export function identityTraitType(trait: string): 'email' | 'phone' | 'userId' | undefined {
  if (trait === 'userId') return 'userId';
  const field = standardFieldOf(trait);
  return field === 'email' || field === 'phone' ? field : undefined;
}

/** Traits whose values are sealed: rules may not read them beyond exists/missing of an identity. */
export function isSealedTrait(trait: string): boolean {
  return classifyField(trait) === 'identifier';
}

function standardOne(trait: string, value: Scalar): Scalar {
  if (typeof value !== 'string') return value;
  const field = standardFieldOf(trait);
  const outcome =
    field === 'city' ? standardizeCity(value)
    : field === 'province' ? (standardizeProvince(value).ok ? standardizeProvince(value) : standardizeUsState(value))
    : field === 'country' ? standardizeCountry(value)
    : field === 'gender' ? standardizeGender(value)
    : undefined;
  return outcome?.ok ? outcome.value : value;
}

/** The rule's value(s) as cleaning would have stored them; unknown values are kept as written. */
export function standardRuleValue<V extends Scalar | Scalar[] | undefined>(trait: string, value: V): V {
  if (value === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => standardOne(trait, v)) as V;
  return standardOne(trait, value as Scalar) as V;
}
