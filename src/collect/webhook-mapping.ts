import { createHash } from 'node:crypto';
import type { JunkIdFilter } from '../clean/junk-ids.js';
import { LIMITS, MESSAGE_TYPES, validateMessage, type MessageType, type RejectReason, type TrackingMessage } from './messages.js';

/*
 * A webhook mapping turns an arbitrary JSON body (a form tool's or survey
 * tool's webhook) into Segment messages. It is plain JSON, stored per source:
 *
 *   {
 *     "deliveryId": "$.event_id",                    // optional: what one delivery is, for de-duplication
 *     "messages": [
 *       { "type": "identify", "when": "$.respondent.email",
 *         "fields": { "userId": "$.respondent.id", "traits.email": "$.respondent.email" } },
 *       { "type": "track", "forEach": "$.items[*]",
 *         "fields": { "userId": "$.respondent.id", "event": "Item Ordered", "properties.sku": "@.sku" } }
 *     ]
 *   }
 *
 * A field's value is a path (a string starting with `$`, the body, or `@`, the
 * forEach element), a constant (any other string, a number, a boolean, or
 * {"const": …}), or {"path": "…" | ["…", "…"], "required"?: true, "default"?: …}.
 * Parsing is strict and names the field at fault; applying never throws.
 */

export const MAX_TEMPLATES = 20;
export const MAX_FIELDS = 200;
const MAX_PATH_LENGTH = 512;

/** Top-level message fields a mapping may set. */
export const SCALAR_TARGETS = ['userId', 'anonymousId', 'previousId', 'groupId', 'event', 'name', 'category', 'timestamp', 'messageId'] as const;
/** Object fields a mapping may set whole (`traits`) or key by key (`traits.email`, `traits.address.city`). */
export const OBJECT_TARGETS = ['traits', 'properties', 'context'] as const;
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

export type PathStep = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'wild' };

export interface JsonPath {
  /** `$` the body, `@` the current forEach element */
  root: '$' | '@';
  steps: readonly PathStep[];
  /** as written */
  text: string;
  /** has a `[*]` / `.*`: yields every match, as an array */
  wildcard: boolean;
}

export type ValueSpec =
  | { kind: 'const'; value: unknown }
  | { kind: 'path'; paths: readonly JsonPath[]; required: boolean; default?: unknown };

export interface FieldMapping {
  /** `userId`, `traits.email`, … */
  target: string;
  parts: readonly string[];
  spec: ValueSpec;
}

export interface MessageTemplate {
  type: MessageType;
  /** produce this message only when the path has a value */
  when?: JsonPath;
  /** one message per element */
  forEach?: JsonPath;
  fields: readonly FieldMapping[];
}

export interface WebhookMapping {
  deliveryId?: ValueSpec;
  messages: readonly MessageTemplate[];
}

export interface MappingIssue {
  /** where in the mapping document, e.g. `messages[0].fields["traits.email"]` */
  field: string;
  message: string;
}

export type ParseMappingResult = { ok: true; mapping: WebhookMapping } | { ok: false; issues: MappingIssue[] };

// ── paths ─────────────────────────────────────────────────────────────────

