/**
 * Why an import was refused. The message names the file and the problem so an
 * operator can fix the feed without reading code; the previous schedule stays.
 */
export class GtfsImportError extends Error {
  override name = 'GtfsImportError';
}

/** The message of anything thrown, for wrapping into a GtfsImportError. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
