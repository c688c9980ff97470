/**
 * Each sign's panel profile (signs from before profiles were the 192x64 LED),
 * and an announcement's own text for signs that speak.
 */
import type { Kysely, Migration } from 'kysely';
import { DEFAULT_PANEL_PROFILE } from '../../../shared/panelProfile';

export function panelProfilesAndSpeech(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('signs')
        .addColumn('panel_profile', 'text', (c) => c.notNull().defaultTo(DEFAULT_PANEL_PROFILE))
        .execute();
      await db.schema.alterTable('announcements').addColumn('tts', 'text').execute();
    },
  };
}