/** Parse a JSONPath-like path: `$.a.b`, `$.a[0]`, `$.a[-1]`, `$.a[*].b`, `$['key with space']`, `@.sku`. */
export function parsePath(text: string): { ok: true; path: JsonPath } | { ok: false; message: string } {
  if (text.length > MAX_PATH_LENGTH) return { ok: false, message: `path is longer than ${MAX_PATH_LENGTH} characters` };
  const root = text[0];
  if (root !== '$' && root !== '@') return { ok: false, message: `path ${JSON.stringify(text)} must start with $ (the body) or @ (the forEach element)` };
  const steps: PathStep[] = [];
  let i = 1;
  const bad = (why: string) => ({ ok: false as const, message: `path ${JSON.stringify(text)}: ${why} at position ${i}` });
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      i += 1;
      if (text[i] === '*') {
        steps.push({ kind: 'wild' });
        i += 1;
        continue;
      }
      const start = i;
      while (i < text.length && text[i] !== '.' && text[i] !== '[' && text[i] !== ']') i += 1;
      if (i === start) return bad('a key is expected after "."');
      steps.push({ kind: 'key', key: text.slice(start, i) });
    } else if (c === '[') {
      i += 1;
      const q = text[i];
      if (q === '*') {
        if (text[i + 1] !== ']') return bad('"]" is expected after "[*"');
        steps.push({ kind: 'wild' });
        i += 2;
      } else if (q === "'" || q === '"') {
        i += 1;
        let key = '';
        while (i < text.length && text[i] !== q) {
          if (text[i] === '\\' && i + 1 < text.length) i += 1;
          key += text[i];
          i += 1;
        }
        if (text[i] !== q || text[i + 1] !== ']') return bad(`an unclosed quoted key (${q}…${q}])`);
        steps.push({ kind: 'key', key });
        i += 2;
      } else {
        const match = /^(-?\d{1,9})\]/.exec(text.slice(i));
        if (!match) return bad('an array index, *, or a quoted key is expected after "["');
        steps.push({ kind: 'index', index: Number(match[1]) });
        i += match[0].length;
      }
    } else {
      return bad(`unexpected ${JSON.stringify(c)} (use .key, [0], [*] or ['key'])`);
    }
  }
  return { ok: true, path: { root, steps, text, wildcard: steps.some((s) => s.kind === 'wild') } };
}

interface Node {
  value: unknown;
  /** the concrete location, e.g. `$.items[3].sku` */
  at: string;
}

