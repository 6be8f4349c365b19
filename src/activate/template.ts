import type { Channel } from './adapter.js';
import type { MessageTemplate } from './campaign.js';

/**
 * Message templates: text with `{{ path }}` and `{{ path | fallback }}`
 * placeholders. A template is compiled once per campaign into a frozen list
 * of parts and rendered once per person, so rendering is a loop over that
 * list with no parsing, and the sender can ask a compiled template what it
 * needs (recommendations, a consent link) before loading it for a batch.
 */

export interface TemplateIssue {
  /** `template.body`, `template.subject`, `template.wechatData.<key>`; absent from compileTemplate's own issues */
  field?: string;
  message: string;
  /** offset of the offending `{{` in the text, 0-based */
  position?: number;
}

/** What one person's message is filled with. */
export interface TemplateVars {
  traits: Record<string, unknown>;
  profileId: string;
  coupon: string | null;
  /** recommended item names, best first */
  recommendations: readonly string[];
  unsubscribeUrl: string | null;
  preferencesUrl: string | null;
  campaignName: string;
}

type Source =
  | { kind: 'trait'; key: string; nested: readonly string[] | null }
  | { kind: 'profile_id' }
  | { kind: 'coupon' }
  | { kind: 'recommendations' }
  | { kind: 'recommendation'; index: number }
  | { kind: 'unsubscribe_url' }
  | { kind: 'preferences_url' }
  | { kind: 'campaign_name' };

type Part = string | { readonly source: Source; readonly fallback: string; readonly path: string };

/** A template ready to render; build it with compileTemplate. */
export interface CompiledTemplate {
  readonly parts: readonly Part[];
  /** `、` for Chinese text, `, ` otherwise: how lists are joined */
  readonly separator: string;
  /** the length of the text outside placeholders */
  readonly literalLength: number;
}

export type CompileResult = { ok: true; template: CompiledTemplate } | { ok: false; issues: TemplateIssue[] };

const ROOTS = 'traits.<key>, profile.id, coupon, recommendations, recommendations.1 … recommendations.9, unsubscribe_url, preferences_url, campaign.name';

// Japanese kana counted with Han: `、` is the list mark of both languages.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

export const MAX_BODY_LENGTH = 20_000;
export const MAX_SMS_LITERAL_LENGTH = 500;
export const MAX_SUBJECT_LENGTH = 500;

function where(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function sourceOf(path: string): Source | string {
  switch (path) {
    case 'profile.id':
      return { kind: 'profile_id' };
    case 'coupon':
      return { kind: 'coupon' };
    case 'recommendations':
      return { kind: 'recommendations' };
    case 'unsubscribe_url':
      return { kind: 'unsubscribe_url' };
    case 'preferences_url':
      return { kind: 'preferences_url' };
    case 'campaign.name':
      return { kind: 'campaign_name' };
  }
  if (path.startsWith('traits.')) {
    const key = path.slice('traits.'.length).trim();
    if (key === '') return 'names no trait: write traits.<key>';
    return { kind: 'trait', key, nested: key.includes('.') ? key.split('.') : null };
  }
  if (path.startsWith('recommendations.')) {
    const n = path.slice('recommendations.'.length);
    if (/^[1-9]$/.test(n)) return { kind: 'recommendation', index: Number(n) - 1 };
    return `recommendations.${n} is not one of recommendations.1 … recommendations.9`;
  }
  return `${path} is not a placeholder; use ${ROOTS}`;
}

/** Parse a template once; issues name each bad placeholder and where it is. */
export function compileTemplate(text: string): CompileResult {
  const parts: Part[] = [];
  const issues: TemplateIssue[] = [];
  let literal = '';
  let literalLength = 0;
  let fallbackText = '';
  const flush = () => {
    if (literal !== '') parts.push(literal);
    literalLength += literal.length;
    literal = '';
  };
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    if (open < 0) {
      literal += text.slice(i);
      break;
    }
    // `\{{` writes a literal `{{`; the backslash is consumed.
    if (open > 0 && text[open - 1] === '\\') {
      literal += text.slice(i, open - 1) + '{{';
      i = open + 2;
      continue;
    }
    literal += text.slice(i, open);
    const close = text.indexOf('}}', open + 2);
    if (close < 0) {
      issues.push({ message: `\`{{\` at ${where(text, open)} is never closed with \`}}\` (write \\{{ for a literal {{)`, position: open });
      break;
    }
    const raw = text.slice(open, close + 2);
    const inner = text.slice(open + 2, close);
    const bar = inner.indexOf('|');
    const path = (bar < 0 ? inner : inner.slice(0, bar)).trim();
    const fallback = bar < 0 ? '' : inner.slice(bar + 1).trim();
    i = close + 2;
    if (path === '') {
      issues.push({ message: `\`${raw}\` at ${where(text, open)} names nothing; use ${ROOTS}`, position: open });
      continue;
    }
    const source = sourceOf(path);
    if (typeof source === 'string') {
      issues.push({ message: `\`${raw}\` at ${where(text, open)}: ${source}`, position: open });
      continue;
    }
    flush();
    fallbackText += fallback;
    parts.push(Object.freeze({ source: Object.freeze(source), fallback, path }));
  }
  flush();
  if (issues.length > 0) return { ok: false, issues };
  const literals = parts.filter((p): p is string => typeof p === 'string').join('');
  const separator = CJK.test(literals + fallbackText) ? '、' : ', ';
  return { ok: true, template: Object.freeze({ parts: Object.freeze(parts), separator, literalLength }) };
}

