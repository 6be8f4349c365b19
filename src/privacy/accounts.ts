import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sql, type Kysely } from 'kysely';
import type { Schema } from '../storage/schema.js';
import { findRole } from './roles-store.js';

type Db = Kysely<Schema>;

// Loaded on first use: the native binding costs start-up time every CLI command would pay.
type Argon2 = { hash(password: string, options?: Record<string, number>): Promise<string>; verify(hashed: string, password: string): Promise<boolean> };
let argon2: Argon2 | null = null;
function hasher(): Argon2 {
  argon2 ??= createRequire(import.meta.url)('@node-rs/argon2') as Argon2;
  return argon2;
}

// OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): a verify takes ~7 ms on this machine (median of 15),
// and the 19 MiB per guess is what makes GPU guessing expensive.
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
/** consecutive failures before an account is locked */
export const LOCK_AFTER = 5;
const LOCK_BASE_SECONDS = 60;
const LOCK_MAX_SECONDS = 3600;
export const SESSION_HOURS = 12;
/** a session unused this long ends, however young it is */
export const SESSION_IDLE_MINUTES = 120;

export function secretHash(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function generateSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/** What is wrong with a new password, or null. Length is what resists guessing; no composition rules (NIST SP 800-63B). */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `a password needs at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `a password has at most ${PASSWORD_MAX} characters`;
  return null;
}

export function hashPassword(password: string): Promise<string> {
  return hasher().hash(password, ARGON2_OPTIONS);
}

// Checked when the account does not exist, so a wrong e-mail costs as long as a wrong password.
let decoyHash: Promise<string> | null = null;

export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  status: 'active' | 'disabled';
  lockedUntil: string | null;
  lastLoginAt: string | null;
  createdAt: string;
}

const USER_COLUMNS = ['id', 'email', 'name', 'role', 'status', 'locked_until', 'last_login_at', 'created_at'] as const;

function toUser(row: { id: string; email: string; name: string; role: string; status: 'active' | 'disabled'; locked_until: Date | null; last_login_at: Date | null; created_at: Date }): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    lockedUntil: row.locked_until?.toISOString() ?? null,
    lastLoginAt: row.last_login_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export type AccountProblem = { field: string; message: string; status: 400 | 404 | 409 };

export interface NewUser {
  email: string;
  name?: string;
  role: string;
  password: string;
}

export async function createUser(db: Db, workspaceId: string, input: NewUser): Promise<{ user: User } | { problem: AccountProblem }> {
  const email = normalizeEmail(input.email);
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) return { problem: { field: 'email', message: 'a user signs in with an e-mail address', status: 400 } };
  const weak = passwordProblem(input.password);
  if (weak) return { problem: { field: 'password', message: weak, status: 400 } };
  if (!(await findRole(db, workspaceId, input.role))) return { problem: { field: 'role', message: `no role ${input.role} in this workspace`, status: 400 } };
  const passwordHash = await hashPassword(input.password);
  const row = await db
    .insertInto('users')
    .values({ workspace_id: workspaceId, id: randomUUID(), email, name: input.name ?? '', password_hash: passwordHash, role: input.role })
    .onConflict((oc) => oc.columns(['workspace_id', 'email']).doNothing())
    .returning(USER_COLUMNS)
    .executeTakeFirst();
  if (!row) return { problem: { field: 'email', message: `there is already a user ${email}`, status: 409 } };
  return { user: toUser(row) };
}

export async function listUsers(db: Db, workspaceId: string): Promise<User[]> {
  const rows = await db.selectFrom('users').select(USER_COLUMNS).where('workspace_id', '=', workspaceId).orderBy('email').execute();
  return rows.map(toUser);
}

export async function findUser(db: Db, workspaceId: string, idOrEmail: string): Promise<User | null> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrEmail);
  const row = await db
    .selectFrom('users')
    .select(USER_COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where(isId ? 'id' : 'email', '=', isId ? idOrEmail : normalizeEmail(idOrEmail))
    .executeTakeFirst();
  return row ? toUser(row) : null;
}

export interface UserChange {
  name?: string;
  role?: string;
  status?: 'active' | 'disabled';
  password?: string;
  /** clear a lock-out after too many failed sign-ins */
  unlock?: boolean;
}

/**
 * Change a user. A new password, a new role or disabling ends the user's
 * sessions: whoever holds one signed in under the old terms. Disabling also
 * revokes the API tokens the user issued.
 */
export async function updateUser(db: Db, workspaceId: string, id: string, change: UserChange): Promise<{ user: User } | { problem: AccountProblem }> {
  if (change.password !== undefined) {
    const weak = passwordProblem(change.password);
    if (weak) return { problem: { field: 'password', message: weak, status: 400 } };
  }
  if (change.role !== undefined && !(await findRole(db, workspaceId, change.role))) return { problem: { field: 'role', message: `no role ${change.role} in this workspace`, status: 400 } };
  const passwordHash = change.password !== undefined ? await hashPassword(change.password) : undefined;
  return db.transaction().execute(async (tx) => {
    const row = await tx
      .updateTable('users')
      .set({
        updated_at: new Date(),
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.role !== undefined ? { role: change.role } : {}),
        ...(change.status !== undefined ? { status: change.status } : {}),
        ...(passwordHash !== undefined ? { password_hash: passwordHash } : {}),
        ...(change.unlock || passwordHash !== undefined ? { failed_logins: 0, locked_until: null } : {}),
      })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .returning(USER_COLUMNS)
      .executeTakeFirst();
    if (!row) return { problem: { field: 'id', message: `no user ${id}`, status: 404 as const } };
    if (passwordHash !== undefined || change.role !== undefined || change.status === 'disabled') {
      await tx.deleteFrom('sessions').where('workspace_id', '=', workspaceId).where('user_id', '=', id).execute();
    }
    // Tokens a disabled user issued go too: leaving must not leave a way back in.
    if (change.status === 'disabled') await tx.deleteFrom('api_tokens').where('workspace_id', '=', workspaceId).where('created_by', '=', `user:${id}`).execute();
    return { user: toUser(row) };
  });
}

/** Delete a user, their sessions and the API tokens they issued. */
export async function removeUser(db: Db, workspaceId: string, id: string): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await tx.deleteFrom('api_tokens').where('workspace_id', '=', workspaceId).where('created_by', '=', `user:${id}`).execute();
    const gone = await tx.deleteFrom('users').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
    return Number(gone.numDeletedRows) > 0;
  });
}

export type PasswordCheck =
  | { kind: 'ok'; user: User }
  | { kind: 'invalid'; userId: string | null }
  | { kind: 'locked'; userId: string; retryAfterSeconds: number };

export type LoginOutcome = Exclude<PasswordCheck, { kind: 'ok' }> | { kind: 'ok'; user: User; session: string; expiresAt: Date };

/** Seconds an account stays locked after `failures` consecutive failures: doubling from a minute, at most an hour. */
export function lockSeconds(failures: number): number {
  if (failures < LOCK_AFTER) return 0;
  return Math.min(LOCK_MAX_SECONDS, LOCK_BASE_SECONDS * 2 ** (failures - LOCK_AFTER));
}

/**
 * Check a user's password. Each attempt is claimed (counted, and the lock set
 * from the fifth on) in one statement before the password is checked, so
 * guesses sent all at once are counted one by one and those after the fifth
 * are refused unchecked; a success clears the count. An unknown e-mail costs
 * as long as a wrong password and answers alike.
 */
export async function checkPassword(db: Db, workspaceId: string, email: string, password: string, now = new Date(), signIn = false): Promise<PasswordCheck> {
  const row = await db
    .selectFrom('users')
    .select([...USER_COLUMNS, 'password_hash'])
    .where('workspace_id', '=', workspaceId)
    .where('email', '=', normalizeEmail(email))
    .executeTakeFirst();
  if (!row) {
    decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await hasher().verify(await decoyHash, password);
    return { kind: 'invalid', userId: null };
  }
  const failures = sql<number>`failed_logins + 1`;
  const claimed = await db
    .updateTable('users')
    .set({
      failed_logins: failures,
      locked_until: sql<Date | null>`case when failed_logins + 1 >= ${LOCK_AFTER}
        then ${now}::timestamptz + make_interval(secs => least(${LOCK_MAX_SECONDS}, ${LOCK_BASE_SECONDS} * power(2, failed_logins + 1 - ${LOCK_AFTER})))
        else null end`,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', row.id)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
    .returning('failed_logins')
    .executeTakeFirst();
  if (!claimed) {
    const lock = await db.selectFrom('users').select('locked_until').where('workspace_id', '=', workspaceId).where('id', '=', row.id).executeTakeFirst();
    const until = lock?.locked_until?.getTime() ?? now.getTime();
    return { kind: 'locked', userId: row.id, retryAfterSeconds: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
  }
  const good = await hasher().verify(row.password_hash, password);
  if (!good || row.status !== 'active') return { kind: 'invalid', userId: row.id };
  await db
    .updateTable('users')
    .set({ failed_logins: 0, locked_until: null, ...(signIn ? { last_login_at: now } : {}) })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', row.id)
    .execute();
  return { kind: 'ok', user: toUser({ ...row, locked_until: null, last_login_at: signIn ? now : row.last_login_at }) };
}

/** Check a password and open a session for the dashboard. */
export async function login(db: Db, workspaceId: string, email: string, password: string, now = new Date()): Promise<LoginOutcome> {
  const checked = await checkPassword(db, workspaceId, email, password, now, true);
  if (checked.kind !== 'ok') return checked;
  const session = generateSecret('cs');
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3600_000);
  const userId = checked.user.id;
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('sessions').values({ token_hash: secretHash(session), workspace_id: workspaceId, user_id: userId, expires_at: expiresAt, created_at: now, last_seen_at: now }).execute();
    // Old sessions go when their owner next signs in, so the table does not grow with every sign-in.
    await tx.deleteFrom('sessions').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).where('expires_at', '<', now).execute();
  });
  return { kind: 'ok', user: checked.user, session, expiresAt };
}

export interface SessionHolder {
  workspaceId: string;
  userId: string;
  email: string;
  role: string;
  expiresAt: Date;
}

/** The active user behind a session secret, or null when it has expired, idled out or its user is disabled. */
export async function sessionHolder(db: Db, session: string, now = new Date()): Promise<SessionHolder | null> {
  const hash = secretHash(session);
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', (join) => join.onRef('u.workspace_id', '=', 's.workspace_id').onRef('u.id', '=', 's.user_id'))
    .select(['s.workspace_id', 's.user_id', 's.expires_at', 's.last_seen_at', 'u.email', 'u.role', 'u.status'])
    .where('s.token_hash', '=', hash)
    .executeTakeFirst();
  if (!row || row.status !== 'active') return null;
  if (row.expires_at <= now || now.getTime() - row.last_seen_at.getTime() > SESSION_IDLE_MINUTES * 60_000) {
    await db.deleteFrom('sessions').where('token_hash', '=', hash).execute();
    return null;
  }
  // Written at most once a minute: every dashboard request passes here.
  if (now.getTime() - row.last_seen_at.getTime() > 60_000) await db.updateTable('sessions').set({ last_seen_at: now }).where('token_hash', '=', hash).execute();
  return { workspaceId: row.workspace_id, userId: row.user_id, email: row.email, role: row.role, expiresAt: row.expires_at };
}

export async function endSession(db: Db, session: string): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', secretHash(session)).execute();
}

export interface ApiToken {
  id: string;
  name: string;
  role: string;
  scopes: string[];
  expiresAt: string | null;
  createdBy: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

const TOKEN_COLUMNS = ['id', 'name', 'role', 'scopes', 'expires_at', 'created_by', 'last_used_at', 'created_at'] as const;

function toToken(row: { id: string; name: string; role: string; scopes: string[]; expires_at: Date | null; created_by: string | null; last_used_at: Date | null; created_at: Date }): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    scopes: row.scopes,
    expiresAt: row.expires_at?.toISOString() ?? null,
    createdBy: row.created_by,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

export interface NewToken {
  name: string;
  role: string;
  scopes?: string[];
  expiresAt?: Date | null;
  createdBy: string;
}

/** Issue an API token; its secret is in the answer once and only its hash is kept. */
export async function createToken(db: Db, workspaceId: string, input: NewToken): Promise<{ token: ApiToken; secret: string } | { problem: AccountProblem }> {
  if (!(await findRole(db, workspaceId, input.role))) return { problem: { field: 'role', message: `no role ${input.role} in this workspace`, status: 400 } };
  const secret = generateSecret('ct');
  const row = await db
    .insertInto('api_tokens')
    .values({
      workspace_id: workspaceId,
      id: randomUUID(),
      name: input.name,
      token_hash: secretHash(secret),
      role: input.role,
      scopes: input.scopes ?? [],
      expires_at: input.expiresAt ?? null,
      created_by: input.createdBy,
    })
    .returning(TOKEN_COLUMNS)
    .executeTakeFirstOrThrow();
  return { token: toToken(row), secret };
}

export async function listTokens(db: Db, workspaceId: string): Promise<ApiToken[]> {
  const rows = await db.selectFrom('api_tokens').select(TOKEN_COLUMNS).where('workspace_id', '=', workspaceId).orderBy('created_at').execute();
  return rows.map(toToken);
}

export async function revokeToken(db: Db, workspaceId: string, id: string): Promise<boolean> {
  const gone = await db.deleteFrom('api_tokens').where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return Number(gone.numDeletedRows) > 0;
}
