import { describe, expect, it } from 'vitest';
import { maskEvent, maskField, maskFields, maskFreeText, maskIdentities, maskLineageEntry, maskProfile, maskRecords, maskValue, type Viewer } from './mask.js';

describe('maskValue', () => {
  it.each([
    ['13800138000', '138****8000'],
    ['+8613800138000', '+86****8000'],
    ['zhang.wei@qq.com', 'z***@qq.com'],
    ['张伟', '张*'],
    ['欧阳娜娜', '欧**娜'],
    ['John Smith', 'J******h'],
    ['a', '*'],
    [13800138000, '138****8000'],
    [null, null],
    [{ street: '世纪大道100号', city: '上海市', district: '浦东新区' }, { street: '世******号', city: '上海市', district: '浦东新区' }],
    [['13800138000'], '***'],
    ['5551234', '5*****4'],
    ['13800138', '1******8'],
    [{ number: '13800138000' }, { number: '138****8000' }],
    [{ value: 'x@y.com' }, { value: 'x***@y.com' }],
    [{ street: '1 Main St', postal_code: '62704', Country: 'US' }, { street: '1******t', postal_code: '62704', Country: 'US' }],
  ])('%s → %s', (value, masked) => {
    expect(maskValue(value)).toEqual(masked);
  });

  it('masks identifier fields only', () => {
    expect(maskField('phone', '13800138000')).toBe('138****8000');
    expect(maskField('nationalId', '11010519491231002X')).toBe('110****002X');
    expect(maskField('city', '上海市')).toBe('上海市');
    expect(maskField('birthday', '1990-02-30')).toBe('1990-02-30');
  });
});

const admin: Viewer = { unmasked: ['identifier', 'quasi'] };
const analyst: Viewer = { unmasked: ['quasi'] };
const auditor: Viewer = { unmasked: [] };

