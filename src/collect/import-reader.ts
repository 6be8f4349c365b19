import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import streamArray from 'stream-json/streamers/stream-array.js';
import { decodeText, type TextEncoding } from './import-decode.js';

export type ImportFormat = 'csv' | 'tsv' | 'ndjson' | 'json' | 'xlsx';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['csv', 'tsv', 'ndjson', 'json', 'xlsx'];

/** What a reader yields: the header once (tabular files), then each row or the reason it could not be read. */
export type ReadItem =
  | { kind: 'header'; headers: string[] }
  | { kind: 'row'; line: number; values: Record<string, unknown> }
  | { kind: 'bad'; line: number; column: string; reason: string };

export function formatFromName(name: string): ImportFormat | null {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (ext === 'csv' || ext === 'txt') return 'csv';
  if (ext === 'tsv' || ext === 'tab') return 'tsv';
  if (ext === 'ndjson' || ext === 'jsonl') return 'ndjson';
  if (ext === 'json') return 'json';
  if (ext === 'xlsx') return 'xlsx';
  return null;
}

async function* delimited(text: AsyncIterable<string>, delimiter: ',' | '\t'): AsyncGenerator<ReadItem> {
  const skipped: ReadItem[] = [];
  const parser = parse({
    delimiter,
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      const lines = typeof error?.lines === 'number' ? error.lines : 0;
      skipped.push({ kind: 'bad', line: lines, column: '', reason: `unreadable CSV: ${error?.message ?? 'malformed row'}` });
      return undefined;
    },
  });
  const source = Readable.from(text);
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  let headers: string[] | null = null;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      while (skipped.length > 0) yield skipped.shift()!;
      if (headers === null) {
        headers = record.map((h) => h.trim());
        yield { kind: 'header', headers };
        continue;
      }
      if (record.length !== headers.length) {
        yield { kind: 'bad', line: info.lines, column: '', reason: `the row has ${record.length} columns; the header has ${headers.length}` };
        continue;
      }
      const values: Record<string, unknown> = {};
      headers.forEach((h, i) => {
        values[h] = record[i];
      });
      yield { kind: 'row', line: info.lines, values };
    }
  } catch (error) {
    // What cannot be skipped (a quote never closed) ends the file; the rows before it stand.
    const lines = (error as { lines?: unknown }).lines;
    yield { kind: 'bad', line: typeof lines === 'number' ? lines : 0, column: '', reason: `unreadable CSV, reading stopped here: ${(error as Error).message}` };
  }
  while (skipped.length > 0) yield skipped.shift()!;
}

async function* ndjson(text: AsyncIterable<string>): AsyncGenerator<ReadItem> {
  let pending = '';
  let line = 0;
  const parseLine = (raw: string): ReadItem | null => {
    line += 1;
    const trimmed = raw.trim();
    if (trimmed === '') return null;
    try {
      const value: unknown = JSON.parse(trimmed);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'bad', line, column: '', reason: 'the line is JSON but not an object' };
      return { kind: 'row', line, values: value as Record<string, unknown> };
    } catch (error) {
      return { kind: 'bad', line, column: '', reason: `the line is not JSON: ${(error as Error).message}` };
    }
  };
  for await (const chunk of text) {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const raw of lines) {
      const item = parseLine(raw);
      if (item) yield item;
    }
  }
  const last = parseLine(pending);
  if (last) yield last;
}

async function* jsonArray(text: AsyncIterable<string>): AsyncGenerator<ReadItem> {
  const pipeline = streamArray.withParserAsStream();
  const source = Readable.from(text);
  source.on('error', (error) => pipeline.destroy(error));
  source.pipe(pipeline);
  try {
    for await (const { key, value } of pipeline as AsyncIterable<{ key: number; value: unknown }>) {
      // A JSON array has no lines that mean anything to people: report the element's position, from 1.
      const position = key + 1;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) yield { kind: 'bad', line: position, column: '', reason: `element ${position} is not an object` };
      else yield { kind: 'row', line: position, values: value as Record<string, unknown> };
    }
  } catch (error) {
    yield { kind: 'bad', line: 0, column: '', reason: `the file is not a JSON array of objects: ${(error as Error).message}` };
  }
}

// Styles are read because only a cell's number format says it holds a date.
async function* xlsx(input: AsyncIterable<Buffer>): AsyncGenerator<ReadItem> {
  const { default: ExcelJS } = await import('exceljs');
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(input), { entries: 'emit', sharedStrings: 'cache', worksheets: 'emit', styles: 'cache', hyperlinks: 'ignore' });
  let headers: string[] | null = null;
  try {
    for await (const sheet of reader) {
      // The first worksheet holds the data; exports put notes on later sheets.
      for await (const row of sheet) {
        const cells = (row.values as unknown[]).slice(1).map((v) => cellValue(v));
        if (headers === null) {
          headers = cells.map((c) => (c === undefined ? '' : String(c).trim()));
          yield { kind: 'header', headers };
          continue;
        }
        if (cells.every((c) => c === undefined || c === '')) continue;
        const values: Record<string, unknown> = {};
        headers.forEach((h, i) => {
          if (cells[i] !== undefined) values[h] = cells[i];
        });
        yield { kind: 'row', line: row.number, values };
      }
      break;
    }
  } catch (error) {
    yield { kind: 'bad', line: 0, column: '', reason: `the file is not a readable XLSX workbook: ${(error as Error).message}` };
  }
}

/** Formulas give their result; rich text its plain text; dates stay dates. */
function cellValue(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || value instanceof Date) return value;
  const v = value as { result?: unknown; richText?: Array<{ text: string }>; text?: unknown; hyperlink?: unknown };
  if ('result' in v) return cellValue(v.result);
  if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
  if (typeof v.text === 'string') return v.text;
  return undefined;
}

/** Stream a file's rows, never holding it whole. */
export function readRows(input: AsyncIterable<Buffer>, format: ImportFormat, onEncoding: (encoding: TextEncoding | 'binary') => void): AsyncGenerator<ReadItem> {
  if (format === 'xlsx') {
    onEncoding('binary');
    return xlsx(input);
  }
  const text = decodeText(input, onEncoding);
  if (format === 'csv') return delimited(text, ',');
  if (format === 'tsv') return delimited(text, '\t');
  if (format === 'ndjson') return ndjson(text);
  return jsonArray(text);
}
