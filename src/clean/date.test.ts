import { describe, expect, it } from 'vitest';
import { parseDate } from './date.js';

describe('parseDate', () => {
  it.each([
    ['2024-03-05', '2024-03-05T00:00:00.000Z'],
    ['2024/3/5', '2024-03-05T00:00:00.000Z'],
    ['2024.03.05 14:30', '2024-03-05T14:30:00.000Z'],
    ['2024-03-05 14:30:15', '2024-03-05T14:30:15.000Z'],
    ['2024年3月5日', '2024-03-05T00:00:00.000Z'],
    ['2024年03月05日 09:05', '2024-03-05T09:05:00.000Z'],
    ['２０２４－０３－０５', '2024-03-05T00:00:00.000Z'],
    ['20240305', '2024-03-05T00:00:00.000Z'],
    ['2024-03-05T14:30:00+08:00', '2024-03-05T06:30:00.000Z'],
    ['25/12/2023', '2023-12-25T00:00:00.000Z'],
    ['12/25/2023', '2023-12-25T00:00:00.000Z'],
    ['05/05/2023', '2023-05-05T00:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    const result = parseDate(text);
    expect(result.ok && result.value.toISOString()).toBe(iso);
  });

  it.each([
    ['', 'date.empty'],
    ['yesterday', 'date.unparseable'],
    ['03/05/2024', 'date.ambiguous'],
    ['2023-02-30', 'date.impossible'],
    ['2023-13-01', 'date.impossible'],
  ])('%j → %s', (text, issue) => {
    expect(parseDate(text)).toEqual({ ok: false, issue });
  });
});
