import { describe, expect, it } from 'vitest';
import { maskField, maskValue } from './mask.js';

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
