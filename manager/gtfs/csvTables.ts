/**
 * Reads one GTFS CSV file row by row as it streams out of the zip. Header
 * names are matched after trimming (real feeds put spaces and a byte-order
 * mark there); a missing required column is an error, a missing optional
 * column reads as empty. Rows are handed to the visitor through one reused
 * accessor, so a file of millions of rows builds no object per row.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { GtfsImportError, errorMessage } from './errors';
import { ImportLimitError } from './importLimits';

export interface CsvRow<C extends string> {
  /** The trimmed field, '' when the column or the field is absent. */
  get(column: C): string;
  /** 1-based line in the file where the row ends, for warnings. */
  line: number;
}

export interface CsvSpec<R extends string, O extends string> {
  required: readonly R[];
  optional: readonly O[];
}

export interface CsvOptions {
  /** Rows past this refuse the feed. */
  maxRows: number;
  /** An empty file (no header) is allowed and reported instead of refused. */
  allowEmpty?: boolean;
}

/** Resolves true once every row was visited; false for an empty file when allowEmpty. */
export async function readCsv<R extends string, O extends string>(
  file: string,
  source: Readable,
  spec: CsvSpec<R, O>,
  visit: (row: CsvRow<R | O>) => void,
  options: CsvOptions,
): Promise<boolean> {
  let index: Map<string, number> | undefined;
  let values: string[] = [];
  let rows = 0;
  const row: CsvRow<R | O> = {
    get: (column) => {
      const at = index?.get(column);
      return at === undefined ? '' : (values[at] ?? '');
    },
    line: 0,
  };
  const parser = parse({
    bom: true,
    trim: true,
    // A stray quote inside an unquoted field is common; keep the field as written.
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    // A field is at most a line of text; an unclosed quote must not swallow the file.
    max_record_size: 64 * 1024,
    on_record: (record: string[], context) => {
      if (index === undefined) {
        // A file of blank lines is as empty as one without any.
        if (record.length === 1 && record[0] === '') return null;
        index = headerIndex(file, record, spec.required);
        return null;
      }
      if (++rows > options.maxRows) {
        throw new ImportLimitError(`${file} has more than ${options.maxRows} rows`);
      }
      values = record;
      row.line = context.lines;
      visit(row);
      return null;
    },
  });
  // Every row is handled in on_record; nothing is pushed, so nothing piles up downstream.
  parser.resume();
  try {
    await pipeline(source, parser);
  } catch (error) {
    // Only the parser's own complaints are about the CSV; anything else goes up as it is.
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('CSV_')) throw error;
    // Malformed quoting derails the parser for the rest of the file, so importing
    // what came before would silently drop rows: refuse the feed instead.
    throw new GtfsImportError(`${file}: malformed CSV: ${errorMessage(error)}`);
  }
  if (index === undefined) {
    if (options.allowEmpty) return false;
    throw new GtfsImportError(`${file}: the file is empty (no header row)`);
  }
  return true;
}

function headerIndex(
  file: string,
  header: string[],
  required: readonly string[],
): Map<string, number> {
  const index = new Map<string, number>();
  header.forEach((name, at) => {
    const clean = name
      .replace(/^\uFEFF/, '')
      .trim()
      .toLowerCase();
    if (!index.has(clean)) index.set(clean, at);
  });
  for (const column of required) {
    if (!index.has(column)) throw new GtfsImportError(`${file}: required column ${column} missing`);
  }
  return index;
}

/** The feed's files as the readers see them: by name, streamed, within the row limits. */
export interface FeedTables {
  has(file: string): boolean;
  read<R extends string, O extends string>(
    file: string,
    spec: CsvSpec<R, O>,
    visit: (row: CsvRow<R | O>) => void,
    options?: { allowEmpty?: boolean },
  ): Promise<boolean>;
}
