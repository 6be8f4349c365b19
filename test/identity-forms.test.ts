import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityIndex } from '../src/identity/graph-store.js';
import { upgradeIdentityForms } from '../src/identity/identity-forms.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { backends } from './helpers/backends.js';

describe.each(backends)('identities stored before cleaning on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => t?.close());

  /** An identity row as the first version stored it: the value as given, indexed as given. */
  async function legacy(type: 'email' | 'phone', value: string): Promise<string> {
    const id = randomUUID();
    const at = new Date();
    await t.database.db.insertInto('profiles').values({ workspace_id: 'default', id, traits: '{}', secret_traits: null, created_at: at, updated_at: at, last_seen_at: null, merged_into: null }).execute();
    await t.database.db
      .insertInto('identities')
      .values({ workspace_id: 'default', type, value_index: identityIndex(t.keyring, 'default', { type, value }), value_enc: t.keyring.encrypt('default', Buffer.from(value)), profile_id: id, source_id: 'default', first_seen_at: at })
      .execute();
    return id;
  }

  it('rewrites old emails and phones to the cleaned form once, so the same person still matches', async () => {
    // startTestApp's bootstrap does not run the upgrade: mark it pending as an old database would be.
    await t.database.db.deleteFrom('custodian_meta').where('key', '=', 'identity_form').execute();
    const phoneOwner = await legacy('phone', '13900139000');
    const clashing = await legacy('phone', '13800138000');
    const emailOwner = await legacy('email', 'john.smith@gmail.com');
    await legacy('phone', '+8613800138000');
    await legacy('phone', '12345');

    expect(await upgradeIdentityForms(t.database, t.keyring)).toEqual({ rewritten: 2, collisions: 1, unusable: 1 });
    expect(await upgradeIdentityForms(t.database, t.keyring)).toBeNull();

    await t.send('/v1/identify', { userId: 'returning', traits: { email: 'John.Smith+news@gmail.com' } });
    await t.drain();
    const returning = (await t.get('/api/profiles?userId=returning')).json().profiles[0];
    expect(returning.id).toBe(emailOwner);
    expect((await t.get('/api/profiles?phone=%2B86%20139%200013%209000')).json().profiles[0].id).toBe(phoneOwner);
    // the E.164 row existed already: the old one stays with its own profile
    expect((await t.get('/api/profiles?phone=138%200013%208000')).json().profiles[0].id).not.toBe(clashing);
  });
});