describe('masking by role', () => {
  const traits = {
    email: 'zhang@qq.com',
    phone: '13812348000',
    name: '张三',
    city: '上海市',
    birthday: '1990-05-01',
    address: { street: '世纪大道100号', city: '上海市', postal_code: '200120' },
    plan: 'gold',
    orders: 12,
  };

  it('shows everything to a role that sees identifiers and quasi fields, as the same object', () => {
    expect(maskFields(traits, admin)).toBe(traits);
  });

  it('masks identifiers but not quasi fields for a role that sees quasi fields only', () => {
    expect(maskFields(traits, analyst)).toEqual({
      email: 'z***@qq.com',
      phone: '138****8000',
      name: '张*',
      city: '上海市',
      birthday: '1990-05-01',
      address: { street: '世******号', city: '上海市', postal_code: '200120' },
      plan: 'gold',
      orders: 12,
    });
  });

  it('masks a mainland mobile sent as a number under an unlisted key, not timestamps or amounts', () => {
    expect(maskFields({ receiver_mobile: 13812348000, sent_at_ms: 1732500000000, amount_fen: 12345678901 }, analyst)).toEqual({
      receiver_mobile: '138****8000',
      sent_at_ms: 1732500000000,
      amount_fen: 12345678901,
    });
  });

  it('masks quasi fields too, address places included, for a role that sees neither', () => {
    expect(maskFields(traits, auditor)).toEqual({
      email: 'z***@qq.com',
      phone: '138****8000',
      name: '张*',
      city: '上**',
      birthday: '1******1',
      address: { street: '世******号', city: '上**', postal_code: '2****0' },
      plan: 'gold',
      orders: 12,
    });
  });

  it('masks identifiers by class alone: a role with identifiers but not quasi fields', () => {
    expect(maskFields({ email: 'zhang@qq.com', gender: 'female' }, { unmasked: ['identifier'] })).toEqual({ email: 'zhang@qq.com', gender: 'f****e' });
  });

  it('masks a list of identifiers element by element, and an address by any name', () => {
    expect(maskFields({ emails: ['a@b.com', 'cd@e.com'], shippingAddress: { line1: '1 Main St', city: 'Springfield' } }, analyst)).toEqual({
      emails: ['a***@b.com', 'c***@e.com'],
      shippingAddress: { line1: '1******t', city: 'Springfield' },
    });
  });

  it('masks identity values, keeping the source of a record visible', () => {
    const identities = [
      { type: 'email', value: 'zhang@qq.com', source: 'web', firstSeenAt: 'x' },
      { type: 'phone', value: '+8613812348000', source: 'web', firstSeenAt: 'x' },
      { type: 'userId', value: 'u-12345', source: 'web', firstSeenAt: 'x' },
      { type: 'record', value: 'crm:C000123', source: 'crm', firstSeenAt: 'x' },
    ];
    expect(maskIdentities(identities, analyst).map((i) => i.value)).toEqual(['z***@qq.com', '+86****8000', 'u*****5', 'crm:C*****3']);
    expect(maskIdentities(identities, admin)).toEqual(identities);
    expect(maskRecords([{ source: 'crm', id: 'C000123' }], analyst)).toEqual([{ source: 'crm', id: 'C*****3' }]);
  });

  it('masks a whole profile but leaves ids, tags and segments', () => {
    const profile = { id: 'p1', traits: { name: '张三', plan: 'gold' }, identities: [{ type: 'email', value: 'zhang@qq.com' }], records: [{ source: 'web', id: 'zhang' }], segments: ['name'], tags: ['vip'] };
    expect(maskProfile(profile, analyst)).toEqual({ id: 'p1', traits: { name: '张*', plan: 'gold' }, identities: [{ type: 'email', value: 'z***@qq.com' }], records: [{ source: 'web', id: 'z***g' }], segments: ['name'], tags: ['vip'] });
    expect(maskProfile(profile, admin)).toBe(profile);
  });

  it('masks events: ids, properties and context key by key, recursively', () => {
    const event = {
      messageId: 'm1',
      userId: 'zhang',
      anonymousId: null,
      properties: { email: 'zhang@qq.com', revenue: 99, products: [{ sku: 'A1', price: 3 }], recipient: { phone: '13812348000', city: '杭州市' } },
      context: { ip: '203.0.113.7', userAgent: 'Mozilla', traits: { name: '张三', city: '上海市' }, location: { latitude: 31.2304 } },
    };
    expect(maskEvent(event, analyst)).toEqual({
      messageId: 'm1',
      userId: 'z***g',
      anonymousId: null,
      properties: { email: 'z***@qq.com', revenue: 99, products: [{ sku: 'A1', price: 3 }], recipient: { phone: '138****8000', city: '杭州市' } },
      context: { ip: '2******7', userAgent: 'Mozilla', traits: { name: '张*', city: '上海市' }, location: { latitude: '3*****4' } },
    });
    expect(maskEvent({ ...event, context: null }, auditor).properties.recipient).toEqual({ phone: '138****8000', city: '杭**' });
  });

  it('masks lineage entries by the field they are about, the quoted value in a reason included', () => {
    const standardized = { field: 'context.traits.email', kind: 'standardized', original: ' Zhang@QQ.com ', value: 'zhang@qq.com', rules: ['email.lowercase'] };
    expect(maskLineageEntry(standardized, analyst)).toEqual({ ...standardized, original: ' ***@QQ.com ', value: 'z***@qq.com' });
    const refused = { field: 'email', kind: 'refused', original: 'zhang@@qq.com', issue: 'email.invalid', reason: '"zhang@@qq.com" has more than one @.' };
    const masked = maskLineageEntry(refused, analyst);
    expect(masked.original).toBe('z***@qq.com');
    expect(masked.reason).not.toContain('zhang');
    const flagged = { field: 'email', kind: 'flagged', original: 'zhang@qq.con', flag: 'email.domain_typo', suggestion: 'zhang@qq.com' };
    expect(maskLineageEntry(flagged, analyst)).toMatchObject({ original: 'z***@qq.con', suggestion: 'z***@qq.com' });
    const city = { field: 'city', kind: 'standardized', original: '上海', value: '上海市' };
    expect(maskLineageEntry(city, analyst)).toEqual(city);
    expect(maskLineageEntry(city, auditor)).toEqual({ ...city, original: '上*', value: '上**' });
  });

  it('masks contact details in free text for roles without identifiers', () => {
    const text = '太差了，退款！电话 138 1234 8000，邮箱 zhang@qq.com，订单 42';
    expect(maskFreeText(text, analyst)).toBe('太差了，退款！电话 138****8000，邮箱 z***@qq.com，订单 42');
    expect(maskFreeText(text, admin)).toBe(text);
  });

  it('leaves dates, prices and order numbers in free text alone', () => {
    const text = '2026-01-01 12:30 下单，订单号 20260101，¥1299，+86 138-1234-8000';
    expect(maskFreeText(text, analyst)).toBe('2026-01-01 12:30 下单，订单号 20260101，¥1299，+86****8000');
  });

  it('leaves ids alone: a UUID or a code with a long run of digits is no phone', () => {
    const text = 'profile 81234567-8901-4abc-9def-123456789012, coupon SAVE12345678901, ID 11010519491231002X';
    expect(maskFreeText(text, analyst)).toBe('profile 81234567-8901-4abc-9def-123456789012, coupon SAVE12345678901, ID 110****002X');
  });

  it('keeps behavioral fields as they are but masks the contact details typed into them', () => {
    const properties = { comment: '请回电 13812348000', rating: 1, tags: ['late', 'zhang@qq.com'], at: '2026-01-01T10:00:00Z' };
    expect(maskFields(properties, analyst)).toEqual({ comment: '请回电 138****8000', rating: 1, tags: ['late', 'z***@qq.com'], at: '2026-01-01T10:00:00Z' });
    expect(maskFields(properties, { unmasked: ['identifier'] })).toEqual(properties);
  });
});
