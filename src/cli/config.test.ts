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