function stringOf(value: unknown, separator: string): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : '';
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (const item of value) {
          // An object inside a list would print as [object Object]; it is left out like a bare object.
          const text = item !== null && typeof item === 'object' ? '' : stringOf(item, separator);
          if (text !== '') items.push(text);
        }
        return items.join(separator);
      }
      return '';
    default:
      return '';
  }
}

function traitOf(traits: Record<string, unknown>, source: { key: string; nested: readonly string[] | null }): unknown {
  if (Object.hasOwn(traits, source.key)) return traits[source.key];
  if (!source.nested) return undefined;
  // `traits.address.city` reads a nested object when no trait is literally named `address.city`.
  let value: unknown = traits;
  for (const step of source.nested) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

function valueOf(source: Source, vars: TemplateVars, separator: string): string {
  switch (source.kind) {
    case 'trait':
      return stringOf(traitOf(vars.traits, source), separator);
    case 'profile_id':
      return vars.profileId;
    case 'coupon':
      return vars.coupon ?? '';
    case 'recommendations':
      return vars.recommendations.join(separator);
    case 'recommendation':
      return vars.recommendations[source.index] ?? '';
    case 'unsubscribe_url':
      return vars.unsubscribeUrl ?? '';
    case 'preferences_url':
      return vars.preferencesUrl ?? '';
    case 'campaign_name':
      return vars.campaignName;
  }
}

/** Fill a compiled template for one person; a missing or empty value gives the placeholder's fallback (or nothing). */
export function renderTemplate(compiled: CompiledTemplate, vars: TemplateVars): string {
  let out = '';
  for (const part of compiled.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = valueOf(part.source, vars, compiled.separator);
    out += value === '' ? part.fallback : value;
  }
  return out;
}

/** Every placeholder's path, once each, in order of first use. */
export function placeholders(compiled: CompiledTemplate): string[] {
  const seen = new Set<string>();
  for (const part of compiled.parts) if (typeof part !== 'string') seen.add(part.path);
  return [...seen];
}

function uses(compiled: CompiledTemplate, test: (source: Source) => boolean): boolean {
  return compiled.parts.some((part) => typeof part !== 'string' && test(part.source));
}

/** Does it show recommendations (the list or one of them)? Only then are they computed for the batch. */
export function usesRecommendations(compiled: CompiledTemplate): boolean {
  return uses(compiled, (s) => s.kind === 'recommendations' || s.kind === 'recommendation');
}

/** Does it need a consent link (`unsubscribe_url` or `preferences_url`)? Both are made from the same signed token. */
export function usesUnsubscribe(compiled: CompiledTemplate): boolean {
  return uses(compiled, (s) => s.kind === 'unsubscribe_url');
}

/** Does it link to the person's preference centre? Each link is a signature to make per message. */
export function usesPreferences(compiled: CompiledTemplate): boolean {
  return uses(compiled, (s) => s.kind === 'preferences_url');
}

/** Does it show the person's coupon? */
export function usesCoupon(compiled: CompiledTemplate): boolean {
  return uses(compiled, (s) => s.kind === 'coupon');
}

function compiledField(text: unknown, field: string, issues: TemplateIssue[]): CompiledTemplate | null {
  if (typeof text !== 'string') {
    issues.push({ field, message: `${field} must be text` });
    return null;
  }
  const result = compileTemplate(text);
  if (result.ok) return result.template;
  for (const issue of result.issues) issues.push({ ...issue, field, message: `${field}: ${issue.message}` });
  return null;
}

/** Everything wrong with a campaign's template for its channel; empty when it can be sent. */
export function validateTemplate(t: MessageTemplate, channel: Channel): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  // The template arrives as JSON: the type is a hope, not a fact.
  const raw = t as unknown as Record<string, unknown>;
  if (raw === null || typeof raw !== 'object') return [{ field: 'template', message: 'template must be an object with a body' }];
  const body = compiledField(raw.body, 'template.body', issues);
  if (typeof raw.body === 'string') {
    if (raw.body.length > MAX_BODY_LENGTH) issues.push({ field: 'template.body', message: `template.body is ${raw.body.length} characters; at most ${MAX_BODY_LENGTH}` });
    if (channel !== 'wechat' && channel !== 'webhook' && channel !== 'ads' && raw.body.trim() === '') issues.push({ field: 'template.body', message: `template.body is empty; a ${channel} message needs text` });
  }
  if (channel === 'sms' && body && body.literalLength > MAX_SMS_LITERAL_LENGTH) {
    issues.push({ field: 'template.body', message: `template.body has ${body.literalLength} characters of text besides placeholders; an SMS may have at most ${MAX_SMS_LITERAL_LENGTH}` });
  }
  if (raw.subject !== undefined) {
    compiledField(raw.subject, 'template.subject', issues);
    if (typeof raw.subject === 'string' && raw.subject.length > MAX_SUBJECT_LENGTH) issues.push({ field: 'template.subject', message: `template.subject is ${raw.subject.length} characters; at most ${MAX_SUBJECT_LENGTH}` });
  }
  if (channel === 'email' && (typeof raw.subject !== 'string' || raw.subject.trim() === '')) issues.push({ field: 'template.subject', message: 'an email needs template.subject' });
  if (channel === 'wechat' && (typeof raw.wechatTemplateId !== 'string' || raw.wechatTemplateId.trim() === '')) {
    issues.push({ field: 'template.wechatTemplateId', message: 'a wechat message needs template.wechatTemplateId, the id of the template registered with WeChat' });
  }
  if (raw.wechatData !== undefined) {
    if (raw.wechatData === null || typeof raw.wechatData !== 'object' || Array.isArray(raw.wechatData)) {
      issues.push({ field: 'template.wechatData', message: 'template.wechatData must be an object of field name to template' });
    } else {
      for (const [key, value] of Object.entries(raw.wechatData)) compiledField(value, `template.wechatData.${key}`, issues);
    }
  }
  if (raw.recommendations !== undefined && !(Number.isInteger(raw.recommendations) && (raw.recommendations as number) >= 1 && (raw.recommendations as number) <= 9)) {
    issues.push({ field: 'template.recommendations', message: 'template.recommendations must be a whole number from 1 to 9 (as many as recommendations.1 … recommendations.9 can show)' });
  }
  return issues;
}
