import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ConfigError, loadConfig } from '../src/cli/config.js';
import { HSTS_MAX_AGE_SECONDS } from '../src/server/secure-headers.js';
import { freePort, killAll, runCli, sleep, startCli, stop, type CliProcess } from './helpers/process.js';

const root = mkdtempSync(join(tmpdir(), 'custodian-tls-'));
const file = (name: string) => join(root, name);
const haveOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

/** The certificate tests need the openssl binary: CI must have it; elsewhere they skip, saying why. */
function needOpenssl(context: TestContext): void {
  if (haveOpenssl) return;
  if (process.env.CI) throw new Error('the openssl binary is not on PATH: CI must install it (the TLS tests make a certificate with it)');
  context.skip('openssl is not on PATH: the TLS tests that need a certificate are skipped (install openssl to run them)');
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: root, stdio: 'pipe' });
}

beforeAll(() => {
  writeFileSync(file('not-pem.txt'), 'hello, I am not a certificate\n');
  writeFileSync(file('bad-cert.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  mkdirSync(file('a-directory'));
  if (!haveOpenssl) return;
  // A self-signed certificate for the loopback address the server listens on, valid for two days.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other-key.pem');
  openssl('pkey', '-in', 'key.pem', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted-key.pem');
});

afterAll(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

describe('--tls-cert / --tls-key in the configuration', () => {
  it('are off unless given', () => {
    expect(loadConfig({}, {}).tls).toBeUndefined();
    expect(loadConfig({}, { CUSTODIAN_TLS_CERT: '', CUSTODIAN_TLS_KEY: '' }).tls).toBeUndefined();
  });

  it('need each other, and say which one is missing', () => {
    expect(() => loadConfig({ 'tls-cert': file('cert.pem') }, {})).toThrow(ConfigError);
    expect(() => loadConfig({ 'tls-cert': file('cert.pem') }, {})).toThrow('--tls-cert/CUSTODIAN_TLS_CERT is given without --tls-key/CUSTODIAN_TLS_KEY');
    expect(() => loadConfig({}, { CUSTODIAN_TLS_KEY: file('key.pem') })).toThrow('--tls-key/CUSTODIAN_TLS_KEY is given without --tls-cert/CUSTODIAN_TLS_CERT');
  });

  it('refuse a file that is missing, a directory, or not PEM, naming the flag and the file', () => {
    const key = file('not-pem.txt');
    expect(() => loadConfig({ 'tls-cert': file('nope.pem'), 'tls-key': key }, {})).toThrow(`--tls-cert/CUSTODIAN_TLS_CERT: there is no file ${file('nope.pem')}`);
    expect(() => loadConfig({ 'tls-cert': file('a-directory'), 'tls-key': key }, {})).toThrow(`--tls-cert/CUSTODIAN_TLS_CERT: ${file('a-directory')} is a directory`);
    expect(() => loadConfig({}, { CUSTODIAN_TLS_CERT: file('not-pem.txt'), CUSTODIAN_TLS_KEY: key })).toThrow(`--tls-cert/CUSTODIAN_TLS_CERT: ${file('not-pem.txt')} is not a PEM certificate`);
    expect(() => loadConfig({ 'tls-cert': file('bad-cert.pem'), 'tls-key': key }, {})).toThrow(`--tls-cert/CUSTODIAN_TLS_CERT: ${file('bad-cert.pem')} does not hold a valid certificate`);
  });

  it('refuse a key that is not a key, has a passphrase, or belongs to another certificate', (context) => {
    needOpenssl(context);
    const cert = file('cert.pem');
    expect(() => loadConfig({ 'tls-cert': cert, 'tls-key': file('nope.pem') }, {})).toThrow(`--tls-key/CUSTODIAN_TLS_KEY: there is no file ${file('nope.pem')}`);
    expect(() => loadConfig({ 'tls-cert': cert, 'tls-key': file('not-pem.txt') }, {})).toThrow(`--tls-key/CUSTODIAN_TLS_KEY: ${file('not-pem.txt')} is not a PEM private key`);
    // Swapped by mistake: the certificate given as the key, and the other way round.
    expect(() => loadConfig({ 'tls-cert': cert, 'tls-key': cert }, {})).toThrow('--tls-key/CUSTODIAN_TLS_KEY');
    expect(() => loadConfig({ 'tls-cert': file('key.pem'), 'tls-key': cert }, {})).toThrow(`--tls-cert/CUSTODIAN_TLS_CERT: ${file('key.pem')} is not a PEM certificate`);
    expect(() => loadConfig({ 'tls-cert': cert, 'tls-key': file('encrypted-key.pem') }, {})).toThrow(`--tls-key/CUSTODIAN_TLS_KEY: ${file('encrypted-key.pem')} is encrypted with a passphrase`);
    expect(() => loadConfig({ 'tls-cert': cert, 'tls-key': file('other-key.pem') }, {})).toThrow(`--tls-key/CUSTODIAN_TLS_KEY: ${file('other-key.pem')} is not the private key of the certificate in ${cert}`);
  });

  it('refuse a file this user cannot read', (context) => {
    needOpenssl(context);
    // root reads any file: nothing to refuse there.
    if (process.getuid?.() === 0) return context.skip('running as root, which can read a mode 000 file');
    const unreadable = file('unreadable-key.pem');
    writeFileSync(unreadable, readFileSync(file('key.pem')));
    chmodSync(unreadable, 0o000);
    expect(() => loadConfig({ 'tls-cert': file('cert.pem'), 'tls-key': unreadable }, {})).toThrow(`--tls-key/CUSTODIAN_TLS_KEY: ${unreadable} cannot be read by this user (permission denied)`);
  });

  it('take the files from the flags or the environment, the flags first', (context) => {
    needOpenssl(context);
    const fromEnv = loadConfig({}, { CUSTODIAN_TLS_CERT: file('cert.pem'), CUSTODIAN_TLS_KEY: file('key.pem') }).tls;
    expect(fromEnv).toMatchObject({ certFile: file('cert.pem'), keyFile: file('key.pem') });
    expect(fromEnv?.cert.equals(readFileSync(file('cert.pem')))).toBe(true);
    expect(fromEnv?.key.equals(readFileSync(file('key.pem')))).toBe(true);
    const flagWins = loadConfig({ 'tls-key': file('key.pem') }, { CUSTODIAN_TLS_CERT: file('cert.pem'), CUSTODIAN_TLS_KEY: file('other-key.pem') }).tls;
    expect(flagWins?.keyFile).toBe(file('key.pem'));
  });

  it('stop `custodian serve` at start-up with the message and exit code 1', async () => {
    const result = await runCli(['serve', '--no-demo', '--data', file('never-made'), '--tls-cert', file('not-pem.txt'), '--tls-key', file('not-pem.txt')], {}, 30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`custodian: --tls-cert/CUSTODIAN_TLS_CERT: ${file('not-pem.txt')} is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)\n`);
  });
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request over HTTPS that trusts only the test's own certificate. */
function httpsCall(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, ca: readFileSync(file('cert.pem')), timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end(options.body);
  });
}

function plainHttpCall(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end();
  });
}

describe('custodian serve --tls-cert --tls-key', () => {
  let server: CliProcess | null = null;
  afterAll(async () => {
    if (server) await stop(server);
  });

  it('answers over HTTPS, with HSTS, and not over plain HTTP on the same port', async (context) => {
    needOpenssl(context);
    const port = await freePort();
    const writeKey = 'wk_tls_test';
    server = startCli(['serve', '--no-demo', '--data', file('data'), '--tls-cert', file('cert.pem'), '--tls-key', file('key.pem')], { PORT: String(port), CUSTODIAN_WRITE_KEY: writeKey });
    const started = server;
    const deadline = Date.now() + 60_000;
    let health: Answer | null = null;
    while (!health && Date.now() < deadline) {
      const exit = started.exit();
      if (exit) throw new Error(`custodian serve exited (${exit.code ?? exit.signal})\nstdout:\n${started.stdout()}\nstderr:\n${started.stderr()}`);
      health = await httpsCall(port, '/health').catch(() => null);
      if (!health) await sleep(200);
    }
    expect(health, `no HTTPS answer within 60 s\nstderr:\n${started.stderr()}`).not.toBeNull();
    expect(health!.status).toBe(200);
    expect(JSON.parse(health!.body)).toMatchObject({ status: 'ok' });
    expect(health!.headers['strict-transport-security']).toBe(`max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains`);
    expect(health!.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    expect(started.stdout()).toContain(`API            https://127.0.0.1:${port}`);

    // The collection API works over it as over HTTP.
    const identify = await httpsCall(port, '/v1/identify', {
      method: 'POST',
      headers: { authorization: 'Basic ' + Buffer.from(`${writeKey}:`).toString('base64'), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'tls-user', traits: { city: 'Lisbon' } }),
    });
    expect(identify.status).toBe(200);

    // Plain HTTP to the HTTPS port gets no HTTP answer at all.
    await expect(plainHttpCall(port, '/health')).rejects.toThrow();
  });
});
