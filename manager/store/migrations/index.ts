/**
 * Every migration of the shared store, in order. Names sort in the order they
 * run; a new store appends one here and never edits an applied one.
 */
import type { Migration } from 'kysely';
import { columnTypes, type StoreEngine } from '../storeEngine';
import { signsAndAnnouncements } from './0001_signs_and_announcements';
import { feedVersions } from './0002_feed_versions';
import { accessControl } from './0003_access_control';
import { managerCluster } from './0005_manager_cluster';
import { panelProfilesAndSpeech } from './0006_panel_profiles_and_speech';
import { rollouts } from './0007_rollouts';
import { announcementTargets } from './0008_announcement_targets';

export function storeMigrations(engine: StoreEngine): Record<string, Migration> {
  const types = columnTypes(engine);
  return {
    '0001_signs_and_announcements': signsAndAnnouncements(types),
    '0002_feed_versions': feedVersions(engine, types),
    '0003_access_control': accessControl(engine, types),
    '0005_manager_cluster': managerCluster(types),
    '0006_panel_profiles_and_speech': panelProfilesAndSpeech(),
    // After the cluster and panel migrations, which databases may already have applied.
    '0007_rollouts': rollouts(types),
    '0008_announcement_targets': announcementTargets(engine, types),
  };
}