type Lookup = { found: true; value: unknown; at: string } | { found: false; why: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
const keyText = (key: string) => (SIMPLE_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);

/** Every node the path reaches; `why` says where a single path stopped. */
function walk(path: JsonPath, body: unknown, element: Node | null): { nodes: Node[]; why: string; shape: boolean } {
  let nodes: Node[] = [path.root === '$' ? { value: body, at: '$' } : element ?? { value: undefined, at: '@' }];
  let why = '';
  // true when a path stopped at a value of the wrong kind (not at an absent key or a null)
  let shape = false;
  const wrongKind = (v: unknown, text: string) => {
    if (!why) {
      why = text;
      shape = v !== null && v !== undefined;
    }
  };
  for (const step of path.steps) {
    const next: Node[] = [];
    for (const node of nodes) {
      const v = node.value;
      if (step.kind === 'key') {
        if (isObject(v) && Object.hasOwn(v, step.key)) next.push({ value: v[step.key], at: node.at + keyText(step.key) });
        else if (isObject(v)) why ||= `${node.at} has no key ${JSON.stringify(step.key)}`;
        else wrongKind(v, `${node.at} is ${kindOf(v)}, not an object`);
      } else if (step.kind === 'index') {
        if (Array.isArray(v)) {
          const index = step.index < 0 ? v.length + step.index : step.index;
          if (index >= 0 && index < v.length) next.push({ value: v[index], at: `${node.at}[${index}]` });
          else why ||= `${node.at} has ${v.length} element${v.length === 1 ? '' : 's'}, no [${step.index}]`;
        } else wrongKind(v, `${node.at} is ${kindOf(v)}, not an array`);
      } else if (Array.isArray(v)) {
        v.forEach((item, index) => next.push({ value: item, at: `${node.at}[${index}]` }));
      } else if (isObject(v)) {
        for (const [key, item] of Object.entries(v)) next.push({ value: item, at: node.at + keyText(key) });
      } else wrongKind(v, `${node.at} is ${kindOf(v)}, not an array or object`);
    }
    nodes = next;
    if (nodes.length === 0) break;
  }
  return { nodes, why, shape };
}

/** A single path's value: null and absent are "not found" (a form's unanswered question). */
function lookup(path: JsonPath, body: unknown, element: Node | null): Lookup {
  const { nodes, why } = walk(path, body, element);
  if (path.wildcard) {
    const values = nodes.filter((n) => n.value !== null && n.value !== undefined);
    return values.length > 0 ? { found: true, value: values.map((n) => n.value), at: path.text } : { found: false, why: why || `${path.text} matched nothing` };
  }
  const node = nodes[0];
  if (!node) return { found: false, why: why || `${path.text} matched nothing` };
  if (node.value === null || node.value === undefined) return { found: false, why: `${node.at} is null` };
  return { found: true, value: node.value, at: node.at };
}

// ── parsing a mapping ─────────────────────────────────────────────────────

function parseSpec(raw: unknown, where: string, issues: MappingIssue[], allowElement: boolean): ValueSpec | null {
  const pathOf = (text: unknown, at: string): JsonPath | null => {
    if (typeof text !== 'string') {
      issues.push({ field: at, message: `${at}: a path must be a string such as "$.respondent.email"` });
      return null;
    }
    const parsed = parsePath(text);
    if (!parsed.ok) {
      issues.push({ field: at, message: `${at}: ${parsed.message}` });
      return null;
    }
    if (parsed.path.root === '@' && !allowElement) {
      issues.push({ field: at, message: `${at}: ${text} refers to the forEach element (@), but this message has no forEach` });
      return null;
    }
    return parsed.path;
  };
  if (typeof raw === 'string') {
    if (raw.startsWith('$') || raw.startsWith('@')) {
      const path = pathOf(raw, where);
      return path ? { kind: 'path', paths: [path], required: false } : null;
    }
    return { kind: 'const', value: raw };
  }
  if (typeof raw === 'number' || typeof raw === 'boolean') return { kind: 'const', value: raw };
  if (isObject(raw)) {
    const keys = Object.keys(raw);
    if (Object.hasOwn(raw, 'const')) {
      if (keys.length !== 1) issues.push({ field: where, message: `${where}: {"const": …} takes no other keys (found ${keys.filter((k) => k !== 'const').join(', ')})` });
      if (raw.const === null || raw.const === undefined) {
        issues.push({ field: where, message: `${where}: a constant cannot be null; leave the field out instead` });
        return null;
      }
      return { kind: 'const', value: raw.const };
    }
    if (Object.hasOwn(raw, 'path')) {
      const unknown = keys.filter((k) => !['path', 'required', 'default'].includes(k));
      if (unknown.length > 0) issues.push({ field: where, message: `${where}: unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')} (a path field takes path, required, default)` });
      if (raw.required !== undefined && typeof raw.required !== 'boolean') issues.push({ field: `${where}.required`, message: `${where}.required must be true or false` });
      const texts = Array.isArray(raw.path) ? raw.path : [raw.path];
      if (texts.length === 0 || texts.length > 10) {
        issues.push({ field: `${where}.path`, message: `${where}.path: give 1 to 10 paths (the first with a value wins)` });
        return null;
      }
      const paths = texts.map((text, i) => pathOf(text, Array.isArray(raw.path) ? `${where}.path[${i}]` : `${where}.path`));
      if (paths.some((p) => p === null)) return null;
      const spec: ValueSpec = { kind: 'path', paths: paths as JsonPath[], required: raw.required === true };
      if (raw.default !== undefined && raw.default !== null) spec.default = raw.default;
      return spec;
    }
    issues.push({ field: where, message: `${where}: an object must be {"path": "$…"} or {"const": …}` });
    return null;
  }
  if (Array.isArray(raw)) {
    issues.push({ field: where, message: `${where}: use {"const": [...]} for a constant array, or {"path": ["$.a", "$.b"]} for fall-back paths` });
    return null;
  }
  issues.push({ field: where, message: `${where}: must be a path ("$.a.b"), a constant, {"path": …} or {"const": …}` });
  return null;
}

function parseTarget(target: string): { ok: true; parts: string[] } | { ok: false; message: string } {
  const parts = target.split('.');
  if (parts.some((p) => p === '')) return { ok: false, message: 'has an empty part' };
  const forbidden = parts.find((p) => FORBIDDEN_KEYS.has(p));
  if (forbidden) return { ok: false, message: `cannot set ${forbidden}` };
  const head = parts[0]!;
  if ((SCALAR_TARGETS as readonly string[]).includes(head)) {
    return parts.length === 1 ? { ok: true, parts } : { ok: false, message: `${head} is not an object: it has no sub-fields` };
  }
  if ((OBJECT_TARGETS as readonly string[]).includes(head)) return { ok: true, parts };
  return { ok: false, message: `is not a message field: use one of ${[...SCALAR_TARGETS, ...OBJECT_TARGETS].join(', ')}, or traits.<key>, properties.<key>, context.<key>` };
}

const at = (base: string, key: string) => `${base}[${JSON.stringify(key)}]`;

/** Check a mapping document and bring it to its parsed form; every problem is named by where it is. */
export function parseWebhookMapping(raw: unknown): ParseMappingResult {
  const issues: MappingIssue[] = [];
  if (!isObject(raw)) return { ok: false, issues: [{ field: 'mapping', message: 'the mapping must be a JSON object with a messages array' }] };
  for (const key of Object.keys(raw)) {
    if (key !== 'messages' && key !== 'deliveryId') issues.push({ field: key, message: `${key}: unknown key (a mapping has messages and, optionally, deliveryId)` });
  }
  let deliveryId: ValueSpec | undefined;
  if (raw.deliveryId !== undefined) deliveryId = parseSpec(raw.deliveryId, 'deliveryId', issues, false) ?? undefined;
  if (!Array.isArray(raw.messages) || raw.messages.length === 0) {
    issues.push({ field: 'messages', message: 'messages must be a non-empty array: one entry per message a webhook body produces' });
    return { ok: false, issues };
  }
  if (raw.messages.length > MAX_TEMPLATES) issues.push({ field: 'messages', message: `messages has ${raw.messages.length} entries; the limit is ${MAX_TEMPLATES}` });
  const templates: MessageTemplate[] = [];
  raw.messages.slice(0, MAX_TEMPLATES).forEach((entry: unknown, index: number) => {
    const base = `messages[${index}]`;
    if (!isObject(entry)) {
      issues.push({ field: base, message: `${base} must be an object with type and fields` });
      return;
    }
    for (const key of Object.keys(entry)) {
      if (!['type', 'fields', 'when', 'forEach'].includes(key)) issues.push({ field: `${base}.${key}`, message: `${base}.${key}: unknown key (a message has type, fields, when, forEach)` });
    }
    const type = entry.type;
    if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
      issues.push({ field: `${base}.type`, message: `${base}.type must be one of ${MESSAGE_TYPES.join(', ')}` });
      return;
    }
    const template: { type: MessageType; when?: JsonPath; forEach?: JsonPath; fields: FieldMapping[] } = { type: type as MessageType, fields: [] };
    if (entry.forEach !== undefined) {
      const parsed = typeof entry.forEach === 'string' ? parsePath(entry.forEach) : null;
      if (!parsed || !parsed.ok) issues.push({ field: `${base}.forEach`, message: `${base}.forEach: ${parsed && !parsed.ok ? parsed.message : 'must be a path to an array, such as "$.items[*]"'}` });
      else if (parsed.path.root !== '$') issues.push({ field: `${base}.forEach`, message: `${base}.forEach must start with $ (the body)` });
      else template.forEach = parsed.path;
    }
    if (entry.when !== undefined) {
      const parsed = typeof entry.when === 'string' ? parsePath(entry.when) : null;
      if (!parsed || !parsed.ok) issues.push({ field: `${base}.when`, message: `${base}.when: ${parsed && !parsed.ok ? parsed.message : 'must be a path, such as "$.respondent.email"'}` });
      else if (parsed.path.root === '@' && !template.forEach) issues.push({ field: `${base}.when`, message: `${base}.when refers to the forEach element (@), but this message has no forEach` });
      else template.when = parsed.path;
    }
    if (!isObject(entry.fields)) {
      issues.push({ field: `${base}.fields`, message: `${base}.fields must be an object: target field → path or constant` });
      return;
    }
    const entries = Object.entries(entry.fields);
    if (entries.length > MAX_FIELDS) issues.push({ field: `${base}.fields`, message: `${base}.fields has ${entries.length} fields; the limit is ${MAX_FIELDS}` });
    const seen = new Set<string>();
    for (const [target, value] of entries) {
      const where = at(`${base}.fields`, target);
      const parsedTarget = parseTarget(target);
      if (!parsedTarget.ok) {
        issues.push({ field: where, message: `${where}: ${JSON.stringify(target)} ${parsedTarget.message}` });
        continue;
      }
      const spec = parseSpec(value, where, issues, template.forEach !== undefined);
      if (spec) template.fields.push({ target, parts: parsedTarget.parts, spec });
      seen.add(parsedTarget.parts[0]!);
    }
    // The rules validateMessage applies to every message, checked here once so
    // a mapping that could never produce a valid message is refused when saved.
    const need = (field: string, why: string) => {
      if (!seen.has(field)) issues.push({ field: at(`${base}.fields`, field), message: `${base}: ${why}: map ${field}` });
    };
    if (template.type === 'track') need('event', 'a track message needs an event name');
    if (template.type === 'group') need('groupId', 'a group message needs groupId');
    if (template.type === 'alias') {
      need('userId', 'an alias message needs userId (the new id)');
      need('previousId', 'an alias message needs previousId (the old id)');
    } else if (!seen.has('userId') && !seen.has('anonymousId')) {
      issues.push({ field: at(`${base}.fields`, 'userId'), message: `${base}: every message needs userId or anonymousId: map at least one of them` });
    }
    // Whole objects first, so `traits.email` lands in (a copy of) a mapped `traits`.
    template.fields.sort((a, b) => a.parts.length - b.parts.length);
    templates.push(template);
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, mapping: { ...(deliveryId ? { deliveryId } : {}), messages: templates } };
}

// ── applying a mapping ────────────────────────────────────────────────────

export interface ApplyIssue {
  reason: RejectReason;
  /** the body path at fault (`$.respondent.email`), or the message field when no path is involved */
  field: string;
  message: string;
}

/** A Segment message built from a body, before validateMessage. */
export interface MappedMessage {
  raw: Record<string, unknown>;
  /** which entry of mapping.messages made it */
  template: number;
  /** forEach element index, or null */
  element: number | null;
  /** target field → the concrete body location its value came from (or why it was left out) */
  origins: Map<string, { at?: string; why?: string; paths: string }>;
}

export type ApplyResult = { ok: true; messages: MappedMessage[] } | { ok: false; issue: ApplyIssue };

function evaluate(spec: ValueSpec, body: unknown, element: Node | null): Lookup {
  if (spec.kind === 'const') return { found: true, value: spec.value, at: 'constant' };
  const whys: string[] = [];
  for (const path of spec.paths) {
    const result = lookup(path, body, element);
    if (result.found) return result;
    whys.push(result.why);
  }
  if (spec.default !== undefined) return { found: true, value: spec.default, at: 'default' };
  return { found: false, why: whys.join('; ') };
}

const pathsText = (spec: ValueSpec) => (spec.kind === 'path' ? spec.paths.map((p) => p.text).join(' | ') : 'constant');

/** Set raw[parts…] = value, copying any object from the body before writing into it. */
function setIn(raw: Record<string, unknown>, parts: readonly string[], value: unknown, owned: WeakSet<object>): string | null {
  let current = raw;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    const next = current[key];
    if (next === undefined) {
      const fresh: Record<string, unknown> = {};
      owned.add(fresh);
      current[key] = fresh;
      current = fresh;
    } else if (isObject(next)) {
      const mine = owned.has(next) ? next : { ...next };
      owned.add(mine);
      current[key] = mine;
      current = mine;
    } else {
      return `${parts.slice(0, i + 1).join('.')} is ${kindOf(next)}, so ${parts.join('.')} cannot be set in it`;
    }
  }
  current[parts[parts.length - 1]!] = value;
  return null;
}

