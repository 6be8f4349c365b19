import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { MatchRecord } from '../../src/identity/match-record.js';

/**
 * FEBRL person records (rec_id, given_name, surname, street_number,
 * address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id)
 * as match records, with the true entity of each: the number in rec_id
 * (`rec-1496-org` and `rec-1496-dup-0` are one person). Several files are
 * read as one list, in order (febrl4: A then B).
 */
export function readFebrl(files: string | readonly string[]): { records: MatchRecord[]; truth: Int32Array } {
  const records: MatchRecord[] = [];
  const entities: number[] = [];
  for (const file of typeof files === 'string' ? [files] : files) {
    const rows = parse(readFileSync(file, 'utf8'), { columns: (header: string[]) => header.map((h) => h.trim()), trim: true, skip_empty_lines: true }) as Record<string, string>[];
    for (const row of rows) {
      const id = row.rec_id ?? '';
      const entity = /^rec-(\d+)-/.exec(id);
      if (!entity) throw new Error(`${file}: rec_id ${JSON.stringify(id)} does not name an entity`);
      const record: MatchRecord = { id };
      const put = (key: Exclude<keyof MatchRecord, 'id'>, value: string | undefined) => {
        if (value !== undefined && value !== '') record[key] = value;
      };
      put('given', row.given_name);
      put('family', row.surname);
      put('streetNumber', row.street_number);
      put('street', row.address_1);
      put('addressLine2', row.address_2);
      put('city', row.suburb);
      put('postcode', row.postcode);
      put('state', row.state);
      put('birth', isoDate(row.date_of_birth));
      put('nationalId', row.soc_sec_id);
      records.push(record);
      entities.push(Number(entity[1]));
    }
  }
  return { records, truth: Int32Array.from(entities) };
}

/** YYYYMMDD → YYYY-MM-DD when it is a real date; FEBRL's corrupted dates stay as their digits. */
function isoDate(raw: string | undefined): string | undefined {
  if (raw === undefined || !/^\d{8}$/.test(raw)) return raw;
  const y = Number(raw.slice(0, 4));
  const m = Number(raw.slice(4, 6));
  const d = Number(raw.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  const real = date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  return real ? `${raw.slice(0, 4)}-${raw.slice(4, 6)}-${raw.slice(6, 8)}` : raw;
}
