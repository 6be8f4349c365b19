import { createHash } from 'node:crypto';
import { parseDate } from '../clean/date.js';
import { standardizeEmail } from '../clean/email.js';
import { standardizePhone } from '../clean/phone.js';
import type { CleanContext } from '../clean/settings.js';
import type { ImportField, ImportKind } from './import-columns.js';

/** One row of a file, by standard field (mapped columns) and by header (the rest). */
export interface ImportRow {
  fields: Partial<Record<ImportField, unknown>>;
  custom: Record<string, unknown>;
}

export type RowResult =
  | { ok: true; message: Record<string, unknown> }
  | { ok: false; column: string; reason: string };

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** `¥1,234.50`, `1234.5`, `US$ 12` → number; null when it is not one. */
export function parseAmount(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const s = text(value)?.normalize('NFKC').replace(/[¥$€£,\s]|RMB|CNY|USD|EUR|US|元/gi, '');
  if (!s || !/^-?\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

function integerIn(value: unknown, min: number, max: number): number | null {
  const n = parseAmount(value);
  return n !== null && Number.isInteger(n) && n >= min && n <= max ? n : null;
}

function fail(column: string, reason: string): RowResult {
  return { ok: false, column, reason };
}

/**
 * A stable messageId from what the row says: importing the same file again
 * gives the same ids, and the event log stores them once.
 */
function rowMessageId(source: string, kind: ImportKind, key: string | undefined, content: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify([source, kind, key ?? null, content])).digest('base64url');
  return `import-${hash.slice(0, 32)}`;
}

function customerRecord(source: string, id: string | undefined) {
  return id ? { externalIds: [{ type: 'record', collection: source, id, encoding: 'none' }] } : {};
}

function contactTraits(fields: ImportRow['fields']): Record<string, string> {
  const traits: Record<string, string> = {};
  for (const [field, trait] of [['email', 'email'], ['phone', 'phone'], ['name', 'name']] as const) {
    const value = text(fields[field]);
    if (value) traits[trait] = value;
  }
  return traits;
}

function customTexts(custom: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(custom)) {
    if (key.trim() === '') continue;
    const v = typeof value === 'string' ? text(value) : value;
    if (v !== undefined && v !== null) out[key] = v;
  }
  return out;
}

const CUSTOMER_TRAITS: ReadonlyArray<[ImportField, string]> = [
  ['name', 'name'], ['first_name', 'firstName'], ['last_name', 'lastName'], ['email', 'email'], ['phone', 'phone'],
  ['birthday', 'birthday'], ['gender', 'gender'], ['city', 'city'], ['province', 'province'], ['country', 'country'],
  ['address', 'address'], ['postal_code', 'postalCode'], ['company', 'company'], ['created_at', 'createdAt'],
];

/**
 * A row without a record id must be found by its email or phone; when every
 * one it has fails its standardizer, the pipeline could link it to nobody, so
 * it is refused here, naming the column, rather than kept as an orphan.
 */
function unusableContact(id: string | undefined, contact: { email?: unknown; phone?: unknown }, context: CleanContext): [string, string] | null {
  if (id) return null;
  const problems: Array<[string, string]> = [];
  if (contact.email !== undefined) {
    const email = standardizeEmail(contact.email);
    if (email.ok) return null;
    problems.push(['email', email.reason]);
  }
  if (contact.phone !== undefined) {
    const phone = standardizePhone(contact.phone, { countries: context.countries });
    if (phone.ok) return null;
    problems.push(['phone', phone.reason]);
  }
  const [column, reason] = problems[0] ?? ['id', 'no identifier'];
  return [column, `${reason}; the row has no id and no other usable email or phone`];
}

function customer(source: string, row: ImportRow, context: CleanContext): RowResult {
  const id = text(row.fields.id);
  const traits: Record<string, unknown> = {};
  for (const [field, trait] of CUSTOMER_TRAITS) {
    const value = text(row.fields[field]);
    if (value !== undefined) traits[trait] = value;
  }
  Object.assign(traits, customTexts(row.custom));
  if (!id && !traits.email && !traits.phone) return fail('id', 'no identifier: the row has no id, email or phone');
  const unusable = unusableContact(id, traits, context);
  if (unusable) return fail(...unusable);
  return {
    ok: true,
    message: { type: 'identify', messageId: rowMessageId(source, 'customers', id, traits), traits, context: customerRecord(source, id) },
  };
}

function itemsOf(row: ImportRow): { items?: unknown[]; problem?: [string, string] } {
  const raw = row.fields.items;
  if (Array.isArray(raw)) return { items: raw };
  const listed = text(raw);
  if (listed) {
    if (listed.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(listed);
        if (Array.isArray(parsed)) return { items: parsed };
      } catch {
        // not JSON after all: a plain list
      }
    }
    return { items: listed.split(/[;；|、]/).map((name) => name.trim()).filter(Boolean).map((name) => ({ name })) };
  }
  const productId = text(row.fields.product_id);
  const name = text(row.fields.product_name);
  if (!productId && !name) return {};
  const item: Record<string, unknown> = {};
  if (productId) item.product_id = productId;
  if (name) item.name = name;
  const category = text(row.fields.category);
  if (category) item.category = category;
  if (row.fields.price !== undefined && text(row.fields.price) !== undefined) {
    const price = parseAmount(row.fields.price);
    if (price === null) return { problem: ['price', 'price is not a number'] };
    item.price = price;
  }
  if (row.fields.quantity !== undefined && text(row.fields.quantity) !== undefined) {
    const quantity = parseAmount(row.fields.quantity);
    if (quantity === null || !Number.isInteger(quantity) || quantity < 0) return { problem: ['quantity', 'quantity is not a whole number ≥ 0'] };
    item.quantity = quantity;
  }
  return { items: [item] };
}

