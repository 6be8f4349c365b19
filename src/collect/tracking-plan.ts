import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { catalogNameOf, catalogProperties, checkEventProperties, describeValueError, findCatalogEvent, PAGE_EVENT, SCREEN_EVENT, type CatalogEvent } from './event-catalog.js';
import type { TrackingMessage } from './messages.js';

/**
 * Tracking plans: what a source may send (data minimization). Pure: the plan
 * and the message in, the outcome out; storing plans and counting violations
 * is tracking-plans-store.ts.
 *
 * Modes, each stricter than the one before:
 * - `allow`: everything is accepted as sent; violations are recorded.
 * - `drop-properties`: undeclared properties of declared events, and
 *   undeclared identify traits, are removed before the message is stored.
 * - `block`: as drop-properties, and messages of undeclared events are refused.
 */

export const PLAN_MODES = ['allow', 'drop-properties', 'block'] as const;
export type PlanMode = (typeof PLAN_MODES)[number];

export const PROPERTY_TYPES = ['string', 'number', 'boolean', 'object', 'array', 'any'] as const;
export type PropertyType = (typeof PROPERTY_TYPES)[number];

export const PropertyRuleSchema = Type.Object(
  {
    type: Type.Union(PROPERTY_TYPES.map((t) => Type.Literal(t)), { description: 'string, number, boolean, object, array or any' }),
    required: Type.Optional(Type.Boolean({ description: 'a violation when absent or null (default false)' })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type PropertyRule = Static<typeof PropertyRuleSchema>;

const MAX_RULES = 1000;
const PropertyRules = (description: string) => Type.Record(Type.String(), PropertyRuleSchema, { maxProperties: MAX_RULES, description });

export const PlanEventSchema = Type.Object(
  {
    event: Type.String({ minLength: 1, maxLength: 1024, description: `track event name; "${PAGE_EVENT}" for page calls, "${SCREEN_EVENT}" for screen calls` }),
    fromCatalog: Type.Optional(Type.Boolean({ description: "declare the catalogue's properties for this event (GET /api/catalog/events); properties adds more" })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    properties: Type.Optional(PropertyRules('the properties this event may carry, by name')),
  },
  { additionalProperties: false },
);

export const TrackingPlanSchema = Type.Object(
  {
    mode: Type.Union(PLAN_MODES.map((m) => Type.Literal(m)), { description: 'allow (record violations), drop-properties (strip undeclared properties) or block (also refuse undeclared events)' }),
    events: Type.Array(PlanEventSchema, { maxItems: 2000, description: 'the events the source may send' }),
    traits: Type.Optional(PropertyRules('identify traits the source may send; absent: identify calls are not checked')),
  },
  { additionalProperties: false },
);
export type TrackingPlan = Static<typeof TrackingPlanSchema>;

export interface PlanIssue {
  reason: 'missing_field' | 'invalid_field';
  /** path in the plan: `events[2].properties.price.type` */
  field: string;
  message: string;
}

const checkPlan = TypeCompiler.Compile(TrackingPlanSchema);

function fieldOf(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : out === '' ? key : `.${key}`;
  }
  return out || 'body';
}

/** Whether a value has the shape of a plan (what storage hands back; new input goes through validateTrackingPlan). */
export function isTrackingPlan(value: unknown): value is TrackingPlan {
  return checkPlan.Check(value);
}

function badRuleName(rules: Record<string, PropertyRule> | undefined): string | undefined {
  return Object.keys(rules ?? {}).find((name) => name.length === 0 || name.length > 256);
}

/**
 * Check a plan: its JSON schema, then what a schema cannot say (each event
 * once, catalogue references that exist). The issue names the field.
 */
export function validateTrackingPlan(input: unknown): { ok: true; plan: TrackingPlan } | { ok: false; issue: PlanIssue } {
  if (!checkPlan.Check(input)) {
    const first = checkPlan.Errors(input).First();
    const field = first ? fieldOf(first.path) : 'body';
    const what = first ? (first.type === ValueErrorType.ObjectAdditionalProperties ? 'is not a field of a tracking plan here' : describeValueError(first)) : 'does not match the tracking plan schema';
    const reason = first?.type === ValueErrorType.ObjectRequiredProperty ? 'missing_field' : 'invalid_field';
    return { ok: false, issue: { reason, field, message: `${field}: ${what}` } };
  }
  const plan = input;
  const seen = new Map<string, number>();
  for (const [index, event] of plan.events.entries()) {
    const at = `events[${index}]`;
    const earlier = seen.get(event.event);
    if (earlier !== undefined) return { ok: false, issue: { reason: 'invalid_field', field: `${at}.event`, message: `${at}.event: "${event.event.slice(0, 100)}" is already declared at events[${earlier}]` } };
    seen.set(event.event, index);
    const badName = badRuleName(event.properties);
    if (badName !== undefined) return { ok: false, issue: { reason: 'invalid_field', field: `${at}.properties`, message: `${at}.properties: property names must be 1-256 characters` } };
    if (event.fromCatalog) {
      const entry = findCatalogEvent(event.event);
      if (!entry) return { ok: false, issue: { reason: 'invalid_field', field: `${at}.event`, message: `${at}.event: "${event.event.slice(0, 100)}" is not a catalogue event (GET /api/catalog/events lists them); declare its properties instead of fromCatalog` } };
      const own = catalogProperties(entry).names;
      const clash = Object.keys(event.properties ?? {}).find((name) => own.includes(name));
      if (clash !== undefined) return { ok: false, issue: { reason: 'invalid_field', field: `${at}.properties.${clash}`, message: `${at}.properties.${clash}: already declared by the catalogue's ${entry.name}` } };
    }
  }
  if (badRuleName(plan.traits) !== undefined) return { ok: false, issue: { reason: 'invalid_field', field: 'traits', message: 'traits: trait names must be 1-256 characters' } };
  return { ok: true, plan };
}

/** `wrong_type`: a number sent as text; `invalid_value`: the right type out of range (`nps: 11`). */
export const VIOLATION_KINDS = ['undeclared_event', 'undeclared_property', 'missing_required', 'wrong_type', 'invalid_value'] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

/** One way one message departs from its plan. Names only: never a value. */
export interface PlanViolation {
  /** event name; `identify` for identify traits */
  event: string;
  /** property or trait path (`items[].price`); null for an undeclared event */
  property: string | null;
  kind: ViolationKind;
  messageId: string;
}

export interface PlanBlock {
  reason: 'blocked_by_tracking_plan';
  field: string;
  message: string;
}

export type PlanOutcome =
  | { outcome: 'accept'; message: TrackingMessage; violations: PlanViolation[]; dropped: string[] }
  | { outcome: 'block'; message: TrackingMessage; violations: PlanViolation[]; dropped: string[]; issue: PlanBlock };

/** The violation `event` of identify calls. */
export const IDENTIFY_EVENT = 'identify';
/** Stands for a name that looks like personal data (an email address, a phone number), which is not stored. */
export const WITHHELD_NAME = '(withheld: looks like personal data)';
/** Violations recorded per message at most: names are the sender's to choose, and each is a row. */
export const MAX_VIOLATIONS_PER_MESSAGE = 50;
const MAX_NAME = 200;

/**
 * The name of an event or property as violations store it. Names are chosen
 * by the sender: one that looks like an email address or a phone number (a
 * common mistake: `{ "ada@example.com": true }`) is withheld.
 */
export function safeName(name: string): string {
  if (name === '') return '(empty)';
  if (name.includes('@') || (name.match(/\d/g)?.length ?? 0) >= 7) return WITHHELD_NAME;
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name;
}

interface CompiledRules {
  rules: ReadonlyMap<string, PropertyRule>;
  /** the catalogue entry whose properties are declared too, checked by its schema */
  catalog: CatalogEvent | null;
  catalogNames: ReadonlySet<string>;
  /** a catalogue reference this version does not know: any property passes (nothing is dropped) */
  open: boolean;
}

interface CompiledPlan {
  mode: PlanMode;
  events: ReadonlyMap<string, CompiledRules>;
  traits: CompiledRules | null;
}

const compiledPlans = new WeakMap<TrackingPlan, CompiledPlan>();

function compileRules(rules: Record<string, PropertyRule> | undefined, catalogName: string | null): CompiledRules {
  const catalog = catalogName === null ? null : (findCatalogEvent(catalogName) ?? null);
  return {
    rules: new Map(Object.entries(rules ?? {})),
    catalog,
    catalogNames: new Set(catalog ? catalogProperties(catalog).names : []),
    open: catalogName !== null && catalog === null,
  };
}

function compile(plan: TrackingPlan): CompiledPlan {
  let compiled = compiledPlans.get(plan);
  if (!compiled) {
    compiled = {
      mode: plan.mode,
      events: new Map(plan.events.map((e) => [e.event, compileRules(e.properties, e.fromCatalog ? e.event : null)])),
      traits: plan.traits ? compileRules(plan.traits, null) : null,
    };
    compiledPlans.set(plan, compiled);
  }
  return compiled;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matches(type: PropertyType, value: unknown): boolean {
  switch (type) {
    case 'any': return true;
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'boolean': return typeof value === 'boolean';
    case 'object': return isPlainObject(value);
    case 'array': return Array.isArray(value);
  }
}

function checkFields(
  mode: PlanMode,
  event: string,
  rules: CompiledRules,
  message: TrackingMessage,
  bagKey: 'properties' | 'traits',
): PlanOutcome {
  const bag = message[bagKey] ?? {};
  const violations: PlanViolation[] = [];
  const seen = new Set<string>();
  const eventName = safeName(event);
  // Once per stored name and kind: withheld and shortened names can coincide,
  // and a count is of messages.
  const add = (property: string, kind: ViolationKind) => {
    const name = safeName(property);
    const key = `${kind}\u0000${name}`;
    if (violations.length >= MAX_VIOLATIONS_PER_MESSAGE || seen.has(key)) return;
    seen.add(key);
    violations.push({ event: eventName, property: name, kind, messageId: message.messageId });
  };
  const undeclared = rules.open ? [] : Object.keys(bag).filter((key) => !rules.rules.has(key) && !rules.catalogNames.has(key));
  for (const [name, rule] of rules.rules) {
    const value = bag[name];
    if (value === undefined || value === null) {
      if (rule.required) add(name, 'missing_required');
    } else if (!matches(rule.type, value)) {
      add(name, 'wrong_type');
    }
  }
  if (rules.catalog) for (const issue of checkEventProperties(rules.catalog, bag)) add(issue.property, issue.kind);
  for (const key of undeclared) add(key, 'undeclared_property');
  if (mode === 'allow' || undeclared.length === 0) return { outcome: 'accept', message, violations, dropped: [] };
  const drop = new Set(undeclared);
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(bag)) if (!drop.has(key)) kept[key] = value;
  return { outcome: 'accept', message: { ...message, [bagKey]: kept }, violations, dropped: undeclared.map((key) => `${bagKey}.${key}`) };
}

/**
 * Apply a source's plan to one validated message: track, page and screen
 * calls are checked against their event's declared properties, identify calls
 * against the declared traits; group and alias calls pass unchecked. Pure; the
 * message given is never changed (a stripped copy is returned).
 */
export function applyTrackingPlan(plan: TrackingPlan, message: TrackingMessage): PlanOutcome {
  const compiled = compile(plan);
  if (message.type === 'identify') {
    return compiled.traits ? checkFields(compiled.mode, IDENTIFY_EVENT, compiled.traits, message, 'traits') : { outcome: 'accept', message, violations: [], dropped: [] };
  }
  const name = catalogNameOf(message);
  if (name === null) return { outcome: 'accept', message, violations: [], dropped: [] };
  const declared = compiled.events.get(name);
  if (declared) return checkFields(compiled.mode, name, declared, message, 'properties');
  const violations: PlanViolation[] = [{ event: safeName(name), property: null, kind: 'undeclared_event', messageId: message.messageId }];
  if (compiled.mode !== 'block') return { outcome: 'accept', message, violations, dropped: [] };
  const issue: PlanBlock = message.type === 'track'
    ? { reason: 'blocked_by_tracking_plan', field: 'event', message: `event "${name.slice(0, 100)}" is not declared in this source's tracking plan, which blocks undeclared events` }
    : { reason: 'blocked_by_tracking_plan', field: 'type', message: `${message.type} calls are not declared in this source's tracking plan, which blocks undeclared events: declare "${name}" to accept them` };
  return { outcome: 'block', message, violations, dropped: [], issue };
}
