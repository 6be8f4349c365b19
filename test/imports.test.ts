import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

describe.each(backends)('file import on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  const upload = (query: string, body: Buffer) =>
    t.app.inject({ method: 'POST', url: `/api/imports?${query}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/octet-stream' }, payload: body });
  const profileBy = async (query: string) => (await t.get(`/api/profiles?${query}`)).json().profiles[0];
  const count = async (table: 'events' | 'profiles') => Number((await t.database.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  it('a messy CSV with BOM, quoted newlines and bad rows: the good rows in, each bad one rejected by line', async () => {
    const res = await upload('source=crm&kind=customers&filename=customers-messy.csv', fixture('customers-messy.csv'));
    expect(res.statusCode, res.body).toBe(201);
    const summary = res.json();
    expect(summary).toMatchObject({ status: 'completed', encoding: 'utf-8', format: 'csv', rows: 9, imported: 5, duplicates: 1, rejected: 3 });
    expect(summary.warnings.join(' ')).toContain('会员等级');
    expect(summary.rejects).toEqual([
      { line: 7, column: '客户编号', reason: expect.stringMatching(/no identifier/) },
      { line: 8, column: '', reason: expect.stringMatching(/7 columns; the header has 9/) },
      { line: 9, column: '', reason: expect.stringMatching(/quote/i) },
    ]);
    await t.drain();
    const zhang = await profileBy('email=zhang.wei@qq.com');
    expect(zhang.traits).toMatchObject({ name: '张伟', city: '上海市', phone: '+8613800138000', birthday: '1990-05-12', gender: 'male', 会员等级: '金卡', 备注: 'likes tea,\nprefers weekend delivery' });
    expect(zhang.records).toEqual([{ source: 'crm', id: 'C001' }]);
    const smith = await profileBy('email=john.smith@example.com');
    // Cleaned: `Last, First` reordered, the original kept in the lineage.
    expect(smith.traits).toMatchObject({ name: 'John Smith', firstName: 'John', lastName: 'Smith', phone: '+14155552671', birthday: '1975-07-04' });
    expect(smith.traits.备注).toBe('said "call me John"');
    // A customer with only an id is a profile too.
    const wang = (await t.get('/api/profiles/export')).body.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((p) => p.traits.name === '王芳');
    expect(wang.records).toEqual([{ source: 'crm', id: 'C004' }]);
  });

  it('re-importing the same file changes nothing', async () => {
    await t.drain();
    const [profiles, events] = [await count('profiles'), await count('events')];
    const res = await upload('source=crm&kind=customers&filename=customers-messy.csv', fixture('customers-messy.csv'));
    expect(res.json()).toMatchObject({ imported: 0, duplicates: 6, rejected: 3 });
    await t.drain();
    expect([await count('profiles'), await count('events')]).toEqual([profiles, events]);
  });

  it('a GBK (GB18030) CSV from Chinese Excel is detected and decoded', async () => {
    const res = await upload('source=crm&filename=customers-gbk.csv', fixture('customers-gbk.csv'));
    expect(res.json()).toMatchObject({ encoding: 'gb18030', rows: 3, imported: 3, rejected: 0 });
    await t.drain();
    expect((await profileBy('email=liuyang@example.com')).traits).toMatchObject({ name: '刘洋', province: '广东省', city: '深圳市' });
  });

  it('NDJSON orders become Order Completed on the customer’s profile; bad lines are rejected by line and column', async () => {
    const res = await upload('source=crm&kind=orders&filename=orders.ndjson', fixture('orders.ndjson'));
    const summary = res.json();
    expect(summary).toMatchObject({ format: 'ndjson', rows: 7, imported: 3, rejected: 4 });
    expect(summary.rejects.map((r: { line: number; column: string }) => `${r.line}:${r.column}`)).toEqual(['3:下单时间', '4:金额', '5:会员号', '6:']);
    await t.drain();
    const zhang = await profileBy('email=zhang.wei@qq.com');
    const events = (await t.get(`/api/profiles/${zhang.id}/events`)).json().events;
    const order = events.find((e: { event: string }) => e.event === 'Order Completed');
    expect(order).toMatchObject({ timestamp: '2024-11-11T10:05:00.000Z', properties: { order_id: 'O-1001', revenue: 1299, store: '上海南京路店', items: [{ product_id: 'SKU-1', category: '茶叶', price: 1299, quantity: 1 }] } });
    // An order with only an email makes a new profile; keys the first line did not have are mapped too.
    const buyer = await profileBy('email=new.buyer@example.com');
    const buyerEvents = (await t.get(`/api/profiles/${buyer.id}/events`)).json().events;
    expect(buyerEvents[0]).toMatchObject({ event: 'Order Completed', properties: { order_id: 'O-1006', revenue: 45, currency: 'USD' } });
  });

  it('XLSX feedback: scored rows are Survey Responded, others Feedback Submitted; out-of-range scores rejected', async () => {
    const res = await upload('source=crm&kind=feedback&filename=feedback.xlsx', fixture('feedback.xlsx'));
    const summary = res.json();
    expect(summary).toMatchObject({ format: 'xlsx', rows: 5, imported: 3, rejected: 2 });
    expect(summary.rejects).toEqual([
      { line: 4, column: 'NPS', reason: 'nps must be a whole number from 0 to 10' },
      { line: 6, column: 'Comment', reason: 'empty feedback: no score and no comment' },
    ]);
    await t.drain();
    const zhang = await profileBy('email=zhang.wei@qq.com');
    const survey = (await t.get(`/api/profiles/${zhang.id}/events?limit=100`)).json().events.find((e: { event: string }) => e.event === 'Survey Responded');
    expect(survey).toMatchObject({ timestamp: '2025-01-15T00:00:00.000Z', properties: { nps: 9, csat: 5, comment: '服务很好' } });
    const someone = await profileBy('email=someone@example.com');
    expect((await t.get(`/api/profiles/${someone.id}/events`)).json().events[0].event).toBe('Feedback Submitted');
  });

  it('the source’s tracking plan applies to imported rows: undeclared events are rejected lines, undeclared properties dropped', async () => {
    const plan = { mode: 'block', events: [{ event: 'Survey Responded', properties: { nps: { type: 'number' }, csat: { type: 'number' } } }] };
    const put = await t.app.inject({ method: 'PUT', url: '/api/sources/planned/tracking-plan', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: plan });
    expect(put.statusCode, put.body).toBeLessThan(300);
    const res = await upload('source=planned&kind=feedback&filename=feedback.xlsx', fixture('feedback.xlsx'));
    const summary = res.json();
    // Row 5 (a comment only) is Feedback Submitted, which the plan does not declare.
    expect(summary.rejects).toContainEqual({ line: 5, column: 'event', reason: expect.stringMatching(/tracking plan/) });
    expect(summary.imported).toBe(2);
    expect(summary.warnings.join(' ')).toMatch(/2 properties not declared/);
  });

  it('GET /api/imports/:id gives status, counts and the reject list; GET /api/imports lists them', async () => {
    const list = (await t.get('/api/imports')).json().imports;
    expect(list.length).toBeGreaterThanOrEqual(5);
    const latest = list.find((i: { source: string; kind: string }) => i.source === 'crm' && i.kind === 'feedback');
    const one = (await t.get(`/api/imports/${latest.id}?limit=1&offset=1`)).json();
    expect(one).toMatchObject({ id: latest.id, status: 'completed', rejectsTotal: 2 });
    expect(one.rejects).toEqual([{ line: 6, column: 'Comment', reason: expect.any(String) }]);
    expect((await t.get('/api/imports/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it.each([
    ['source=Bad Name&filename=a.csv', 'source'],
    ['source=crm', 'format'],
    ['source=crm&filename=a.csv&map=nosuch%3Demail', 'map'],
    ['source=crm&filename=a.csv&map=%E5%A7%93%E5%90%8D%3Dfavourite', 'map'],
    ['source=crm&filename=a.csv&kind=contacts', 'kind'],
  ])('refuses %s naming %s', async (query, field) => {
    const res = await upload(query, Buffer.from('姓名,手机\n张三,13800000000\n'));
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
  });

  it('an import needs a token, and a write key is not one', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/imports?source=crm&filename=a.csv', payload: 'a\n1\n' });
    expect(res.statusCode).toBe(401);
  });
});
