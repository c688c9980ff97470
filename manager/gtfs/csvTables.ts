/**
 * Reads one GTFS CSV file row by row. Header names are matched after trimming
 * (real feeds put spaces and a byte-order mark there); a missing required column
 * is an error, a missing optional column reads as empty. Rows are handed to the
 * visitor through one reused accessor, so a 300k-row file does not build 300k
 * objects.
 */
import { parse } from 'csv-parse/sync';
import { GtfsImportError, errorMessage } from './errors';

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

export function readCsv<R extends string, O extends string>(
  file: string,
  text: string,
  spec: CsvSpec<R, O>,
  visit: (row: CsvRow<R | O>) => void,
): void {
  let index: Map<string, number> | undefined;
  let values: string[] = [];
  const row: CsvRow<R | O> = {
    get: (column) => {
      const at = index?.get(column);
      return at === undefined ? '' : (values[at] ?? '');
    },
    line: 0,
  };
  try {
    parse(text, {
      bom: true,
      trim: true,
      // A stray quote inside an unquoted field is common; keep the field as written.
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (record: string[], context) => {
        if (index === undefined) {
          index = headerIndex(file, record, spec.required);
          return null;
        }
        values = record;
        row.line = context.lines;
        visit(row);
        return null;
      },
    });
  } catch (error) {
    if (error instanceof GtfsImportError) throw error;
    // Malformed quoting derails the parser for the rest of the file, so importing
    // what came before would silently drop rows: refuse the feed instead.
    throw new GtfsImportError(`${file}: malformed CSV: ${errorMessage(error)}`);
  }
  if (index === undefined) throw new GtfsImportError(`${file}: the file is empty (no header row)`);
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
