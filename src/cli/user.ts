import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createToken, createUser, findUser, listTokens, listUsers, passwordProblem, revokeToken, updateUser, type AccountProblem, type ApiToken, type User, type UserChange } from '../privacy/accounts.js';
import { appendAudit } from '../privacy/audit-log.js';
import { readLock } from '../storage/data-dir-lock.js';
import type { Database } from '../storage/database.js';
import { CliError, type Config } from './config.js';
import { openRuntime } from './runtime.js';

export interface AccessCliOptions {
  workspace: string;
  role?: string | undefined;
  name?: string | undefined;
  /** read the password from standard input instead of generating one */
  passwordStdin: boolean;
  expiresDays?: string | undefined;
}

const USER_ACTIONS = ['add', 'list', 'role', 'password', 'disable', 'enable', 'unlock'] as const;
const TOKEN_ACTIONS = ['add', 'list', 'revoke'] as const;

/** A generated password: 20 characters of base64url, about 120 bits. */
function generatedPassword(): string {
  return randomBytes(15).toString('base64url');
}

function passwordFrom(options: AccessCliOptions): { password: string; generated: boolean } {
  if (!options.passwordStdin) return { password: generatedPassword(), generated: true };
  const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  const problem = passwordProblem(password);
  if (problem) throw new CliError(`--password-stdin: ${problem}`);
  return { password, generated: false };
}

function failed(problem: AccountProblem): never {
  throw new CliError(`${problem.field}: ${problem.message}`);
}

function userLine(u: User): string {
  const lock = u.lockedUntil && new Date(u.lockedUntil) > new Date() ? `, locked until ${u.lockedUntil}` : '';
  return `${u.email}\t${u.role}\t${u.status}${lock}\t${u.id}\tlast sign-in ${u.lastLoginAt ?? 'never'}\n`;
}

function tokenLine(t: ApiToken): string {
  return `${t.id}\t${t.name}\t${t.role}${t.scopes.length > 0 ? ` (${t.scopes.join(', ')})` : ''}\texpires ${t.expiresAt ?? 'never'}\tlast used ${t.lastUsedAt ?? 'never'}\n`;
}

