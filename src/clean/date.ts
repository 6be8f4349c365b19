/**
 * Dates as people and old systems write them → a Date (UTC). Zone-less
 * date-times are taken as UTC. Day/month order is guessed only when one part
 * is above 12; otherwise the value is ambiguous and refused rather than guessed.
 */
export type DateIssue = 'date.empty' | 'date.unparseable' | 'date.ambiguous' | 'date.impossible';

export type DateResult = { ok: true; value: Date } | { ok: false; issue: DateIssue };

function build(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): DateResult {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return { ok: false, issue: 'date.impossible' };
  const value = new Date(Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)));
  // 2023-02-30 rolls over in Date.UTC: refuse it instead.
  if (value.getUTCMonth() !== month - 1 || value.getUTCDate() !== day) return { ok: false, issue: 'date.impossible' };
  return { ok: true, value };
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const YMD = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT]+(\d{1,2})[:时點点](\d{2})(?:[:分](\d{2}))?(?:\.\d+)?\s*秒?)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const DMY_OR_MDY = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

export function parseDate(input: string | Date): DateResult {
  if (input instanceof Date) return Number.isNaN(input.getTime()) ? { ok: false, issue: 'date.unparseable' } : { ok: true, value: input };
  const text = input.normalize('NFKC').trim();
  if (text === '') return { ok: false, issue: 'date.empty' };
  if (ISO_WITH_ZONE.test(text)) {
    const value = new Date(text);
    return Number.isNaN(value.getTime()) ? { ok: false, issue: 'date.impossible' } : { ok: true, value };
  }
  let m = YMD.exec(text);
  if (m) return build(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  m = COMPACT.exec(text);
  if (m) return build(Number(m[1]), Number(m[2]), Number(m[3]));
  m = DMY_OR_MDY.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a <= 12 && b <= 12 && a !== b) return { ok: false, issue: 'date.ambiguous' };
    const [day, month] = a > 12 ? [a, b] : [b, a];
    return build(Number(m[3]), month, day, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  }
  return { ok: false, issue: 'date.unparseable' };
}