/** Turn a body into raw Segment messages. Never throws; a body the mapping cannot use is an issue naming the path. */
export function applyWebhookMapping(mapping: WebhookMapping, body: unknown): ApplyResult {
  const out: MappedMessage[] = [];
  for (const [index, template] of mapping.messages.entries()) {
    const base = `messages[${index}]`;
    let elements: Array<Node | null> = [null];
    if (template.forEach) {
      const { nodes, why, shape } = walk(template.forEach, body, null);
      const only = nodes[0];
      if (shape) {
        // A list in the wrong shape is worth a word; an absent or null list is no items today.
        return { ok: false, issue: { reason: 'invalid_field', field: template.forEach.text, message: `forEach of ${base}: ${why}` } };
      } else if (template.forEach.wildcard) {
        elements = nodes;
      } else if (!only || only.value === null || only.value === undefined) {
        elements = [];
      } else if (Array.isArray(only.value)) {
        // `$.items` (no wildcard) on an array means its elements, like `$.items[*]`.
        elements = only.value.map((value, i) => ({ value, at: `${only.at}[${i}]` }));
      } else {
        return { ok: false, issue: { reason: 'invalid_field', field: template.forEach.text, message: `forEach of ${base}: ${only.at} is ${kindOf(only.value)}, not an array` } };
      }
    }
    for (const [elementIndex, element] of elements.entries()) {
      if (template.when && !lookup(template.when, body, element).found) continue;
      const raw: Record<string, unknown> = { type: template.type };
      const owned = new WeakSet<object>([raw]);
      const origins: MappedMessage['origins'] = new Map();
      for (const field of template.fields) {
        const result = evaluate(field.spec, body, element);
        if (!result.found) {
          origins.set(field.target, { why: result.why, paths: pathsText(field.spec) });
          if (field.spec.kind === 'path' && field.spec.required) {
            const path = field.spec.paths[0]!.text;
            return { ok: false, issue: { reason: 'missing_field', field: path, message: `${path} is required for ${field.target} of ${base} (${template.type}): ${result.why}` } };
          }
          continue;
        }
        origins.set(field.target, { at: result.at, paths: pathsText(field.spec) });
        const problem = setIn(raw, field.parts, result.value, owned);
        if (problem) {
          return { ok: false, issue: { reason: 'invalid_field', field: result.at === 'constant' ? field.target : result.at, message: `${base}: ${problem}` } };
        }
      }
      out.push({ raw, template: index, element: template.forEach ? elementIndex : null, origins });
      if (out.length > LIMITS.batchItems) {
        return { ok: false, issue: { reason: 'batch_too_many', field: template.forEach?.text ?? 'messages', message: `the body produces more than ${LIMITS.batchItems} messages (the batch limit)` } };
      }
    }
  }
  return { ok: true, messages: out };
}