function timestampOf(row: ImportRow, required: boolean, context: CleanContext): { timestamp?: string; problem?: [string, string] } {
  const raw = row.fields.date;
  if (raw === undefined || text(raw) === undefined) return required ? { problem: ['date', 'date is missing: an order needs its date'] } : {};
  const parsed = parseDate(raw instanceof Date ? raw : String(raw), context.dateOrder);
  if (!parsed.ok) {
    const why = parsed.issue === 'date.ambiguous' ? 'is ambiguous (day and month could be swapped): write it as YYYY-MM-DD, or set the source\'s date order (PUT /api/sources/:id/cleaning)' : 'is not a date';
    return { problem: ['date', `date ${why}`] };
  }
  return { timestamp: parsed.value.toISOString() };
}

/** Who an order or feedback row is about: the customer's record id and/or contact details, as message context. */
function customerOf(source: string, row: ImportRow, cleaning: CleanContext): { customerId: string | undefined; contact: Record<string, string>; context: Record<string, unknown> } | { problem: [string, string] } | null {
  const customerId = text(row.fields.customer_id);
  const contact = contactTraits(row.fields);
  if (!customerId && !contact.email && !contact.phone) return null;
  const unusable = unusableContact(customerId, contact, cleaning);
  if (unusable) return { problem: unusable };
  return { customerId, contact, context: { ...customerRecord(source, customerId), ...(Object.keys(contact).length > 0 ? { traits: contact } : {}) } };
}

const NO_CUSTOMER = 'no identifier: the row has no customer id, email or phone';

function order(source: string, row: ImportRow, context: CleanContext): RowResult {
  const customer = customerOf(source, row, context);
  if (!customer) return fail('customer_id', NO_CUSTOMER);
  if ('problem' in customer) return fail(...customer.problem);
  const { customerId, contact } = customer;
  const when = timestampOf(row, true, context);
  if (when.problem) return fail(...when.problem);
  const properties: Record<string, unknown> = {};
  const orderId = text(row.fields.order_id);
  if (orderId) properties.order_id = orderId;
  if (text(row.fields.amount) !== undefined) {
    const revenue = parseAmount(row.fields.amount);
    if (revenue === null) return fail('amount', 'amount is not a number');
    properties.revenue = revenue;
  }
  const items = itemsOf(row);
  if (items.problem) return fail(...items.problem);
  if (items.items) properties.items = items.items;
  for (const field of ['currency', 'store', 'channel', 'status'] as const) {
    const value = text(row.fields[field]);
    if (value) properties[field] = value;
  }
  Object.assign(properties, customTexts(row.custom));
  const message: Record<string, unknown> = {
    type: 'track',
    event: properties.status && /refund|退款/i.test(String(properties.status)) ? 'Order Refunded' : 'Order Completed',
    messageId: rowMessageId(source, 'orders', orderId, [customerId, contact, when.timestamp, properties]),
    timestamp: when.timestamp,
    properties,
    context: customer.context,
  };
  return { ok: true, message };
}

function feedback(source: string, row: ImportRow, context: CleanContext): RowResult {
  const customer = customerOf(source, row, context);
  if (!customer) return fail('customer_id', NO_CUSTOMER);
  if ('problem' in customer) return fail(...customer.problem);
  const { customerId, contact } = customer;
  const when = timestampOf(row, false, context);
  if (when.problem) return fail(...when.problem);
  const properties: Record<string, unknown> = {};
  if (text(row.fields.nps) !== undefined) {
    const nps = integerIn(row.fields.nps, 0, 10);
    if (nps === null) return fail('nps', 'nps must be a whole number from 0 to 10');
    properties.nps = nps;
  }
  if (text(row.fields.csat) !== undefined) {
    const csat = integerIn(row.fields.csat, 1, 5);
    if (csat === null) return fail('csat', 'csat must be a whole number from 1 to 5');
    properties.csat = csat;
  }
  if (text(row.fields.rating) !== undefined) {
    const rating = parseAmount(row.fields.rating);
    if (rating === null) return fail('rating', 'rating is not a number');
    properties.rating = rating;
  }
  for (const field of ['comment', 'topic', 'channel', 'store'] as const) {
    const value = text(row.fields[field]);
    if (value) properties[field] = value;
  }
  Object.assign(properties, customTexts(row.custom));
  if (properties.nps === undefined && properties.csat === undefined && properties.rating === undefined && properties.comment === undefined) {
    return fail('comment', 'empty feedback: no score and no comment');
  }
  const scored = properties.nps !== undefined || properties.csat !== undefined;
  return {
    ok: true,
    message: {
      type: 'track',
      event: scored ? 'Survey Responded' : 'Feedback Submitted',
      messageId: rowMessageId(source, 'feedback', customerId, [contact, when.timestamp, properties]),
      ...(when.timestamp ? { timestamp: when.timestamp } : {}),
      properties,
      context: customer.context,
    },
  };
}

/**
 * One row → one Segment message (customers → identify with the record id;
 * orders → Order Completed; feedback → Survey Responded or Feedback Submitted),
 * or the column and reason it was refused.
 */
export function rowToMessage(kind: ImportKind, source: string, row: ImportRow, context: CleanContext): RowResult {
  if (kind === 'customers') return customer(source, row, context);
  if (kind === 'orders') return order(source, row, context);
  return feedback(source, row, context);
}
