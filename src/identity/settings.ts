import { Type, type Static } from '@sinclair/typebox';
import type { BuiltInIdentityType } from './identifiers.js';

/** How one identity type links profiles: lower priority numbers win a conflict; `limit` is the most one profile may hold. */
export interface IdentityTypeRule {
  priority: number;
  limit: number;
}

export type SurvivorshipRule = 'recent' | 'source' | 'complete' | 'frequent';

export const SURVIVORSHIP_RULES: readonly SurvivorshipRule[] = ['recent', 'source', 'complete', 'frequent'];

export interface Survivorship {
  /** the rule for traits without one of their own */
  default: SurvivorshipRule;
  /** source ids, most trusted first (the `source` rule); sources not listed come after, equally */
  sourceOrder: string[];
  /** per trait key */
  fields: Record<string, SurvivorshipRule>;
}

/** A workspace's identity policy, stored under workspaces.settings.identity. */
export interface IdentitySettings {
  types: Record<string, IdentityTypeRule>;
  /** values that never link anyone (`test@test.com`, a till's placeholder phone), in any identity type */
  blocklist: string[];
  /** match probabilities: at or above `auto` merge; from `review` up to `auto`, a person decides */
  thresholds: { auto: number; review: number };
  survivorship: Survivorship;
}

/**
 * Segment-style defaults: one login id per person; a handful of emails and
 * phones; many anonymous ids (devices, browsers). Source records rank high: a
 * CRM id is a strong claim, but a CRM may hold the same person twice.
 */
export const DEFAULT_TYPE_RULES: Readonly<Record<BuiltInIdentityType, IdentityTypeRule>> = {
  userId: { priority: 1, limit: 1 },
  record: { priority: 2, limit: 20 },
  email: { priority: 3, limit: 5 },
  phone: { priority: 4, limit: 5 },
  anonymousId: { priority: 6, limit: 100 },
};

/**
 * Match probabilities, chosen on data (test/identity-febrl.test.ts and
 * test/identity-synthetic.test.ts print what they give): `auto` where
 * precision stays at or above 0.99, `review` low enough to catch most of
 * the remaining true pairs without flooding the queue.
 */
// Measured: on FEBRL every probability band is ≥ 99% correct; on the synthetic bilingual set cluster
// precision is 0.980 at 0.99 and 0.990 at 0.997. Pairs at 0.5–0.7 are one person about half the time.
export const DEFAULT_THRESHOLDS: Readonly<{ auto: number; review: number }> = { auto: 0.997, review: 0.5 };

/** Custom identity types (a WeChat openid, a loyalty card) not configured: after phones, before anonymous ids. */
export const CUSTOM_TYPE_RULE: IdentityTypeRule = { priority: 5, limit: 5 };

export const IdentityTypeRuleSchema = Type.Object(
  {
    priority: Type.Integer({ minimum: 1, maximum: 100, description: 'lower wins when identifiers conflict' }),
    limit: Type.Integer({ minimum: 1, maximum: 10000, description: 'most identities of this type one profile may hold' }),
  },
  { additionalProperties: false },
);

const Rule = Type.Union(SURVIVORSHIP_RULES.map((r) => Type.Literal(r)));

/** What PUT /api/settings/identity accepts: every part optional, merged over the defaults. */
export const IdentitySettingsSchema = Type.Object(
  {
    types: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,31}$' }), IdentityTypeRuleSchema)),
    blocklist: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 320 }), { maxItems: 10000 })),
    thresholds: Type.Optional(
      Type.Object(
        {
          auto: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
          review: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    survivorship: Type.Optional(
      Type.Object(
        {
          default: Type.Optional(Rule),
          sourceOrder: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 200 })),
          fields: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Rule)),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type IdentitySettingsInput = Static<typeof IdentitySettingsSchema>;

/** The settings in force: what the workspace stored over the defaults. `defaultThresholds` come from the matcher. */
export function identitySettings(stored: IdentitySettingsInput | undefined, defaultThresholds: { auto: number; review: number }): IdentitySettings {
  return {
    types: { ...DEFAULT_TYPE_RULES, ...(stored?.types ?? {}) },
    blocklist: stored?.blocklist ?? [],
    thresholds: stored?.thresholds ?? defaultThresholds,
    survivorship: {
      default: stored?.survivorship?.default ?? 'recent',
      sourceOrder: stored?.survivorship?.sourceOrder ?? [],
      fields: stored?.survivorship?.fields ?? {},
    },
  };
}

/** Why a settings body cannot be used, naming the field; null when it can. Checks the schema cannot express. */
export function identitySettingsProblem(input: IdentitySettingsInput): { field: string; reason: string } | null {
  if (input.thresholds && input.thresholds.review > input.thresholds.auto) {
    return { field: 'thresholds.review', reason: 'must not be above thresholds.auto' };
  }
  return null;
}

export function typeRule(settings: IdentitySettings, type: string): IdentityTypeRule {
  return settings.types[type] ?? CUSTOM_TYPE_RULE;
}