// ── messageIds ────────────────────────────────────────────────────────────

/** JSON with object keys sorted, so the same body always hashes the same, however its sender orders keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The messageId of a mapped message that does not map its own: derived from
 * the source and the delivery (the deliveryId's value, or else the whole
 * body), so a webhook its sender retries is stored once.
 */
export function derivedMessageId(sourceId: string, deliveryKey: string, template: number, element: number | null): string {
  const hash = createHash('sha256').update(sourceId).update('\u0000').update(deliveryKey).digest('base64url').slice(0, 32);
  return `wh-${sourceId}-${hash}-${template}${element === null ? '' : `.${element}`}`;
}

function deliveryKeyOf(mapping: WebhookMapping, body: unknown): string {
  if (mapping.deliveryId) {
    const result = evaluate(mapping.deliveryId, body, null);
    if (result.found) return `id:${canonicalJson(result.value)}`;
  }
  return `body:${canonicalJson(body)}`;
}

// ── mapping + validation ──────────────────────────────────────────────────

export interface WebhookWarning {
  index: number;
  field: string;
  reason: 'junk_identifier' | 'text_repaired';
  message: string;
}

export type MapWebhookResult =
  | { ok: true; messages: TrackingMessage[]; warnings: WebhookWarning[]; junkFields: string[] }
  | { ok: false; issue: ApplyIssue; index?: number };

