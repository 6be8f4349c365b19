import { describe, expect, it } from 'vitest';
import { mapColumns } from './import-columns.js';

const fields = (headers: string[], ...rest: Parameters<typeof mapColumns> extends [unknown, ...infer R] ? R : never) =>
  mapColumns(headers, ...rest).columns.map((c) => c.field);

describe('mapColumns', () => {
  it.each([
    [['姓名', '手机号', '邮箱', '生日', '性别', '城市', '省份', '地址', '会员号'], ['name', 'phone', 'email', 'birthday', 'gender', 'city', 'province', 'address', 'id']],
    [['First Name', 'last_name', 'E-mail', 'Mobile', 'Date of Birth', 'Customer ID'], ['first_name', 'last_name', 'email', 'phone', 'birthday', 'id']],
    [['名', '姓', '电子邮件', '电话', '出生日期', '客户编号'], ['first_name', 'last_name', 'email', 'phone', 'birthday', 'id']],
  ])('customers: %j', (headers, expected) => {
    expect(fields(headers, 'customers')).toEqual(expected);
  });

  it('orders: the customer number is a reference; a bare id is the order number', () => {
    expect(fields(['订单号', '会员号', '下单时间', '金额', '商品'], 'orders')).toEqual(['order_id', 'customer_id', 'date', 'amount', 'items']);
    expect(fields(['id', 'email', 'total'], 'orders')).toEqual(['order_id', 'email', 'amount']);
  });

  it('--map overrides and --id-column win; unmapped columns are kept with a warning', () => {
    const result = mapColumns(['uid', 'contact', 'vip level', 'note'], 'customers', { contact: 'phone', note: '' }, 'uid');
    expect(result.columns.map((c) => c.field)).toEqual(['id', 'phone', null, null]);
    expect(result.warnings.join(' ')).toContain('vip level');
  });

  it('names what is wrong with an override', () => {
    expect(mapColumns(['a'], 'customers', { b: 'email' }).error).toMatch(/no column "b"/);
    expect(mapColumns(['a'], 'customers', { a: 'favourite_colour' }).error).toMatch(/favourite_colour is not a field of customers/);
    expect(mapColumns(['a'], 'customers', { a: 'amount' }).error).toMatch(/amount is not a field of customers/);
    expect(mapColumns(['a'], 'customers', {}, 'zz').error).toMatch(/--id-column zz/);
  });

  it('a column whose field the kind does not use stays custom', () => {
    expect(fields(['email', '备注', '金额'], 'customers')).toEqual(['email', null, null]);
  });

  it('a second column for the same field stays custom', () => {
    const result = mapColumns(['手机', '电话'], 'customers');
    expect(result.columns.map((c) => c.field)).toEqual(['phone', null]);
    expect(result.warnings[0]).toMatch(/电话/);
  });
});
