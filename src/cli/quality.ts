import { createQualityReporter, type FieldQuality, type QualityAlert, type QualityIssue, type QualityReport } from '../quality/report.js';
import { readLock } from '../storage/data-dir-lock.js';
import { CliError, type Config } from './config.js';
import { openRuntime } from './runtime.js';

interface QualityView {
  report: QualityReport;
  issues: QualityIssue[];
  alerts: QualityAlert[];
}

async function fetchJson<T>(url: string, token: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    throw new CliError(`the server at ${url} did not answer: ${(error as Error).message}`);
  }
  if (!response.ok) throw new CliError(`the server answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** From the running server's API when one holds the data directory, else straight from the database. */
async function load(config: Config): Promise<QualityView> {
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) {
    const [report, { issues }, { alerts }] = await Promise.all([
      fetchJson<QualityReport>(`${holder.url}/api/quality`, holder.localToken),
      fetchJson<{ issues: QualityIssue[] }>(`${holder.url}/api/quality/issues?limit=15`, holder.localToken),
      fetchJson<{ alerts: QualityAlert[] }>(`${holder.url}/api/quality/alerts?limit=10`, holder.localToken),
    ]);
    return { report, issues, alerts };
  }
  const runtime = await openRuntime(config, 'quality');
  try {
    const reporter = createQualityReporter(runtime.database, runtime.keyring);
    return {
      report: await reporter.report('default'),
      issues: await reporter.issues('default', { limit: 15 }),
      alerts: await reporter.alerts('default', { limit: 10 }),
    };
  } finally {
    await runtime.database.close();
  }
}

const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);

/** Columns padded by display width: CJK characters take two cells on a terminal. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c + ' '.repeat(widths[i]! - width(c)) : ' '.repeat(widths[i]! - width(c)) + c)).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function fieldRows(fields: FieldQuality[]): string[][] {
  return fields.map((f) => [f.source ? `${f.source}/${f.field}` : f.field, String(f.profiles), pct(f.completeness), pct(f.validity), pct(f.uniqueness), pct(f.consistency), pct(f.freshness), f.score.toFixed(1)]);
}

/** The quality report as text for a terminal. */
export function formatQuality(view: QualityView): string {
  const { report, issues, alerts } = view;
  const out = [`Data quality score ${report.score.toFixed(1)} / 100 over ${report.profiles} profiles (${report.generatedAt})`, ''];
  const headers = ['field', 'profiles', 'complete', 'valid', 'unique', 'consistent', 'fresh', 'score'];
  if (report.fields.length === 0) out.push('No standard fields observed yet: import or send some customers.');
  else out.push(table(headers, fieldRows(report.fields)), '', 'By source', table(['source/field', ...headers.slice(1)], fieldRows(report.bySource)));
  if (issues.length > 0) {
    out.push('', 'Top issues', table(['source', 'field', 'issue', 'severity', 'count', 'example'], issues.map((i) => [i.source, i.field, i.code, i.severity, String(i.count), JSON.stringify(i.examples[0]?.value ?? null)])));
  }
  if (alerts.length > 0) {
    out.push('', 'Alerts', table(['day', 'source', 'field', 'kind', 'value', 'median', 'score'], alerts.map((a) => [a.day, a.source, a.field, a.kind, a.value.toFixed(3), a.median.toFixed(3), a.score.toFixed(1)])));
  }
  return out.join('\n');
}

/** `custodian quality`: the workspace's data-quality report. */
export async function qualityCommand(config: Config, format: 'table' | 'json'): Promise<void> {
  const view = await load(config);
  process.stdout.write(format === 'json' ? JSON.stringify(view, null, 2) + '\n' : formatQuality(view) + '\n');
}
