import { describe, expect, it } from 'vitest';
import { describeRule } from './describe.js';
import type { Rule, Scalar, TraitOp } from './rule.js';

const en = (rule: Rule): string => describeRule(rule, 'en');
const zh = (rule: Rule): string => describeRule(rule, 'zh-CN');

describe('describeRule: the documented example', () => {
  const rule: Rule = {
    all: [
      { trait: 'city', op: 'eq', value: '上海' },
      { event: 'Order Completed', within: '30d', count: { gte: 3 } },
      { not: { event: 'Order Completed', within: '14d', count: { gte: 1 } } },
    ],
  };

  it('reads in English', () => {
    expect(en(rule)).toBe('city is 上海 and did Order Completed at least 3 times in the last 30 days and not (did Order Completed at least once in the last 14 days)');
  });

  it('reads in Chinese', () => {
    expect(zh(rule)).toBe('城市 为 上海 且 最近 30 天内 Order Completed 至少 3 次 且 非（最近 14 天内 Order Completed 至少 1 次）');
  });
});

describe('describeRule: trait operators', () => {
  const cases: ReadonlyArray<[string, TraitOp, Scalar | Scalar[] | undefined, string, string]> = [
    ['city', 'eq', '上海', 'city is 上海', '城市 为 上海'],
    ['city', 'neq', '上海', 'city is not 上海', '城市 不为 上海'],
    ['city', 'in', ['上海', '北京'], 'city is one of 上海, 北京', '城市 为 上海、北京 之一'],
    ['city', 'in', ['上海'], 'city is 上海', '城市 为 上海'],
    ['province', 'not_in', ['广东', '浙江'], 'province is not one of 广东, 浙江', '省份 不是 广东、浙江 中的任何一个'],
    ['name', 'contains', '王', 'name contains 王', '姓名 包含 王'],
    ['phone', 'starts_with', '138', 'phone starts with 138', '手机号 以 138 开头'],
    ['age', 'gt', 30, 'age is more than 30', '年龄 > 30'],
    ['age', 'gte', 18.5, 'age is at least 18.5', '年龄 ≥ 18.5'],
    ['age', 'lt', 60, 'age is less than 60', '年龄 < 60'],
    ['age', 'lte', 60.0, 'age is at most 60', '年龄 ≤ 60'],
    ['age', 'between', [18, 35], 'age is between 18 and 35', '年龄 在 18 到 35 之间'],
    ['email', 'exists', undefined, 'email is set', '邮箱 有值'],
    ['gender', 'missing', undefined, 'gender is not set', '性别 为空'],
    ['$lastSeenAt', 'within_last', '30d', 'last seen within the last 30 days', '最近活跃时间 在 最近 30 天内'],
    ['$createdAt', 'not_within_last', '1y', 'profile created not within the last year', '建档时间 不在 最近 1 年内'],
    ['$lastSeenAt', 'before', '30d', 'last seen more than 30 days ago', '最近活跃时间 早于 30 天前'],
    ['createdAt', 'before', '2026-01-01', 'createdAt before 2026-01-01', '创建时间 早于 2026-01-01'],
    ['$createdAt', 'after', '2w', 'profile created within the last 2 weeks', '建档时间 在 最近 2 周内'],
    ['signup_date', 'after', '2025-06-30', 'signup_date after 2025-06-30', 'signup_date 晚于 2025-06-30'],
    ['birthday', 'birthday_in_month', 3, 'birthday is in March', '生日 在 3 月'],
    ['birthday', 'birthday_in_month', 'current', 'birthday is this month', '生日 在本月'],
  ];

  it.each(cases)('%s %s %j', (trait, op, value, english, chinese) => {
    const rule: Rule = { trait, op, value };
    expect(en(rule)).toBe(english);
    expect(zh(rule)).toBe(chinese);
  });

  it('compares dates as dates, the upper bound covering its day', () => {
    expect(en({ trait: 'createdAt', op: 'gte', value: '2026-01-01' })).toBe('createdAt on or after 2026-01-01');
    expect(en({ trait: 'createdAt', op: 'lte', value: '2026-01-31' })).toBe('createdAt on or before 2026-01-31');
    expect(en({ trait: 'createdAt', op: 'gt', value: '2026-01-01' })).toBe('createdAt after 2026-01-01');
    expect(en({ trait: 'createdAt', op: 'lt', value: '2026-01-01' })).toBe('createdAt before 2026-01-01');
    expect(en({ trait: 'createdAt', op: 'between', value: ['2026-01-01', '2026-01-31'] })).toBe('createdAt between 2026-01-01 and 2026-01-31');
    expect(zh({ trait: 'createdAt', op: 'gte', value: '2026-01-01' })).toBe('创建时间 不早于 2026-01-01');
    expect(zh({ trait: 'createdAt', op: 'lte', value: '2026-01-31' })).toBe('创建时间 不晚于 2026-01-31');
    expect(zh({ trait: 'createdAt', op: 'between', value: ['2026-01-01', '2026-01-31'] })).toBe('创建时间 在 2026-01-01 到 2026-01-31 之间');
  });

  it('names every duration unit', () => {
    const units: ReadonlyArray<[string, string, string]> = [
      ['12h', 'the last 12 hours', '最近 12 小时内'],
      ['1h', 'the last hour', '最近 1 小时内'],
      ['1d', 'the last day', '最近 1 天内'],
      ['3w', 'the last 3 weeks', '最近 3 周内'],
      ['6m', 'the last 6 months', '最近 6 个月内'],
      ['2y', 'the last 2 years', '最近 2 年内'],
    ];
    for (const [value, english, chinese] of units) {
      expect(en({ trait: '$lastSeenAt', op: 'within_last', value })).toBe(`last seen within ${english}`);
      expect(zh({ trait: '$lastSeenAt', op: 'within_last', value })).toBe(`最近活跃时间 在 ${chinese}`);
    }
  });

  it('prints values plainly: no trailing zeros, booleans in words, quotes only where needed', () => {
    expect(en({ trait: 'vip', op: 'eq', value: true })).toBe('vip is true');
    expect(zh({ trait: 'vip', op: 'eq', value: false })).toBe('vip 为 否');
    expect(en({ trait: 'score', op: 'eq', value: 2.5 })).toBe('score is 2.5');
    expect(en({ trait: 'nickname', op: 'eq', value: '' })).toBe('nickname is ""');
    expect(zh({ trait: 'nickname', op: 'neq', value: ' 小王' })).toBe('nickname 不为 " 小王"');
    expect(zh({ trait: 'constructor', op: 'exists' })).toBe('constructor 有值');
  });
});

