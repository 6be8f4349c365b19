import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { robustAnomaly } from '../clean/anomaly.js';
import type { Database } from '../storage/database.js';

/** What the audit watches: a source's daily volume, and per field the share of messages without it or with an invalid value. */
export type AlertKind = 'volume' | 'null_rate' | 'invalid_rate';

export interface RaisedAlert {
  workspaceId: string;
  source: string;
  field: string;
  kind: AlertKind;
  day: string;
  value: number;
  median: number;
  mad: number;
  score: number;
  direction: 'high' | 'low';
}

const HISTORY_DAYS = 28;
// A rate moving by less than two points is noise whatever the history says.
const RATE_FLOOR = 0.02;

function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(day: string, n: number): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));
}

type DailyRow = { workspace_id: string; source_id: string; field: string; day: string; seen: string; invalid: string };

/**
 * Compare one day (by default yesterday, the last whole UTC day) with the 28
 * before it, per source and field, and raise an alert for every value more
 * than 4 MADs from its median. Idempotent: a day's alert is raised once.
 */
export async function auditQuality(database: Database, options: { now?: Date; day?: string; workspaceId?: string } = {}): Promise<{ day: string; raised: RaisedAlert[] }> {
  const day = options.day ?? addDays(dayOf(options.now ?? new Date()), -1);
  const from = addDays(day, -HISTORY_DAYS);
  const rows = await sql<DailyRow>`
    select workspace_id, source_id, field, day::text as day, seen::text as seen, invalid::text as invalid
    from quality_daily where day between ${from}::date and ${day}::date
    ${options.workspaceId ? sql`and workspace_id = ${options.workspaceId}` : sql``}`.execute(database.db);

  // series[workspace|source][field][day] = {seen, invalid}
  const series = new Map<string, Map<string, Map<string, { seen: number; invalid: number }>>>();
  for (const r of rows.rows) {
    const key = `${r.workspace_id}\u0000${r.source_id}`;
    const fields = series.get(key) ?? new Map<string, Map<string, { seen: number; invalid: number }>>();
    const days = fields.get(r.field) ?? new Map<string, { seen: number; invalid: number }>();
    days.set(r.day, { seen: Number(r.seen), invalid: Number(r.invalid) });
    fields.set(r.field, days);
    series.set(key, fields);
  }

  const history: string[] = [];
  for (let i = HISTORY_DAYS; i >= 1; i -= 1) history.push(addDays(day, -i));
  const raised: RaisedAlert[] = [];
  for (const [key, fields] of series) {
    const [workspaceId, source] = key.split('\u0000') as [string, string];
    const messages = fields.get('*');
    const withTraits = fields.get('#traits');
    if (!messages) continue;
    // A source's history starts on its first day: the days before it are not zeros.
    const activeDays = history.filter((d) => d >= ([...messages.keys()].sort()[0] ?? day));
    const check = (field: string, kind: AlertKind, valueOf: (d: string) => number | undefined, floor?: number) => {
      const value = valueOf(day);
      if (value === undefined) return;
      const past = activeDays.map(valueOf).filter((v): v is number => v !== undefined);
      const verdict = robustAnomaly(past, value, floor === undefined ? {} : { floor });
      if (!verdict.anomalous || verdict.direction === 'none') return;
      raised.push({ workspaceId, source, field, kind, day, value, median: verdict.median, mad: verdict.mad, score: verdict.score, direction: verdict.direction });
    };
    check('*', 'volume', (d) => messages.get(d)?.seen ?? 0);
    for (const [field, days] of fields) {
      if (field === '*' || field === '#traits') continue;
      check(field, 'invalid_rate', (d) => {
        const c = days.get(d);
        return c && c.seen > 0 ? c.invalid / c.seen : undefined;
      }, RATE_FLOOR);
      check(field, 'null_rate', (d) => {
        const total = withTraits?.get(d)?.seen ?? 0;
        return total > 0 ? 1 - Math.min(1, (days.get(d)?.seen ?? 0) / total) : undefined;
      }, RATE_FLOOR);
    }
  }
  if (raised.length > 0) {
    await database.db
      .insertInto('quality_alerts')
      .values(raised.map((a) => ({ workspace_id: a.workspaceId, id: randomUUID(), source_id: a.source, field: a.field, kind: a.kind, day: a.day, value: a.value, median: a.median, mad: a.mad, score: a.score, direction: a.direction })))
      .onConflict((oc) => oc.columns(['workspace_id', 'source_id', 'field', 'kind', 'day']).doNothing())
      .execute();
  }
  return { day, raised };
}
