import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../storage/database.js';
import type { DataKeyTable, Schema } from '../storage/schema.js';
import { appendAudit } from './audit-log.js';
import { keyringOf, KeyringError, LEGACY_KEY_ID, MasterKeyError, type Keyring } from './crypto.js';
import { anyRowUnder, countRowsByKey, sampleRowUnder } from './encrypted-columns.js';
import { indexKeyCheck, KEY_CHECK } from './key-check.js';
import type { KeyProvider } from './key-provider.js';

/*
 * Envelope encryption. Each workspace's rows are sealed with its own data key;
 * data keys are stored in data_keys wrapped by the KeyProvider (the master key,
 * or a KMS), and unwrapped in memory when a process opens the database. A
 * ciphertext names the data key that sealed it (crypto.ts), so rotation makes
 * new keys and leaves old rows as they are: retired keys still open them, and
 * the worker re-encrypts them in the background (reencrypt.ts), then destroys
 * the retired key once no row uses it.
 *
 * Database-wide keys (workspace_id null):
 * - the blind-index key. Never rotated with the data keys: every stored index,
 *   suppression and signed link was made with it. A master-key rotation
 *   re-wraps it like the others.
 * - a data key for workspaces that have none yet (created by another process
 *   since this one loaded its keys, or inserted directly): rows sealed under it
 *   are readable like any other, and move to the workspace's key at the next
 *   rotation. On a database set up before envelope encryption, this is the
 *   legacy key (id 0, version-1 ciphertexts) until the first rotation.
 *
 * Processes on one PostgreSQL each hold the keys in memory and reload them
 * every KEY_REFRESH_MS. So that none meets a ciphertext under a key it has not
 * loaded, new keys start sealing only ACTIVATION_DELAY_MS after they are made
 * (on an embedded database one process holds the keys, and they start at once).
 */

/** How often a process on PostgreSQL reloads data_keys: rotations and new workspaces reach it within this. */
export const KEY_REFRESH_MS = 30_000;
/** Two reloads and a margin for clocks: every running process has a new key before anything is sealed with it. */
export const ACTIVATION_DELAY_MS = 2 * KEY_REFRESH_MS + 15_000;
/** A reload asked for by a missing key waits at least this long after the previous one. */
const MISS_REFRESH_MS = 2_000;

type Db = Kysely<Schema>;
type KeyRow = Selectable<DataKeyTable>;

/** The context a wrapped key is bound to: a wrapped key moved to another row does not unwrap. */
function wrapContext(row: Pick<KeyRow, 'key_id' | 'purpose' | 'workspace_id'>): string {
  return `custodian.data_key.v1:${JSON.stringify([row.key_id, row.purpose, row.workspace_id])}`;
}