export interface MapWebhookContext {
  sourceId: string;
  receivedAt: Date;
  junk: JunkIdFilter;
}

/**
 * Map a body and check every message it produces with validateMessage, as
 * the tracking API does (junk ids, text repair, sizes). All or nothing: one
 * message the body cannot make refuses the delivery, naming the path.
 */
export function mapWebhook(mapping: WebhookMapping, body: unknown, ctx: MapWebhookContext): MapWebhookResult {
  const applied = applyWebhookMapping(mapping, body);
  if (!applied.ok) return applied;
  const deliveryKey = deliveryKeyOf(mapping, body);
  const messages: TrackingMessage[] = [];
  const warnings: WebhookWarning[] = [];
  const junkFields: string[] = [];
  const seen = new Map<string, number>();
  for (const [index, mapped] of applied.messages.entries()) {
    if (mapped.raw.messageId === undefined) mapped.raw.messageId = derivedMessageId(ctx.sourceId, deliveryKey, mapped.template, mapped.element);
    else if (typeof mapped.raw.messageId === 'number') mapped.raw.messageId = String(mapped.raw.messageId);
    const result = validateMessage(mapped.raw, { receivedAt: ctx.receivedAt, type: null, junk: ctx.junk });
    if (!result.ok) return { ok: false, index, issue: explain(result.issue, mapped) };
    const earlier = seen.get(result.message.messageId);
    if (earlier !== undefined) {
      const origin = mapped.origins.get('messageId');
      return {
        ok: false,
        index,
        issue: {
          reason: 'invalid_field',
          field: origin?.at ?? 'messageId',
          message: `message ${index} (messages[${mapped.template}]) has the messageId of message ${earlier}: map messageId to a value unique per message, or leave it out (it is then derived from the body)`,
        },
      };
    }
    seen.set(result.message.messageId, index);
    messages.push(result.message);
    for (const field of result.repairedText) {
      warnings.push({ index, field, reason: 'text_repaired', message: `${field} held a NUL character or an unpaired surrogate, which cannot be stored: removed or replaced by U+FFFD` });
    }
    for (const field of result.ignoredIds) {
      junkFields.push(field);
      warnings.push({ index, field, reason: 'junk_identifier', message: `${field} is a placeholder, not an identifier: ignored` });
    }
  }
  return { ok: true, messages, warnings, junkFields };
}