describe('describeRule: events', () => {
  it('reads an event with no test as done at least once', () => {
    expect(en({ event: 'Store Visited' })).toBe('did Store Visited at least once');
    expect(zh({ event: 'Store Visited' })).toBe('做过 Store Visited');
    expect(en({ event: 'Store Visited', within: '7d' })).toBe('did Store Visited at least once in the last 7 days');
    expect(zh({ event: 'Store Visited', within: '7d' })).toBe('最近 7 天内 做过 Store Visited');
  });

  it.each([
    [{ eq: 2 }, 'exactly 2 times', '恰好 2 次'],
    [{ eq: 1 }, 'exactly once', '恰好 1 次'],
    [{ gt: 1 }, 'more than once', '超过 1 次'],
    [{ gte: 5 }, 'at least 5 times', '至少 5 次'],
    [{ lt: 3 }, 'fewer than 3 times', '少于 3 次'],
    [{ lte: 1 }, 'at most once', '最多 1 次'],
    [{ gte: 3, lte: 5 }, 'between 3 and 5 times', '3 到 5 次'],
    [{ gt: 3, lt: 10 }, 'more than 3 and fewer than 10 times', '超过 3 次且少于 10 次'],
  ])('counts %j', (count, english, chinese) => {
    expect(en({ event: 'Order Completed', within: '30d', count })).toBe(`did Order Completed ${english} in the last 30 days`);
    expect(zh({ event: 'Order Completed', within: '30d', count })).toBe(`最近 30 天内 Order Completed ${chinese}`);
  });

  it('reads a count nobody with the event meets as never', () => {
    expect(en({ event: 'Order Completed', count: { eq: 0 } })).toBe('never did Order Completed');
    expect(zh({ event: 'Order Completed', count: { eq: 0 } })).toBe('从未做过 Order Completed');
    expect(en({ event: 'Order Completed', within: '90d', count: { lt: 1 } })).toBe('never did Order Completed in the last 90 days');
    expect(zh({ event: 'Order Completed', within: '90d', count: { lte: 0 } })).toBe('最近 90 天内 未做过 Order Completed');
  });

  it('reads "not" of a plain event as never', () => {
    const rule: Rule = { not: { event: 'Order Completed', within: '14d' } };
    expect(en(rule)).toBe('never did Order Completed in the last 14 days');
    expect(zh(rule)).toBe('最近 14 天内 未做过 Order Completed');
  });

  it('sums and averages a property', () => {
    expect(en({ event: 'Order Completed', within: '30d', sum: { property: 'revenue', gte: 500 } })).toBe('did Order Completed in the last 30 days with total revenue of at least 500');
    expect(zh({ event: 'Order Completed', within: '30d', sum: { property: 'revenue', gte: 500 } })).toBe('最近 30 天内 Order Completed 的 revenue 合计 ≥ 500');
    expect(en({ event: 'Order Completed', avg: { property: 'revenue', gte: 100, lte: 300.0 } })).toBe('did Order Completed with average revenue of between 100 and 300');
    expect(zh({ event: 'Order Completed', avg: { property: 'revenue', gte: 100, lte: 300 } })).toBe('Order Completed 的 revenue 平均值 在 100 到 300 之间');
    expect(en({ event: 'Order Completed', count: { gte: 2 }, sum: { property: 'revenue', gt: 1000 } })).toBe('did Order Completed at least 2 times with total revenue of more than 1000');
    expect(zh({ event: 'Order Completed', count: { gte: 2 }, sum: { property: 'revenue', gt: 1000 } })).toBe('Order Completed 至少 2 次，revenue 合计 > 1000');
  });

  it('filters on properties', () => {
    const rule: Rule = { event: 'Order Completed', where: [{ property: 'category', op: 'eq', value: '书籍' }], within: '30d', count: { gte: 2 } };
    expect(en(rule)).toBe('did Order Completed where category is 书籍 at least 2 times in the last 30 days');
    expect(zh(rule)).toBe('最近 30 天内 category 为 书籍 的 Order Completed 至少 2 次');
    const two: Rule = {
      event: 'Order Completed',
      where: [
        { property: 'channel', op: 'in', value: ['store', 'app'] },
        { property: 'revenue', op: 'gt', value: 99.9 },
      ],
    };
    expect(en(two)).toBe('did Order Completed where channel is one of store, app and revenue is more than 99.9 at least once');
    expect(zh(two)).toBe('做过 channel 为 store、app 之一、revenue > 99.9 的 Order Completed');
  });

  it('reads when the first and last occurrences fell', () => {
    expect(en({ event: 'Order Completed', first: { within: '30d' } })).toBe('first did Order Completed in the last 30 days');
    expect(zh({ event: 'Order Completed', first: { within: '30d' } })).toBe('首次 Order Completed 在 最近 30 天内');
    expect(en({ event: 'Order Completed', last: { before: '90d' } })).toBe('last did Order Completed more than 90 days ago');
    expect(zh({ event: 'Order Completed', last: { before: '90d' } })).toBe('最近一次 Order Completed 在 90 天前以前');
    const both: Rule = { event: 'Order Completed', first: { before: '1y' }, last: { within: '30d' } };
    expect(en(both)).toBe('first did Order Completed more than 1 year ago, last in the last 30 days');
    expect(zh(both)).toBe('首次 Order Completed 在 1 年前以前，最近一次在 最近 30 天内');
    const counted: Rule = { event: 'Order Completed', within: '1y', count: { gte: 4 }, last: { before: '60d' } };
    expect(en(counted)).toBe('did Order Completed at least 4 times in the last year, last more than 60 days ago');
    expect(zh(counted)).toBe('最近 1 年内 Order Completed 至少 4 次，最近一次在 60 天前以前');
  });

  it('reads windows given as dates or durations ago', () => {
    expect(en({ event: 'Email Opened', between: ['2026-01-01', '2026-03-31'] })).toBe('did Email Opened at least once between 2026-01-01 and 2026-03-31');
    expect(zh({ event: 'Email Opened', between: ['2026-01-01', '2026-03-31'] })).toBe('2026-01-01 到 2026-03-31 之间 做过 Email Opened');
    expect(en({ event: 'Email Opened', before: '2026-01-01' })).toBe('did Email Opened at least once before 2026-01-01');
    expect(zh({ event: 'Email Opened', before: '2026-01-01' })).toBe('2026-01-01 之前 做过 Email Opened');
    expect(en({ event: 'Email Opened', after: '2026-01-01' })).toBe('did Email Opened at least once after 2026-01-01');
    expect(zh({ event: 'Email Opened', after: '2026-01-01' })).toBe('2026-01-01 之后 做过 Email Opened');
    expect(en({ event: 'Email Opened', after: '90d', before: '30d' })).toBe('did Email Opened at least once between 90 days ago and 30 days ago');
    expect(zh({ event: 'Email Opened', after: '90d', before: '30d' })).toBe('90 天前 到 30 天前 之间 做过 Email Opened');
    expect(en({ event: 'Email Opened', before: '6m' })).toBe('did Email Opened at least once more than 6 months ago');
    expect(zh({ event: 'Email Opened', before: '6m' })).toBe('6 个月前以前 做过 Email Opened');
  });
});

