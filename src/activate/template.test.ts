import { describe, expect, it } from 'vitest';
import { compileTemplate, placeholders, renderTemplate, usesCoupon, usesPreferences, usesRecommendations, usesUnsubscribe, validateTemplate, type CompiledTemplate, type TemplateVars } from './template.js';

const VARS: TemplateVars = {
  traits: {
    first_name: 'Ann',
    城市: '上海',
    age: 34,
    vip: true,
    empty: '',
    nothing: null,
    colours: ['red', 'blue'],
    address: { city: 'Hangzhou' },
    'dotted.key': 'literal dot',
    nan: Number.NaN,
  },
  profileId: '6f1c2a9e-0000-4000-8000-000000000001',
  coupon: 'SAVE-AB12CD34EF',
  recommendations: ['Teapot', 'Teacup', 'Kettle'],
  unsubscribeUrl: 'https://example.com/u/tok',
  preferencesUrl: 'https://example.com/p/tok',
  campaignName: 'Spring sale',
};

function compiled(text: string): CompiledTemplate {
  const result = compileTemplate(text);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.template;
}

describe('renderTemplate', () => {
  it.each([
    ['plain text', 'Hello', 'Hello'],
    ['a trait', 'Hi {{traits.first_name}}!', 'Hi Ann!'],
    ['spaces inside braces', 'Hi {{  traits.first_name  }}', 'Hi Ann'],
    ['a non-ASCII trait key', '你好，{{traits.城市}}的朋友', '你好，上海的朋友'],
    ['a number', 'age {{traits.age}}', 'age 34'],
    ['a boolean', 'vip {{traits.vip}}', 'vip true'],
    ['an array', '{{traits.colours}}', 'red, blue'],
    ['an object is never [object Object]', '[{{traits.address}}]', '[]'],
    ['an object falls back', '{{traits.address | somewhere}}', 'somewhere'],
    ['a nested trait', '{{traits.address.city}}', 'Hangzhou'],
    ['a trait literally named with a dot', '{{traits.dotted.key}}', 'literal dot'],
    ['a missing trait', 'Hi {{traits.last_name}}.', 'Hi .'],
    ['a missing trait with a fallback', 'Hi {{traits.last_name | friend}}.', 'Hi friend.'],
    ['an empty trait with a fallback', '{{traits.empty|none}}', 'none'],
    ['a null trait with a fallback', '{{ traits.nothing | 无 }}', '无'],
    ['NaN is missing', '{{traits.nan | ?}}', '?'],
    ['a present trait ignores the fallback', '{{traits.first_name | friend}}', 'Ann'],
    ['a Chinese fallback', '亲爱的{{traits.name | 朋友}}', '亲爱的朋友'],
    ['a fallback with spaces and punctuation', '{{traits.x | dear customer, hello}}', 'dear customer, hello'],
    ['profile id', '{{profile.id}}', '6f1c2a9e-0000-4000-8000-000000000001'],
    ['coupon', 'Code: {{coupon}}', 'Code: SAVE-AB12CD34EF'],
    ['campaign name', '{{campaign.name}}', 'Spring sale'],
    ['links', '{{unsubscribe_url}} {{preferences_url}}', 'https://example.com/u/tok https://example.com/p/tok'],
    ['recommendations in English', 'Try {{recommendations}}', 'Try Teapot, Teacup, Kettle'],
    ['recommendations in Chinese', '推荐：{{recommendations}}', '推荐：Teapot、Teacup、Kettle'],
    ['arrays in Chinese', '颜色：{{traits.colours}}', '颜色：red、blue'],
    ['Chinese only in the fallback', '{{recommendations}} {{traits.x | 你好}}', 'Teapot、Teacup、Kettle 你好'],
    ['one recommendation', '{{recommendations.2}}', 'Teacup'],
    ['a recommendation past the end', '{{recommendations.9 | nothing}}', 'nothing'],
    ['an escaped placeholder', 'write \\{{coupon}} to show {{coupon}}', 'write {{coupon}} to show SAVE-AB12CD34EF'],
    ['lone braces are text', 'a } b { c }} d', 'a } b { c }} d'],
    ['placeholders back to back', '{{traits.first_name}}{{traits.age}}', 'Ann34'],
    ['multi-line', 'Line 1\n{{traits.first_name}}\nLine 3', 'Line 1\nAnn\nLine 3'],
  ])('%s', (_name, text, expected) => {
    expect(renderTemplate(compiled(text), VARS)).toBe(expected);
  });

  it('gives the fallback for an absent coupon, recommendations and links', () => {
    const t = compiled('{{coupon | no code}}/{{recommendations | bestsellers}}/{{unsubscribe_url | reply STOP}}');
    expect(renderTemplate(t, { ...VARS, coupon: null, recommendations: [], unsubscribeUrl: null })).toBe('no code/bestsellers/reply STOP');
  });

  it('keeps one frozen compiled form and renders it again and again', () => {
    const t = compiled('Hi {{traits.first_name | friend}}, {{recommendations.1}} with {{coupon}}');
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.parts)).toBe(true);
    const parts = t.parts;
    const people = Array.from({ length: 100_000 }, (_, i) => ({ ...VARS, traits: i % 2 === 0 ? { first_name: `P${i}` } : {}, coupon: `C${i}` }));
    const started = performance.now();
    let bytes = 0;
    for (const vars of people) bytes += renderTemplate(t, vars).length;
    const ms = performance.now() - started;
    console.log(`rendered 100,000 messages in ${ms.toFixed(1)} ms (${Math.round(100_000 / (ms / 1000)).toLocaleString('en')} a second)`);
    expect(bytes).toBeGreaterThan(0);
    expect(t.parts).toBe(parts);
    expect(renderTemplate(t, people[0]!)).toBe('Hi P0, Teapot with C0');
    expect(renderTemplate(t, people[1]!)).toBe('Hi friend, Teapot with C1');
  });
});

