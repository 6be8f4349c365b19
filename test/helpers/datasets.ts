import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';

/**
 * Reference data sets (FEBRL, CDNOW, Groceries, Telco…) live outside the
 * repository: in `CUSTODIAN_DATASETS`, else `../shared/datasets` beside the
 * repository. Tests that need one skip with a message when it is absent, so a
 * fresh clone's `npm test` passes; in CI, where the data sets are always
 * provided, an absent one is a failure, not a silent skip.
 */

const REPOSITORY = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function datasetsDir(): string {
  const fromEnv = process.env.CUSTODIAN_DATASETS;
  return fromEnv !== undefined && fromEnv !== '' ? resolve(fromEnv) : join(REPOSITORY, '..', 'shared', 'datasets');
}

/** The path of a data set file (relative to the data sets folder), or null when it is missing. */
export function datasetFile(rel: string): string | null {
  const path = join(datasetsDir(), rel);
  return existsSync(path) ? path : null;
}

/**
 * The paths of the files a test file needs, by their relative name, or null
 * when any is missing. Call it at the top of a test file (or a describe
 * block) and skip on null, e.g. `describe.skipIf(files === null)`. When files
 * are missing it prints which and where; with `CI=true` it also registers a
 * failing test, so CI cannot pass without the data.
 */
export function requireDatasets<const R extends string>(rels: readonly R[]): Record<R, string> | null {
  const found = {} as Record<R, string>;
  const missing: string[] = [];
  for (const rel of rels) {
    const path = datasetFile(rel);
    if (path === null) missing.push(rel);
    else found[rel] = path;
  }
  if (missing.length === 0) return found;
  const message = `data set files missing from ${datasetsDir()}: ${missing.join(', ')} (set CUSTODIAN_DATASETS to the folder that holds them)`;
  if (process.env.CI === 'true') {
    test('required data sets are present', () => {
      throw new Error(message);
    });
  } else console.log(`skipping tests: ${message}`);
  return null;
}