describe('describeRule: segments, tags and scores', () => {
  const names = new Map([['seg_vip', '高价值客户']]);

  it('reads a segment reference as its name, or its id when unknown', () => {
    expect(describeRule({ segment: 'seg_vip' }, 'en', { segmentNames: names })).toBe('in segment «高价值客户»');
    expect(describeRule({ segment: 'seg_vip' }, 'zh-CN', { segmentNames: names })).toBe('属于分群「高价值客户」');
    expect(describeRule({ segment: 'seg_gone' }, 'en', { segmentNames: names })).toBe('in segment «seg_gone»');
    expect(zh({ segment: 'seg_vip' })).toBe('属于分群「seg_vip」');
    expect(describeRule({ not: { segment: 'seg_vip' } }, 'en', { segmentNames: names })).toBe('not in segment «高价值客户»');
    expect(describeRule({ not: { segment: 'seg_vip' } }, 'zh-CN', { segmentNames: names })).toBe('不属于分群「高价值客户」');
  });

  it('reads tags, with and without a value', () => {
    expect(en({ tag: 'VIP' })).toBe('tagged VIP');
    expect(zh({ tag: 'VIP' })).toBe('带有标签「VIP」');
    expect(en({ tag: 'age group', value: '25-34' })).toBe('tagged age group = 25-34');
    expect(zh({ tag: 'age group', value: '25-34' })).toBe('带有标签「age group = 25-34」');
    expect(en({ not: { tag: 'VIP' } })).toBe('not tagged VIP');
    expect(zh({ not: { tag: 'VIP' } })).toBe('不带有标签「VIP」');
  });

  it('reads scores under their Chinese names', () => {
    expect(en({ score: 'rfm_segment', op: 'eq', value: 'Champions' })).toBe('rfm_segment is Champions');
    expect(zh({ score: 'rfm_segment', op: 'eq', value: 'Champions' })).toBe('RFM 分层 为 Champions');
    expect(zh({ score: 'rfm_r', op: 'gte', value: 4 })).toBe('R 分 ≥ 4');
    expect(zh({ score: 'rfm_f', op: 'lte', value: 2 })).toBe('F 分 ≤ 2');
    expect(zh({ score: 'rfm_m', op: 'neq', value: 1 })).toBe('M 分 不为 1');
    expect(en({ score: 'clv', op: 'between', value: [1000, 5000] })).toBe('clv is between 1000 and 5000');
    expect(zh({ score: 'clv', op: 'between', value: [1000, 5000] })).toBe('客户终身价值 在 1000 到 5000 之间');
    expect(zh({ score: 'churn_risk', op: 'gt', value: 0.75 })).toBe('流失风险 > 0.75');
    expect(zh({ score: 'cluster', op: 'in', value: [1, 3] })).toBe('聚类 为 1、3 之一');
    expect(zh({ score: 'propensity', op: 'exists' })).toBe('propensity 有值');
  });
});

