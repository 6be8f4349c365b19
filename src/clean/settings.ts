import type { DateOrder } from './date.js';
import { DEFAULT_COUNTRIES } from './result.js';

/** A workspace's cleaning policy (workspaces.settings.cleaning). */
export interface WorkspaceCleaning {
  /** tried for national-format phones and addresses after the source's own; default CN, US */
  countries?: string[];
  /** apply suggested fixes for obvious email domain typos (`gmial.com` → `gmail.com`); default off: flagged only */
  fixEmailTypos?: boolean;
}

/** What one source's data looks like (sources.settings). */
export interface SourceCleaning {
  /** the countries this source's customers are in, tried first */
  countries?: string[];
  /** how this source writes `03/05/1990`: dmy (5 March) or mdy (3 May); unset: ambiguous dates are refused */
  dateOrder?: DateOrder;
}

/** Everything a standardizer needs to know about where a value came from. */
export interface CleanContext {
  countries: readonly string[];
  dateOrder: DateOrder | undefined;
  fixEmailTypos: boolean;
  now: Date;
}

/** The source's countries first, then the workspace's, each once. */
export function cleanContext(workspace: WorkspaceCleaning, source: SourceCleaning, now: Date): CleanContext {
  const countries = [...new Set([...(source.countries ?? []), ...(workspace.countries ?? DEFAULT_COUNTRIES)].map((c) => c.toUpperCase()))];
  return { countries, dateOrder: source.dateOrder, fixEmailTypos: workspace.fixEmailTypos === true, now };
}