describe('compileTemplate', () => {
  it.each([
    ['an unknown root', 'Hi {{foo}}', /`\{\{foo\}\}` at line 1, column 4: foo is not a placeholder/],
    ['an unknown dotted root', '{{profile.email}}', /profile\.email is not a placeholder/],
    ['an empty path', 'Hi {{ }} there', /`\{\{ \}\}` at line 1, column 4 names nothing/],
    ['an empty path with a fallback', '{{ | x}}', /names nothing/],
    ['traits without a key', '{{traits.}}', /names no trait/],
    ['a recommendation out of range', '{{recommendations.0}}', /recommendations\.0 is not one of/],
    ['a recommendation past nine', '{{recommendations.10}}', /recommendations\.10 is not one of/],
    ['unterminated', 'Hello {{traits.first_name', /`\{\{` at line 1, column 7 is never closed/],
    ['unterminated on a later line', 'Hello\n\nthere {{coupon', /line 3, column 7/],
  ])('refuses %s', (_name, text, message) => {
    const result = compileTemplate(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]!.message).toMatch(message);
    expect(result.issues[0]!.position).toBe(text.indexOf('{{'));
  });

  it('lists every bad placeholder, not just the first', () => {
    const result = compileTemplate('{{a}} {{traits.ok}} {{b}}');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.position)).toEqual([0, 20]);
  });

  it('says what a template needs', () => {
    const t = compiled('{{traits.name}} {{recommendations.1}} {{coupon}} {{traits.name}} {{preferences_url}}');
    expect(placeholders(t)).toEqual(['traits.name', 'recommendations.1', 'coupon', 'preferences_url']);
    expect(usesRecommendations(t)).toBe(true);
    expect([usesPreferences(t), usesUnsubscribe(t)]).toEqual([true, false]);
    expect([usesPreferences(compiled('{{unsubscribe_url}}')), usesUnsubscribe(compiled('{{unsubscribe_url}}'))]).toEqual([false, true]);
    expect(usesCoupon(t)).toBe(true);
    const plain = compiled('Hello {{traits.name}}');
    expect([usesRecommendations(plain), usesUnsubscribe(plain), usesPreferences(plain), usesCoupon(plain)]).toEqual([false, false, false, false]);
  });
});

describe('validateTemplate', () => {
  it.each([
    ['a good email', { subject: 'Hi {{traits.name | there}}', body: 'Body {{unsubscribe_url}}' }, 'email', []],
    ['an email without a subject', { body: 'Body' }, 'email', ['template.subject']],
    ['an email with a blank subject', { subject: '  ', body: 'Body' }, 'email', ['template.subject']],
    ['a bad subject placeholder', { subject: 'Hi {{nope}}', body: 'Body' }, 'email', ['template.subject']],
    ['a bad body placeholder', { subject: 'S', body: '{{traits.a}} {{oops' }, 'email', ['template.body']],
    ['an empty sms', { body: '' }, 'sms', ['template.body']],
    ['a long sms', { body: 'x'.repeat(501) }, 'sms', ['template.body']],
    ['an sms long only through placeholders', { body: `${'x'.repeat(480)}{{traits.a_very_long_trait_name_that_is_not_text}}` }, 'sms', []],
    ['a body over 20,000 characters', { subject: 'S', body: 'x'.repeat(20_001) }, 'email', ['template.body']],
    ['wechat without its template id', { body: '', wechatData: { first: '{{traits.name}}' } }, 'wechat', ['template.wechatTemplateId']],
    ['wechat with a bad data field', { body: '', wechatTemplateId: 'TPL1', wechatData: { first: '{{traits.name}}', remark: '{{bad}}' } }, 'wechat', ['template.wechatData.remark']],
    ['a good wechat', { body: '', wechatTemplateId: 'TPL1', wechatData: { first: '您好 {{traits.name | 顾客}}', keyword1: '{{coupon}}' } }, 'wechat', []],
    ['no recommendations asked for', { body: '{{recommendations}}', recommendations: 0 }, 'webhook', ['template.recommendations']],
    ['more recommendations than can be shown', { body: '{{recommendations}}', recommendations: 10 }, 'webhook', ['template.recommendations']],
    ['nine recommendations', { body: '{{recommendations}}', recommendations: 9 }, 'webhook', []],
    ['a body that is not text', { body: 42 }, 'webhook', ['template.body']],
  ])('%s', (_name, template, channel, fields) => {
    const issues = validateTemplate(template as never, channel as never);
    expect(issues.map((i) => i.field)).toEqual(fields);
    for (const issue of issues) expect(issue.message).toContain(issue.field!.split('.')[1]!);
  });
});