describe('describeRule: groups', () => {
  it('puts nested groups in parentheses', () => {
    const rule: Rule = {
      any: [
        { all: [{ trait: 'city', op: 'eq', value: '上海' }, { tag: 'VIP' }] },
        { trait: 'city', op: 'eq', value: '北京' },
      ],
    };
    expect(en(rule)).toBe('(city is 上海 and tagged VIP) or city is 北京');
    expect(zh(rule)).toBe('（城市 为 上海 且 带有标签「VIP」） 或 城市 为 北京');
  });

  it('negates a group with one pair of parentheses', () => {
    const rule: Rule = { not: { any: [{ tag: 'VIP' }, { tag: 'staff' }] } };
    expect(en(rule)).toBe('not (tagged VIP or tagged staff)');
    expect(zh(rule)).toBe('非（带有标签「VIP」 或 带有标签「staff」）');
  });

  it('drops groups of one and merges a group into its own kind', () => {
    expect(en({ all: [{ any: [{ tag: 'VIP' }] }] })).toBe('tagged VIP');
    expect(en({ all: [{ tag: 'a' }, { all: [{ tag: 'b' }, { tag: 'c' }] }] })).toBe('tagged a and tagged b and tagged c');
    expect(zh({ any: [{ any: [{ tag: 'a' }, { tag: 'b' }] }, { tag: 'c' }] })).toBe('带有标签「a」 或 带有标签「b」 或 带有标签「c」');
  });

  it('reads empty groups as everyone and no one', () => {
    expect(en({ all: [] })).toBe('everyone');
    expect(zh({ any: [] })).toBe('无人');
  });

  it('outlines a deep tree', () => {
    const rule: Rule = {
      all: [
        { trait: 'city', op: 'in', value: ['上海', '北京'] },
        {
          any: [
            { segment: 'seg_vip' },
            {
              all: [
                { score: 'clv', op: 'gte', value: 1000 },
                { not: { any: [{ event: 'Order Refunded', within: '90d' }, { trait: 'gender', op: 'missing' }] } },
                { not: { tag: 'staff' } },
              ],
            },
          ],
        },
      ],
    };
    const context = { segmentNames: new Map([['seg_vip', '高价值客户']]) };
    expect(describeRule(rule, 'en', context)).toBe(
      [
        'all of:',
        '  - city is one of 上海, 北京',
        '  - any of:',
        '    - in segment «高价值客户»',
        '    - all of:',
        '      - clv is at least 1000',
        '      - none of:',
        '        - did Order Refunded at least once in the last 90 days',
        '        - gender is not set',
        '      - not tagged staff',
      ].join('\n'),
    );
    expect(describeRule(rule, 'zh-CN', context)).toBe(
      [
        '满足以下全部条件：',
        '  - 城市 为 上海、北京 之一',
        '  - 满足以下任一条件：',
        '    - 属于分群「高价值客户」',
        '    - 满足以下全部条件：',
        '      - 客户终身价值 ≥ 1000',
        '      - 以下条件均不满足：',
        '        - 最近 90 天内 做过 Order Refunded',
        '        - 性别 为空',
        '      - 不带有标签「staff」',
      ].join('\n'),
    );
  });

  it('keeps two levels as one sentence', () => {
    const rule: Rule = {
      all: [{ any: [{ tag: 'a' }, { tag: 'b' }] }, { not: { all: [{ tag: 'c' }, { tag: 'd' }] } }],
    };
    expect(en(rule)).toBe('(tagged a or tagged b) and not (tagged c and tagged d)');
  });

  it('heads a "not all" group in an outline', () => {
    const rule: Rule = { not: { all: [{ tag: 'a' }, { any: [{ tag: 'b' }, { all: [{ tag: 'c' }, { tag: 'd' }] }] }] } };
    expect(en(rule)).toBe(['not all of:', '  - tagged a', '  - any of:', '    - tagged b', '    - all of:', '      - tagged c', '      - tagged d'].join('\n'));
    expect(zh(rule).split('\n')[0]).toBe('不同时满足以下条件：');
  });
});
