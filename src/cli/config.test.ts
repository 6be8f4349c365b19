import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('scheduled backups in the configuration', () => {
  it('are off without CUSTODIAN_BACKUP_DIR, and on with its defaults when given', () => {
    expect(loadConfig({}, {}).backup).toBeUndefined();
    const on = loadConfig({}, { CUSTODIAN_BACKUP_DIR: '/tmp/custodian-backups' }).backup;
    expect(on).toEqual({ dir: '/tmp/custodian-backups', everyHours: 24, keep: 7 });
    expect(loadConfig({}, { CUSTODIAN_BACKUP_DIR: '/tmp/b', CUSTODIAN_BACKUP_EVERY_HOURS: '6', CUSTODIAN_BACKUP_KEEP: '3' }).backup).toEqual({ dir: '/tmp/b', everyHours: 6, keep: 3 });
  });

  it('refuses settings that cannot work, naming them', () => {
    expect(() => loadConfig({}, { CUSTODIAN_BACKUP_DIR: '/tmp/b', CUSTODIAN_BACKUP_KEEP: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({}, { CUSTODIAN_BACKUP_DIR: '/tmp/b', CUSTODIAN_BACKUP_KEEP: '0' })).toThrow(/CUSTODIAN_BACKUP_KEEP/);
    expect(() => loadConfig({}, { CUSTODIAN_BACKUP_DIR: '/tmp/b', CUSTODIAN_BACKUP_EVERY_HOURS: 'daily' })).toThrow(/CUSTODIAN_BACKUP_EVERY_HOURS/);
  });
});

describe('trusted proxies in the configuration', () => {
  it('takes addresses, ranges or a hop count, and refuses anything else by name', () => {
    expect(loadConfig({}, {}).trustProxy).toBeUndefined();
    expect(loadConfig({}, { CUSTODIAN_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({}, { CUSTODIAN_TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,::1' }).trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', '::1']);
    expect(() => loadConfig({}, { CUSTODIAN_TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({}, { CUSTODIAN_TRUST_PROXY: 'proxy.internal' })).toThrow(/CUSTODIAN_TRUST_PROXY: "proxy.internal" is not an IP address/);
    expect(() => loadConfig({}, { CUSTODIAN_TRUST_PROXY: '0' })).toThrow(/1 to 10/);
  });
});