// PGlite is single-process: while a server holds the data directory, account
// changes go through its API (as the local admin), otherwise straight to the database.
async function withAccess<T>(config: Config, options: AccessCliOptions, viaApi: (call: ApiCall) => Promise<T>, direct: (database: Database) => Promise<T>): Promise<T> {
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) {
    if (options.workspace !== 'default') throw new CliError(`a running server holds ${config.dataDir}: through it only the default workspace can be managed; stop it to manage ${options.workspace}`);
    const call: ApiCall = async (method, path, payload) => {
      const response = await fetch(`${holder.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${holder.localToken}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
        ...(payload ? { body: JSON.stringify(payload) } : {}),
      }).catch((error: unknown) => {
        throw new CliError(`the server at ${holder.url} did not answer: ${(error as Error).message}`);
      });
      const text = await response.text();
      const answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (!response.ok) throw new CliError(`the server refused: ${String(answer.message ?? response.status)}`);
      return answer;
    };
    return viaApi(call);
  }
  const runtime = await openRuntime(config, 'user');
  try {
    const known = await runtime.database.db.selectFrom('workspaces').select('id').where('id', '=', options.workspace).executeTakeFirst();
    if (!known) throw new CliError(`--workspace: there is no workspace ${options.workspace}`);
    return await direct(runtime.database);
  } finally {
    await runtime.database.close();
  }
}

type ApiCall = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, payload?: unknown) => Promise<Record<string, unknown>>;

async function userByEmail(call: ApiCall, email: string): Promise<User> {
  const { users } = (await call('GET', '/api/users')) as { users: User[] };
  const found = users.find((u) => u.email === email.trim().toLowerCase());
  if (!found) throw new CliError(`no user ${email}`);
  return found;
}

/** `custodian user add|list|role|password|disable|enable|unlock`: staff accounts (docs/access.md). */
export async function userCommand(config: Config, action: string | undefined, args: string[], options: AccessCliOptions): Promise<void> {
  if (!action || !(USER_ACTIONS as readonly string[]).includes(action)) throw new CliError(`user: say what to do: custodian user ${USER_ACTIONS.join('|')} …`);
  const out = (text: string) => process.stdout.write(text);
  const ws = options.workspace;
  if (action === 'list') {
    const users = await withAccess(config, options, async (call) => ((await call('GET', '/api/users')) as { users: User[] }).users, (database) => listUsers(database.db, ws));
    out(users.length === 0 ? 'no users yet: custodian user add EMAIL --role admin\n' : users.map(userLine).join(''));
    return;
  }
  const email = args[0];
  if (!email) throw new CliError(`user ${action}: name the user by e-mail: custodian user ${action} EMAIL`);
  if (action === 'add') {
    if (!options.role) throw new CliError('user add: give the role: --role admin|analyst|marketer|support|auditor (or a custom role)');
    const { password, generated } = passwordFrom(options);
    const input = { email, role: options.role, password, ...(options.name ? { name: options.name } : {}) };
    const user = await withAccess(
      config,
      options,
      async (call) => (await call('POST', '/api/users', input)) as unknown as User,
      async (database) => {
        const created = await createUser(database.db, ws, input);
        if ('problem' in created) failed(created.problem);
        await appendAudit(database.db, { workspaceId: ws, actor: 'cli', action: 'user.create', target: created.user.id, details: { email: created.user.email, role: created.user.role } });
        return created.user;
      },
    );
    out(userLine(user));
    if (generated) out(`password (shown once): ${password}\n`);
    return;
  }
  let change: UserChange;
  let generated: string | null = null;
  switch (action) {
    case 'role':
      if (!args[1] && !options.role) throw new CliError('user role: give the new role: custodian user role EMAIL ROLE');
      change = { role: args[1] ?? options.role! };
      break;
    case 'password': {
      const given = passwordFrom(options);
      if (given.generated) generated = given.password;
      change = { password: given.password };
      break;
    }
    case 'disable':
      change = { status: 'disabled' };
      break;
    case 'enable':
      change = { status: 'active' };
      break;
    default:
      change = { unlock: true };
  }
  const user = await withAccess(
    config,
    options,
    async (call) => (await call('PATCH', `/api/users/${(await userByEmail(call, email)).id}`, change)) as unknown as User,
    async (database) => {
      const found = await findUser(database.db, ws, email);
      if (!found) throw new CliError(`no user ${email} in workspace ${ws}`);
      const changed = await updateUser(database.db, ws, found.id, change);
      if ('problem' in changed) failed(changed.problem);
      const { password, ...shown } = change;
      await appendAudit(database.db, { workspaceId: ws, actor: 'cli', action: 'user.update', target: found.id, details: { ...shown, ...(password !== undefined ? { password: 'changed' } : {}) } });
      return changed.user;
    },
  );
  out(userLine(user));
  if (generated) out(`password (shown once): ${generated}\n`);
}

/** `custodian token add NAME --role R [--expires-days N] | list | revoke ID`: API tokens. */
export async function tokenCommand(config: Config, action: string | undefined, args: string[], options: AccessCliOptions): Promise<void> {
  if (!action || !(TOKEN_ACTIONS as readonly string[]).includes(action)) throw new CliError(`token: say what to do: custodian token ${TOKEN_ACTIONS.join('|')} …`);
  const out = (text: string) => process.stdout.write(text);
  const ws = options.workspace;
  if (action === 'list') {
    const tokens = await withAccess(config, options, async (call) => ((await call('GET', '/api/tokens')) as { tokens: ApiToken[] }).tokens, (database) => listTokens(database.db, ws));
    out(tokens.map(tokenLine).join(''));
    return;
  }
  const subject = args[0];
  if (!subject) throw new CliError(action === 'add' ? 'token add: name the token: custodian token add NAME --role ROLE' : 'token revoke: give the token id (custodian token list shows them)');
  if (action === 'revoke') {
    await withAccess(
      config,
      options,
      async (call) => void (await call('DELETE', `/api/tokens/${encodeURIComponent(subject)}`)),
      async (database) => {
        if (!(await revokeToken(database.db, ws, subject))) throw new CliError(`no token ${subject} in workspace ${ws}`);
        await appendAudit(database.db, { workspaceId: ws, actor: 'cli', action: 'token.revoke', target: subject });
      },
    );
    out(`revoked ${subject}\n`);
    return;
  }
  if (!options.role) throw new CliError('token add: give the role: --role admin|analyst|marketer|support|auditor (or a custom role)');
  let expiresInDays: number | undefined;
  if (options.expiresDays !== undefined) {
    expiresInDays = Number(options.expiresDays);
    if (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > 3650) throw new CliError('--expires-days: a whole number of days from 1 to 3650');
  }
  const input = { name: subject, role: options.role, ...(expiresInDays ? { expiresInDays } : {}) };
  const created = await withAccess(
    config,
    options,
    async (call) => (await call('POST', '/api/tokens', input)) as unknown as { token: ApiToken; secret: string },
    async (database) => {
      const made = await createToken(database.db, ws, { name: subject, role: options.role!, expiresAt: expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null, createdBy: 'cli' });
      if ('problem' in made) failed(made.problem);
      await appendAudit(database.db, { workspaceId: ws, actor: 'cli', action: 'token.create', target: made.token.id, details: { name: subject, role: options.role, expiresAt: made.token.expiresAt } });
      return made;
    },
  );
  out(tokenLine(created.token));
  out(`secret (shown once): ${created.secret}\n`);
}
