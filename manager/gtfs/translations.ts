/**
 * Chinese text from translations.txt. Both the current GTFS layout
 * (table_name, field_name, language, translation, record_id | field_value) and
 * the older Google one (trans_id, lang, translation, keyed by the English text)
 * are read. The first Chinese variant given for a text wins (zh, zh-CN, zh-HK …).
 */
import type { FeedTables } from './csvTables';
import { GtfsImportError, errorMessage } from './errors';
import { ImportLimitError } from './importLimits';
import type { ImportWarnings } from './importWarnings';
import { signText } from './signText';

const CHINESE = /^zh([-_]|$)/i;

/** Which English texts the sign shows and therefore needs in Chinese. */
export type TranslatedField =
  'stops.stop_name' | 'routes.route_long_name' | 'trips.trip_headsign' | 'stop_times.stop_headsign';

export interface ChineseLookup {
  /** recordId is the row's id (for stop_times: trip_id and stop_sequence joined by '/'). */
  find(field: TranslatedField, recordId: string, english: string): string | undefined;
}

const NONE: ChineseLookup = { find: () => undefined };

export async function readChineseTranslations(
  tables: FeedTables,
  warnings: ImportWarnings,
): Promise<ChineseLookup> {
  if (!tables.has('translations.txt')) return NONE;
  const byRecord = new Map<string, string>();
  const byValue = new Map<string, string>();
  const byEnglish = new Map<string, string>();
  const keep = (map: Map<string, string>, key: string, zh: string) => {
    if (!map.has(key)) map.set(key, zh);
  };
  try {
    await tables.read(
      'translations.txt',
      {
        required: ['translation'],
        optional: [
          'table_name',
          'field_name',
          'language',
          'record_id',
          'record_sub_id',
          'field_value',
          'trans_id',
          'lang',
        ],
      },
      (row) => {
        const zh = signText(row.get('translation'), `translations.txt line ${row.line}`, warnings);
        const language = row.get('language') || row.get('lang');
        if (zh === '' || !CHINESE.test(language)) return;
        const transId = row.get('trans_id');
        if (transId !== '') return keep(byEnglish, transId, zh);
        const field = `${row.get('table_name')}.${row.get('field_name')}`;
        const recordId = row.get('record_id');
        const subId = row.get('record_sub_id');
        if (recordId !== '') {
          keep(byRecord, key(field, subId === '' ? recordId : `${recordId}/${subId}`), zh);
        } else if (row.get('field_value') !== '') {
          keep(byValue, key(field, row.get('field_value')), zh);
        }
      },
      { allowEmpty: true },
    );
  } catch (error) {
    // A limit or a broken zip is the feed's problem, not just the translations'.
    if (error instanceof ImportLimitError || !(error instanceof GtfsImportError)) throw error;
    // Translations are a nicety: a broken file costs the Chinese text, not the schedule.
    warnings.add(`translations.txt ignored: ${errorMessage(error)}`);
    return NONE;
  }
  if (byRecord.size + byValue.size + byEnglish.size === 0) return NONE;
  return {
    find: (field, recordId, english) =>
      byRecord.get(key(field, recordId)) ??
      (english === '' ? undefined : (byValue.get(key(field, english)) ?? byEnglish.get(english))),
  };
}

function key(field: string, id: string): string {
  return `${field}\u0000${id}`;
}
