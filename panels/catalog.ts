/**
 * Reads panel profiles from their directory of JSON files. Both programs use
 * it: the sign to pick its glass, the manager to know what each sign can draw.
 * A broken file is reported with every problem it has; a missing font names
 * the Debian package that ships it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  abbreviationTableSchema,
  parsePanelProfile,
  PanelProfileError,
  type PanelProfile,
} from '../shared/panelProfile';

export interface ReadOptions {
  /**
   * The sign needs its fonts; the manager may run where they are not installed
   * (its glyph check then trusts the profile).
   */
  requireFonts?: boolean;
}

/** Reads and checks one profile file; throws PanelProfileError listing every problem. */
export function readPanelProfile(file: string, options: ReadOptions = {}): PanelProfile {
  const source = path.basename(file);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PanelProfileError(source, [(err as Error).message]);
  }
  const profile = parsePanelProfile(json, source);
  const problems: string[] = [];
  if (`${profile.id}.json` !== source)
    problems.push(`id ${profile.id} does not match the file name`);
  for (const [size, set] of Object.entries(profile.fonts)) {
    for (const face of [set.latin, set.cjk]) {
      if (options.requireFonts !== false && !existsSync(face.file)) {
        problems.push(`fonts.${size}: ${face.file} missing: install ${face.package}`);
      }
    }
  }
  if (problems.length > 0) throw new PanelProfileError(source, problems);
  return profile;
}

/** The profile named `id` in `dir`. */
export function loadPanelProfile(id: string, dir: string): PanelProfile {
  const file = path.join(dir, `${id}.json`);
  if (!existsSync(file)) {
    const known = listProfileIds(dir);
    throw new PanelProfileError(`${id}.json`, [
      `no such profile in ${dir}; known: ${known.join(', ') || 'none'}`,
    ]);
  }
  return readPanelProfile(file);
}

export function listProfileIds(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

/** Every profile in `dir`; all broken files are reported in one error. */
export function loadAllPanelProfiles(
  dir: string,
  options: ReadOptions = {},
): Map<string, PanelProfile> {
  const profiles = new Map<string, PanelProfile>();
  const problems: string[] = [];
  for (const id of listProfileIds(dir)) {
    try {
      profiles.set(id, readPanelProfile(path.join(dir, `${id}.json`), options));
    } catch (err) {
      if (!(err instanceof PanelProfileError)) throw err;
      problems.push(...err.problems.map((p) => `${err.source}: ${p}`));
    }
  }
  if (problems.length > 0) throw new PanelProfileError(dir, problems);
  return profiles;
}

/** Every agency's abbreviation table in `dir`, by agency id; every broken file reported together. */
export function loadAbbreviationTables(dir: string): Map<string, [string, string][]> {
  const tables = new Map<string, [string, string][]>();
  const problems: string[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    if (!name.endsWith('.json')) continue;
    try {
      const parsed = abbreviationTableSchema.safeParse(
        JSON.parse(readFileSync(path.join(dir, name), 'utf8')),
      );
      if (!parsed.success) {
        problems.push(
          ...parsed.error.issues.map((i) => `${name}: ${i.path.join('.')}: ${i.message}`),
        );
      } else tables.set(parsed.data.agency, parsed.data.abbreviations);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new PanelProfileError(dir, problems);
  return tables;
}
