import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { campaignRoiSource } from '../activate/attribution.js';
import { campaignMonthSource } from '../activate/monthly-campaigns.js';
import { parseMonth } from '../analytics/kpis.js';
import { gatherMonthlyReport } from '../analytics/report-data.js';
import { renderReport, type ReportFormat, type ReportLang } from '../analytics/report.js';
import { createQualityReporter } from '../quality/report.js';
import { readLock } from '../storage/data-dir-lock.js';
import { CliError, ConfigError, type Config } from './config.js';
import { openRuntime } from './runtime.js';

export interface ReportOptions {
  /** YYYY-MM */
  month: string;
  format: ReportFormat;
  lang: ReportLang;
  /** null: standard output */
  output: string | null;
}

/** Check the flags of `custodian report`; the format follows the file name when not given. */
export function reportOptions(flags: { month?: string | undefined; format?: string | undefined; lang?: string | undefined; output?: string | undefined }, defaultMonth: string): ReportOptions {
  const month = flags.month ?? defaultMonth;
  if (!parseMonth(month)) throw new ConfigError(`--month: ${JSON.stringify(month)} is not a month: give YYYY-MM, e.g. 2026-10`);
  const format = flags.format ?? (flags.output?.toLowerCase().endsWith('.csv') ? 'csv' : 'html');
  if (format !== 'html' && format !== 'csv') throw new ConfigError(`--format ${format} is not supported for report: use html or csv`);
  const lang = flags.lang ?? 'en';
  if (lang !== 'en' && lang !== 'zh-CN') throw new ConfigError(`--lang ${lang} is not supported: use en or zh-CN`);
  return { month, format, lang, output: flags.output ?? null };
}

/** From the running server's API when one holds the data directory, else straight from the database. */
async function produce(config: Config, options: ReportOptions): Promise<string> {
  const holder = config.databaseUrl ? null : readLock(config.dataDir);
  if (holder?.url && holder.localToken) {
    process.stderr.write(`asking the server at ${holder.url} for the ${options.month} report…\n`);
    const query = new URLSearchParams({ month: options.month, format: options.format, lang: options.lang });
    let response: Response;
    try {
      response = await fetch(`${holder.url}/api/analytics/report?${query}`, { headers: { authorization: `Bearer ${holder.localToken}` } });
    } catch (error) {
      throw new CliError(`the server holding ${config.dataDir} (${holder.url}, pid ${holder.pid}) did not answer: ${(error as Error).message}`);
    }
    if (!response.ok) throw new CliError(`the server at ${holder.url} answered ${response.status}: ${await response.text()}`);
    return response.text();
  }
  const runtime = await openRuntime(config, 'report');
  try {
    process.stderr.write(`gathering the ${options.month} report…\n`);
    const report = await gatherMonthlyReport(runtime.database, {
      workspaceId: 'default',
      month: options.month,
      quality: createQualityReporter(runtime.database, runtime.keyring),
      campaignRoi: campaignRoiSource(runtime.database.db, 'default'),
      campaigns: campaignMonthSource(runtime.database.db, 'default'),
    });
    return renderReport(report, options.format, options.lang).body;
  } finally {
    await runtime.database.close();
  }
}

/**
 * `custodian report`: the monthly management report as HTML or CSV. A file is
 * written aside and renamed when complete, so a failed run never leaves a
 * report that looks whole.
 */
export async function reportCommand(config: Config, options: ReportOptions): Promise<void> {
  const body = await produce(config, options);
  if (!options.output) {
    process.stdout.write(body);
    return;
  }
  const partial = `${options.output}.partial`;
  try {
    writeFileSync(partial, body);
    renameSync(partial, options.output);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  process.stderr.write(`wrote ${options.output} (${options.format}, ${options.lang}, ${Math.ceil(Buffer.byteLength(body) / 1024)} KB)\n`);
}