/** One process at a time creates, rotates or destroys keys: ids are allocated and scopes checked under it. */
async function lockKeys(tx: Transaction<Schema>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('custodian.data_keys'))`.execute(tx);
}

async function nextKeyId(tx: Transaction<Schema>): Promise<number> {
  const row = await tx.selectFrom('data_keys').select((eb) => eb.fn.max('key_id').as('max')).executeTakeFirst();
  return Math.max(LEGACY_KEY_ID, Number(row?.max ?? LEGACY_KEY_ID)) + 1;
}

async function insertKey(
  tx: Transaction<Schema>,
  provider: KeyProvider,
  key: { key_id: number; workspace_id: string | null; purpose: 'data' | 'index'; raw: Buffer; active_from: Date },
): Promise<void> {
  const wrapped = await provider.wrap(key.raw, wrapContext(key));
  await tx
    .insertInto('data_keys')
    .values({ key_id: key.key_id, workspace_id: key.workspace_id, purpose: key.purpose, wrapped, wrapped_by: provider.keyId, active_from: key.active_from })
    .execute();
}

function wrongProvider(provider: KeyProvider, wrappedBy: string): MasterKeyError {
  return new MasterKeyError(
    `the master key from ${provider.origin} (${provider.keyId}) is not the one this database was set up with: its keys are wrapped with ${wrappedBy}. ` +
      'Start with that key: after `custodian keys rotate --master FILE` it is the key in FILE, and the key it replaced opens only backups made before',
  );
}

/**
 * A new key is wrapped by the provider that wraps the others: a process still
 * holding the master key a rotation replaced must not add keys only it can open.
 */
async function assertSameProvider(tx: Transaction<Schema>, provider: KeyProvider): Promise<void> {
  const other = await tx.selectFrom('data_keys').select('wrapped_by').where('destroyed_at', 'is', null).where('wrapped_by', '<>', provider.keyId).limit(1).executeTakeFirst();
  if (other) throw wrongProvider(provider, other.wrapped_by);
}

/**
 * First open: set up data_keys. A database used before envelope encryption
 * keeps its two keys, derived from the master key (checked against the check
 * value it recorded); a new one gets random ones.
 */
async function setUpKeys(db: Db, provider: KeyProvider, now: Date): Promise<void> {
  const any = await db.selectFrom('data_keys').select('key_id').limit(1).executeTakeFirst();
  if (any) return;
  await db.transaction().execute(async (tx) => {
    await lockKeys(tx);
    if (await tx.selectFrom('data_keys').select('key_id').limit(1).executeTakeFirst()) return;
    const check = await tx.selectFrom('custodian_meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirst();
    // The check value is the usual sign of a pre-envelope database; version-1 ciphertexts are the other (the check
    // value lost or never written): such a database must never get random keys, which would open none of its rows.
    const v1 = check ? null : await sampleRowUnder(tx, LEGACY_KEY_ID);
    if (check || v1) {
      const legacy = provider.legacyKeys?.();
      if (!legacy) {
        throw new MasterKeyError(
          `this database was set up before envelope encryption, with keys derived from its master key, and ${provider.origin} is not a master key: open it once with that master key (CUSTODIAN_MASTER_KEY or master.key) to move its keys into data_keys`,
        );
      }
      if (check && indexKeyCheck(legacy.indexKey) !== check.value) {
        throw new MasterKeyError(`the master key from ${provider.origin} is not the one this database was set up with: start with the original key`);
      }
      if (v1) {
        try {
          keyringOf({ sealingKey: () => ({ id: LEGACY_KEY_ID, key: legacy.dataKey }), openingKey: () => legacy.dataKey, indexKey: legacy.indexKey }).decrypt(v1.sealed);
        } catch {
          throw new MasterKeyError(
            `this database holds version-1 ciphertexts (${v1.column}) from before envelope encryption, and the master key from ${provider.origin} does not open them: start with the original key`,
          );
        }
        await tx.insertInto('custodian_meta').values({ key: KEY_CHECK, value: indexKeyCheck(legacy.indexKey) }).execute();
      }
      await insertKey(tx, provider, { key_id: LEGACY_KEY_ID + 1, workspace_id: null, purpose: 'index', raw: legacy.indexKey, active_from: now });
      await insertKey(tx, provider, { key_id: LEGACY_KEY_ID, workspace_id: null, purpose: 'data', raw: legacy.dataKey, active_from: now });
      return;
    }
    const indexKey = randomBytes(32);
    await insertKey(tx, provider, { key_id: LEGACY_KEY_ID + 1, workspace_id: null, purpose: 'index', raw: indexKey, active_from: now });
    await insertKey(tx, provider, { key_id: LEGACY_KEY_ID + 2, workspace_id: null, purpose: 'data', raw: randomBytes(32), active_from: now });
    await tx.insertInto('custodian_meta').values({ key: KEY_CHECK, value: indexKeyCheck(indexKey) }).execute();
  });
}

/** Workspaces with no data key that is not retired. */
async function workspacesWithoutKey(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('workspaces as w')
    .select('w.id')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('data_keys as k')
            .select('k.key_id')
            .whereRef('k.workspace_id', '=', 'w.id')
            .where('k.purpose', '=', 'data')
            .where('k.retired_at', 'is', null)
            .where('k.destroyed_at', 'is', null),
        ),
      ),
    )
    .orderBy('w.id')
    .execute();
  return rows.map((r) => r.id);
}

/** Give every workspace without one a data key of its own. Returns the workspaces that got one. */
export async function ensureWorkspaceKeys(db: Db, provider: KeyProvider, options: { activateAfterMs: number; now?: Date }): Promise<string[]> {
  if ((await workspacesWithoutKey(db)).length === 0) return [];
  return db.transaction().execute(async (tx) => {
    await lockKeys(tx);
    await assertSameProvider(tx, provider);
    const missing = await workspacesWithoutKey(tx);
    const activeFrom = new Date((options.now ?? new Date()).getTime() + options.activateAfterMs);
    let id = await nextKeyId(tx);
    for (const workspaceId of missing) await insertKey(tx, provider, { key_id: id++, workspace_id: workspaceId, purpose: 'data', raw: randomBytes(32), active_from: activeFrom });
    return missing;
  });
}

interface LoadedKey {
  id: number;
  workspaceId: string | null;
  key: Buffer;
  activeFrom: number;
  /** when it stops sealing (ms), from the row as last read: a key a process still holds may have been retired since */
  retiredAt: number | null;
}

interface KeyState {
  keys: Map<number, LoadedKey>;
  destroyed: Map<number, Date>;
  /** data keys per workspace (null: the database's), newest activation first */
  sealing: Map<string | null, LoadedKey[]>;
  indexKey: Buffer;
}

/**
 * Unwrap what is not in memory yet. On first load a key wrapped by another
 * provider is refused (wrong master key); later ones are reported and skipped,
 * so a process keeps what it has while it waits to be restarted with a new key.
 */
async function loadState(rows: readonly KeyRow[], provider: KeyProvider, previous: KeyState | null, problems: string[]): Promise<KeyState> {
  const keys = new Map<number, LoadedKey>();
  const destroyed = new Map<number, Date>();
  let indexKey: Buffer | null = null;
  for (const row of rows) {
    if (row.destroyed_at !== null || row.wrapped === null) {
      destroyed.set(row.key_id, row.destroyed_at ?? new Date(0));
      continue;
    }
    // A key id names one key for the life of the database: what is in memory stays valid across master-key rotations.
    let raw = previous?.keys.get(row.key_id)?.key ?? (row.purpose === 'index' ? previous?.indexKey : undefined);
    if (raw === undefined) {
      if (row.wrapped_by !== provider.keyId) {
        if (previous === null) throw wrongProvider(provider, row.wrapped_by);
        problems.push(`data key ${row.key_id} is wrapped by ${row.wrapped_by}, and this process has ${provider.keyId}: restart it with the current master key`);
        continue;
      }
      try {
        raw = await provider.unwrap(row.wrapped, wrapContext(row));
      } catch (error) {
        if (previous === null) throw error;
        problems.push(error instanceof Error ? error.message : String(error));
        continue;
      }
    }
    if (row.purpose === 'index') indexKey = raw;
    else keys.set(row.key_id, { id: row.key_id, workspaceId: row.workspace_id, key: raw, activeFrom: row.active_from.getTime(), retiredAt: row.retired_at?.getTime() ?? null });
  }
  if (indexKey === null) throw new KeyringError('data_keys has no blind-index key (purpose index): the table was changed by hand; restore it from a backup');
  const sealing = new Map<string | null, LoadedKey[]>();
  for (const k of keys.values()) sealing.set(k.workspaceId, [...(sealing.get(k.workspaceId) ?? []), k]);
  for (const list of sealing.values()) list.sort((a, b) => b.activeFrom - a.activeFrom || b.id - a.id);
  return { keys, destroyed, sealing, indexKey };
}

/** A database's keyring: the data keys of data_keys, kept current. */
export interface EnvelopeKeyring extends Keyring {
  readonly provider: KeyProvider;
  /** Reload data_keys (rotations and workspaces made by other processes), giving workspaces without a key one. */
  refresh(): Promise<void>;
  /** Stop reloading; waits for a reload under way. */
  close(): Promise<void>;
}

export interface OpenKeyringOptions {
  /** reload data_keys this often; 0: only when asked or when a key is missing. Default: KEY_REFRESH_MS on PostgreSQL, 0 embedded */
  refreshMs?: number;
  /** how long after they are made workspace keys start sealing. Default: ACTIVATION_DELAY_MS on PostgreSQL, 0 embedded */
  activateAfterMs?: number;
  /** a background reload failed, or skipped keys it could not unwrap */
  onRefreshError?: (error: Error) => void;
}

/**
 * Open a database's keys with a provider: sets them up on first use (adopting a
 * pre-envelope database's keys), refuses a provider that did not wrap them,
 * and gives every workspace without a data key one.
 */
export async function openKeyring(database: Database, provider: KeyProvider, options: OpenKeyringOptions = {}): Promise<EnvelopeKeyring> {
  const { db } = database;
  const shared = database.kind === 'postgres';
  const refreshMs = options.refreshMs ?? (shared ? KEY_REFRESH_MS : 0);
  const activateAfterMs = options.activateAfterMs ?? (shared ? ACTIVATION_DELAY_MS : 0);
  const report = options.onRefreshError ?? (() => undefined);
  await setUpKeys(db, provider, new Date());
  const readRows = () => db.selectFrom('data_keys').selectAll().orderBy('key_id').execute();
  let state = await loadState(await readRows(), provider, null, []);

  let closed = false;
  let running: Promise<void> | null = null;
  let lastRefresh = 0;
  const refresh = (): Promise<void> => {
    running ??= (async () => {
      try {
        const problems: string[] = [];
        // A process left on a replaced master key makes no keys, but still loads what it can: it keeps working until restarted.
        await ensureWorkspaceKeys(db, provider, { activateAfterMs }).catch((error: unknown) => {
          if (!(error instanceof MasterKeyError)) throw error;
          problems.push(error.message);
        });
        state = await loadState(await readRows(), provider, state, problems);
        if (problems.length > 0) report(new KeyringError(problems.join('; ')));
      } finally {
        lastRefresh = Date.now();
        running = null;
      }
    })();
    return running;
  };
  // A key missing here is asked for in the background: the call that missed it fails (or, sealing, falls back), the next finds it.
  const refreshSoon = () => {
    if (closed || running || Date.now() - lastRefresh < MISS_REFRESH_MS) return;
    refresh().catch((error: unknown) => report(error instanceof Error ? error : new Error(String(error))));
  };
  await refresh();
  const timer = refreshMs > 0 ? setInterval(refreshSoon, refreshMs) : null;
  timer?.unref();

  const retired = (k: LoadedKey, now: number): boolean => k.retiredAt !== null && k.retiredAt <= now;
  /** The newest key of a scope that is active and not retired; undefined when there is none. */
  const current = (list: readonly LoadedKey[] | undefined, now: number): LoadedKey | undefined => list?.find((k) => k.activeFrom <= now && !retired(k, now));
  const keyring = keyringOf({
    sealingKey(workspaceId) {
      const now = Date.now();
      const own = state.sealing.get(workspaceId);
      if (own === undefined) refreshSoon();
      // Never a retired key: the re-encryption job may destroy it as soon as no committed row uses it, and a row this
      // process commits afterwards would be lost with it. A workspace with keys of its own, all retired here, does not
      // fall back to the database key either: this process is behind (a reload failed, or it cannot unwrap the new key).
      // (A workspace whose first key is not active yet, on PostgreSQL, seals under the database key meanwhile.)
      const behind = own?.some((k) => retired(k, now)) ?? false;
      const key = current(own, now) ?? (behind ? undefined : current(state.sealing.get(null), now));
      if (key) return { id: key.id, key: key.key };
      refreshSoon();
      const stale = (behind ? own! : (state.sealing.get(null) ?? [])).find((k) => k.activeFrom <= now);
      if (stale) {
        throw new KeyringError(
          `this process has no current data key for workspace "${workspaceId}": the key it holds (${stale.id}) was retired on ${new Date(stale.retiredAt!).toISOString()} ` +
            `and it has not loaded the one that replaced it. It may run on an old master key (after \`custodian keys rotate --master\`): restart it with the current one. ` +
            'Its keys are being reloaded now; nothing was sealed',
          'unavailable',
          stale.id,
        );
      }
      throw new KeyringError(`no data key can seal data of workspace "${workspaceId}": neither it nor the database has an active one in data_keys (they are reloaded now; try again)`, 'unavailable');
    },
    openingKey(id) {
      const key = state.keys.get(id);
      if (key) return key.key;
      const destroyedAt = state.destroyed.get(id);
      if (destroyedAt) throw new KeyringError(`data key ${id} was destroyed on ${destroyedAt.toISOString()}: what it sealed cannot be decrypted`, 'unreadable', id);
      refreshSoon();
      if (id === LEGACY_KEY_ID) throw new KeyringError('a version-1 ciphertext, and this database has no pre-envelope key (id 0) in data_keys: it was sealed under another master key', 'unreadable', id);
      throw new KeyringError(`data key ${id} is not loaded in this process: another process made it since this one loaded its keys (they are reloaded now; try again), or it is not in data_keys`, 'unavailable', id);
    },
    get indexKey() {
      return state.indexKey;
    },
  });
  return {
    ...keyring,
    provider,
    refresh,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

/**
 * Check a provider against a database without changing anything: it must
 * unwrap the database's keys (or, on a pre-envelope database, derive its check
 * value). For commands that need the master key right but do not open the
 * keyring (backup).
 */
export async function verifyKeyProvider(database: Database, provider: KeyProvider): Promise<void> {
  const rows = await database.db.selectFrom('data_keys').selectAll().where('destroyed_at', 'is', null).orderBy('key_id').execute();
  if (rows.length === 0) {
    const check = await database.db.selectFrom('custodian_meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirst();
    // No check value: version-1 ciphertexts, if any, tell a pre-envelope database (as setUpKeys does).
    const v1 = check ? null : await sampleRowUnder(database.db, LEGACY_KEY_ID);
    if (!check && !v1) return;
    const legacy = provider.legacyKeys?.();
    const refused = new MasterKeyError(`the master key from ${provider.origin} is not the one this database was set up with: start with the original key`);
    if (!legacy || (check && indexKeyCheck(legacy.indexKey) !== check.value)) throw refused;
    if (v1) {
      try {
        keyringOf({ sealingKey: () => ({ id: LEGACY_KEY_ID, key: legacy.dataKey }), openingKey: () => legacy.dataKey, indexKey: legacy.indexKey }).decrypt(v1.sealed);
      } catch {
        throw refused;
      }
    }
    return;
  }
  const foreign = rows.find((r) => r.wrapped_by !== provider.keyId);
  if (foreign) throw wrongProvider(provider, foreign.wrapped_by);
  const index = rows.find((r) => r.purpose === 'index') ?? rows[0]!;
  await provider.unwrap(index.wrapped!, wrapContext(index));
}

export interface DataKeyRotation {
  /** when the new keys start sealing */
  activeFrom: Date;
  keys: Array<{ workspaceId: string | null; keyId: number; retired: number[] }>;
}

/** Audit entries go to each workspace's chain: a database-wide change is recorded in all of them. */
async function workspacesFor(tx: Transaction<Schema>, workspaceId: string | null): Promise<string[]> {
  if (workspaceId !== null) return [workspaceId];
  return (await tx.selectFrom('workspaces').select('id').orderBy('id').execute()).map((r) => r.id);
}

/**
 * New data keys for every workspace and the database (or for one workspace),
 * active from `activateAfterMs` on; the keys they replace are retired then.
 * Retired keys keep opening their rows until the re-encryption job has moved
 * them. Recorded as `keys.rotate` in each workspace's audit log.
 */
export async function rotateDataKeys(
  database: Database,
  provider: KeyProvider,
  options: { workspaceId?: string; activateAfterMs: number; actor: string; now?: Date },
): Promise<DataKeyRotation> {
  return database.db.transaction().execute(async (tx) => {
    await lockKeys(tx);
    await assertSameProvider(tx, provider);
    const workspaces = (await tx.selectFrom('workspaces').select('id').orderBy('id').execute()).map((r) => r.id);
    if (options.workspaceId !== undefined && !workspaces.includes(options.workspaceId)) {
      throw new KeyringError(`workspace "${options.workspaceId}" does not exist: there is no data key to rotate`);
    }
    const scopes: Array<string | null> = options.workspaceId !== undefined ? [options.workspaceId] : [null, ...workspaces];
    const activeFrom = new Date((options.now ?? new Date()).getTime() + options.activateAfterMs);
    const live = await tx.selectFrom('data_keys').select(['key_id', 'workspace_id']).where('purpose', '=', 'data').where('retired_at', 'is', null).where('destroyed_at', 'is', null).execute();
    let id = await nextKeyId(tx);
    const rotation: DataKeyRotation = { activeFrom, keys: [] };
    for (const scope of scopes) {
      const retired = live.filter((k) => k.workspace_id === scope).map((k) => k.key_id);
      const keyId = id++;
      await insertKey(tx, provider, { key_id: keyId, workspace_id: scope, purpose: 'data', raw: randomBytes(32), active_from: activeFrom });
      if (retired.length > 0) await tx.updateTable('data_keys').set({ retired_at: activeFrom }).where('key_id', 'in', retired).execute();
      rotation.keys.push({ workspaceId: scope, keyId, retired });
    }
    const databaseKey = rotation.keys.find((k) => k.workspaceId === null);
    for (const k of rotation.keys) {
      if (k.workspaceId === null) continue;
      await appendAudit(tx, {
        workspaceId: k.workspaceId,
        actor: options.actor,
        action: 'keys.rotate',
        target: String(k.keyId),
        details: { kind: 'data', retired: k.retired, activeFrom: activeFrom.toISOString(), ...(databaseKey ? { databaseKey: databaseKey.keyId, databaseRetired: databaseKey.retired } : {}) },
      });
    }
    return rotation;
  });
}

/**
 * Re-wrap every key that is not destroyed under another provider (a new master
 * key), in one transaction: all keys move or none does. Each new wrapping is
 * unwrapped again and compared before anything is written. Recorded as
 * `keys.rotate` (kind master) in every workspace's audit log.
 */
export async function rotateMasterKey(database: Database, from: KeyProvider, to: KeyProvider, options: { actor: string }): Promise<{ rewrapped: number }> {
  if (from.keyId === to.keyId) throw new MasterKeyError(`the new master key (${to.origin}) is the current one (${to.keyId}): give a new key`);
  return database.db.transaction().execute(async (tx) => {
    await lockKeys(tx);
    const rows = await tx.selectFrom('data_keys').selectAll().where('destroyed_at', 'is', null).orderBy('key_id').execute();
    let rewrapped = 0;
    for (const row of rows) {
      if (row.wrapped_by === to.keyId) continue;
      if (row.wrapped_by !== from.keyId) throw wrongProvider(from, row.wrapped_by);
      const context = wrapContext(row);
      const raw = await from.unwrap(row.wrapped!, context);
      const wrapped = await to.wrap(raw, context);
      if (!(await to.unwrap(wrapped, context)).equals(raw)) throw new MasterKeyError(`the new master key (${to.origin}) did not give data key ${row.key_id} back as it was wrapped: nothing was changed`);
      await tx.updateTable('data_keys').set({ wrapped, wrapped_by: to.keyId }).where('key_id', '=', row.key_id).execute();
      rewrapped += 1;
    }
    for (const workspaceId of await workspacesFor(tx, null)) {
      await appendAudit(tx, { workspaceId, actor: options.actor, action: 'keys.rotate', target: to.keyId, details: { kind: 'master', from: from.keyId, to: to.keyId, rewrapped } });
    }
    return { rewrapped };
  });
}

/**
 * Whether another session of this database has had a transaction open since
 * before `since`. anyRowUnder sees committed rows only: a transaction that
 * began while the key was still current may have sealed under it and not have
 * committed yet. One that began after the retirement cannot have (sealingKey
 * refuses a retired key; a process that has not reloaded since is covered by
 * DESTROY_AFTER_MS, reencrypt.ts), so waiting for the older ones is enough.
 * xact_start of other sessions is visible to the same role (and to members of
 * pg_read_all_stats); a session whose xact_start is hidden from us counts as
 * open since forever, so a deployment with mixed roles keeps keys rather than
 * losing rows. The embedded database has one process, whose transactions are
 * serialised behind this one: nothing to wait for there.
 */
async function transactionOpenSince(tx: Transaction<Schema>, since: Date): Promise<boolean> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
      and (xact_start < ${since} or (xact_start is null and state is null))
    limit 1`.execute(tx);
  return rows.length > 0;
}

/**
 * Destroy a retired data key that no row uses: its wrapped copy is erased
 * (the row stays, for its history). Checked again under the keys lock, so two
 * workers cannot both decide. Recorded as `keys.destroy`. False when the key is
 * not retired, already destroyed, still holds a row, or (PostgreSQL) another
 * session has had a transaction open since before the key was retired.
 */
export async function destroyRetiredKey(database: Database, keyId: number, options: { actor: string; now?: Date }): Promise<boolean> {
  const now = options.now ?? new Date();
  return database.db.transaction().execute(async (tx) => {
    await lockKeys(tx);
    const key = await tx
      .selectFrom('data_keys')
      .select(['key_id', 'workspace_id', 'retired_at'])
      .where('key_id', '=', keyId)
      .where('purpose', '=', 'data')
      .where('destroyed_at', 'is', null)
      .where('retired_at', '<=', now)
      .executeTakeFirst();
    if (!key || (await anyRowUnder(tx, keyId)) !== null) return false;
    if (database.kind === 'postgres' && (await transactionOpenSince(tx, key.retired_at!))) return false;
    await tx.updateTable('data_keys').set({ wrapped: null, destroyed_at: now }).where('key_id', '=', keyId).execute();
    for (const workspaceId of await workspacesFor(tx, key.workspace_id)) {
      await appendAudit(tx, { workspaceId, actor: options.actor, action: 'keys.destroy', target: String(keyId), details: { retiredAt: key.retired_at!.toISOString() } });
    }
    return true;
  });
}

export type KeyPhase = 'active' | 'pending' | 'retired' | 'destroyed' | 'index';

export interface KeyStatus {
  keyId: number;
  /** null: the database's own */
  workspaceId: string | null;
  purpose: 'data' | 'index';
  state: KeyPhase;
  createdAt: Date;
  activeFrom: Date;
  retiredAt: Date | null;
  destroyedAt: Date | null;
  wrappedBy: string;
  /** rows sealed with it, all encrypted columns together */
  rows: number;
  /** per `table.column`, where it has any */
  columns: Record<string, number>;
}

/** Every key with its state and how many rows it still seals; rows under ids data_keys does not know come as unknownRows. */
export async function keyStatus(database: Database, now = new Date()): Promise<{ keys: KeyStatus[]; unknownRows: Record<string, Record<string, number>> }> {
  const rows = await database.db.selectFrom('data_keys').selectAll().orderBy('key_id').execute();
  const counts = await countRowsByKey(database.db);
  const keys = rows.map((r): KeyStatus => {
    const columns = counts.get(r.key_id) ?? {};
    counts.delete(r.key_id);
    const state: KeyPhase =
      r.purpose === 'index' ? 'index' : r.destroyed_at ? 'destroyed' : r.retired_at && r.retired_at <= now ? 'retired' : r.active_from > now ? 'pending' : 'active';
    return {
      keyId: r.key_id,
      workspaceId: r.workspace_id,
      purpose: r.purpose,
      state,
      createdAt: r.created_at,
      activeFrom: r.active_from,
      retiredAt: r.retired_at,
      destroyedAt: r.destroyed_at,
      wrappedBy: r.wrapped_by,
      rows: Object.values(columns).reduce((n, c) => n + c, 0),
      columns,
    };
  });
  return { keys, unknownRows: Object.fromEntries([...counts].map(([id, columns]) => [String(id), columns])) };
}
