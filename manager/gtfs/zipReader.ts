/**
 * Opens a GTFS zip and returns the text of the files the importer reads. Feeds
 * are often zipped with their enclosing folder, so files are matched by base
 * name at the shallowest depth; everything else (shapes.txt is the bulk of
 * most feeds) is never inflated.
 */
import { unzipSync } from 'fflate';
import { GtfsImportError, errorMessage } from './errors';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).toLowerCase();
}

function depth(path: string): number {
  return path.split('/').length - 1;
}

/** Resource-fork and hidden entries that macOS and others add beside the real files. */
function isJunk(path: string): boolean {
  return path.startsWith('__MACOSX/') || baseName(path).startsWith('.');
}

/** Text of each wanted file present in the archive, keyed by its lower-case base name. */
export function readZipTextFiles(
  bytes: Uint8Array,
  wanted: readonly string[],
): Map<string, string> {
  const wantedSet = new Set(wanted);
  const chosen = new Map<string, string>();
  let entries;
  try {
    entries = unzipSync(bytes, {
      filter: (file) => {
        if (isJunk(file.name)) return false;
        const name = baseName(file.name);
        if (!wantedSet.has(name)) return false;
        const previous = chosen.get(name);
        if (previous !== undefined && depth(previous) <= depth(file.name)) return false;
        chosen.set(name, file.name);
        return true;
      },
    });
  } catch (error) {
    throw new GtfsImportError(`not a zip archive: ${errorMessage(error)}`);
  }
  const decoder = new TextDecoder('utf-8');
  const texts = new Map<string, string>();
  for (const [name, path] of chosen) {
    const data = entries[path];
    if (data === undefined) throw new GtfsImportError(`${name} could not be read from the zip`);
    texts.set(name, decoder.decode(data));
  }
  return texts;
}
