import { readFileSync } from 'node:fs';
import type { Design } from '../../src/analytics/metrics.js';

/**
 * The IBM Telco churn file as SOURCES.md prescribes for its reference
 * figures: customerID dropped, every categorical one-hot (all levels, in
 * sorted order), blank TotalCharges as 0, Churn Yes as 1. The file has no
 * quoted fields, so splitting on commas is exact.
 */
export function readTelco(path: string): { x: Design; y: Uint8Array } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0]!.split(',');
  const records = lines.slice(1).map((l) => l.split(',').map((v) => v.trim()));
  const numeric = new Set(['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges']);
  const columns: Array<{ name: string; values: Float64Array }> = [];
  header.forEach((name, j) => {
    if (name === 'customerID' || name === 'Churn') return;
    if (numeric.has(name)) {
      columns.push({ name, values: Float64Array.from(records, (r) => (r[j] === '' ? 0 : Number(r[j]))) });
      return;
    }
    for (const level of [...new Set(records.map((r) => r[j]!))].sort()) {
      columns.push({ name: `${name}_${level}`, values: Float64Array.from(records, (r) => (r[j] === level ? 1 : 0)) });
    }
  });
  const rows = records.length;
  const cols = columns.length;
  const data = new Float64Array(rows * cols);
  columns.forEach((c, j) => {
    for (let i = 0; i < rows; i++) data[i * cols + j] = c.values[i]!;
  });
  const churn = header.indexOf('Churn');
  return { x: { rows, cols, data, names: columns.map((c) => c.name) }, y: Uint8Array.from(records, (r) => (r[churn] === 'Yes' ? 1 : 0)) };
}