const EXPECTED: Record<string, string> = {
  userId: 'a string or a number',
  anonymousId: 'a string or a number',
  previousId: 'a string or a number',
  groupId: 'a string or a number',
  messageId: 'a non-empty string (at most 256 characters)',
  event: 'a string',
  name: 'a string',
  category: 'a string',
  timestamp: 'an ISO-8601 date-time string',
  traits: 'an object',
  properties: 'an object',
  context: 'an object',
};

/** Name the body path behind a field validateMessage refused. */
function explain(issue: { reason: RejectReason; field: string; message: string }, mapped: MappedMessage): ApplyIssue {
  const where = `messages[${mapped.template}]${mapped.element === null ? '' : ` element ${mapped.element}`}`;
  // The most specific mapped target the refused field is in: `traits.email` before `traits`.
  let best: { target: string; origin: { at?: string; why?: string; paths: string } } | null = null;
  for (const [target, origin] of mapped.origins) {
    const covers = issue.field === target || issue.field.startsWith(`${target}.`) || target.startsWith(`${issue.field}.`);
    if (covers && (!best || target.length > best.target.length)) best = { target, origin };
  }
  if (issue.reason === 'no_user_anon_id') {
    const ids = ['userId', 'anonymousId'].map((t) => [t, mapped.origins.get(t)] as const).filter(([, o]) => o !== undefined);
    const detail = ids.map(([t, o]) => `${t} is mapped from ${o!.paths}, which has no value (${o!.why})`).join('; ');
    const path = ids[0]?.[1]?.paths.split(' | ')[0];
    return { reason: issue.reason, field: path ?? 'userId', message: `${where}: ${issue.message}${detail ? `; ${detail}` : ''}` };
  }
  if (!best) return { reason: issue.reason, field: issue.field, message: `${where}: ${issue.message}` };
  const { origin, target } = best;
  if (origin.at === undefined) {
    const path = origin.paths.split(' | ')[0]!;
    return { reason: issue.reason, field: path, message: `${where}: ${issue.message}; ${target} is mapped from ${origin.paths}, which has no value (${origin.why})` };
  }
  const source = origin.at === 'constant' || origin.at === 'default' ? `the ${origin.at} for ${target}` : `${origin.at} (mapped to ${target})`;
  // The schema's own words ("Expected union value") say little about a body: say what was found and what is needed.
  const expected = issue.field === target ? EXPECTED[target] : undefined;
  const value = mapped.raw[target];
  const rightKind = (typeof value === 'string' && expected?.includes('string')) || (typeof value === 'number' && expected?.includes('number')) || (isObject(value) && expected === 'an object');
  const detail = expected && issue.reason === 'invalid_field' && !rightKind ? `${target} must be ${expected}, not ${kindOf(value)}` : issue.message;
  return { reason: issue.reason, field: origin.at === 'constant' || origin.at === 'default' ? issue.field : origin.at, message: `${where}: ${source}: ${detail}` };
}
