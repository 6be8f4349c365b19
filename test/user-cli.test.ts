import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killAll, runCli, startServe, stop } from './helpers/process.js';

/**
 * `custodian user` and `custodian token` on an embedded database: straight to
 * the database while no server runs, through the server's API while one holds
 * the data directory.
 */
describe('custodian user and token', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'custodian-users-'));
  const env = { CUSTODIAN_DATA: dataDir };
  afterAll(async () => {
    await killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds users and tokens that then sign in and call the API, and manages them through a running server', async () => {
    const added = await runCli(['user', 'add', 'Ops@Example.com', '--role', 'admin', '--name', 'Ops'], env);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^ops@example\.com\tadmin\tactive/m);
    const password = /password \(shown once\): (\S+)/.exec(added.stdout)?.[1];
    expect(password).toBeDefined();

    const bad = await runCli(['user', 'add', 'not-an-address', '--role', 'admin'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/email: a user signs in with an e-mail address/);
    const noRole = await runCli(['user', 'add', 'x@example.com', '--role', 'wizard'], env);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toMatch(/role: no role wizard/);
    const otherWorkspace = await runCli(['user', 'list', '--workspace', 'nope'], env);
    expect(otherWorkspace.stderr).toMatch(/--workspace: there is no workspace nope/);

    const token = await runCli(['token', 'add', 'ci', '--role', 'analyst', '--expires-days', '30'], env);
    expect(token.code, token.stderr).toBe(0);
    const secret = /secret \(shown once\): (\S+)/.exec(token.stdout)?.[1];
    expect(secret).toMatch(/^ct_/);

    const port = await freePort();
    const server = await startServe({ port, env });
    try {
      const login = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ops@example.com', password }) });
      expect(login.status).toBe(200);
      const segments = await fetch(`${server.url}/api/segments`, { headers: { authorization: `Bearer ${secret}` } });
      expect(segments.status).toBe(200);
      expect((await fetch(`${server.url}/api/users`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(403);

      // The server holds the data directory: these go through its API.
      const list = await runCli(['user', 'list'], env);
      expect(list.stdout).toContain('ops@example.com');
      const disabled = await runCli(['user', 'disable', 'ops@example.com'], env);
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(disabled.stdout).toMatch(/ops@example\.com\tadmin\tdisabled/);
      const refused = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ops@example.com', password }) });
      expect(refused.status).toBe(401);

      const tokens = await runCli(['token', 'list'], env);
      const id = /^(\S+)\tci\tanalyst/m.exec(tokens.stdout)?.[1];
      expect(id).toBeDefined();
      expect((await runCli(['token', 'revoke', id!], env)).code).toBe(0);
      expect((await fetch(`${server.url}/api/segments`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
    } finally {
      await stop(server);
    }
  }, 120_000);
});
