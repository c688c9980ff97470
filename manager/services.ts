import type { FeedImports } from './gtfs/feedImports';
import type { ScheduleSource } from './gtfs/types';
import type { FleetLink } from './link/fleetLink';
import type { StopPublisher } from './publish/stopPublisher';
import type { AnnouncementStore } from './store/announcementStore';
import type { SignRegistry } from './store/signRegistry';

/** The parts HTTP handlers may use; built once by the Manager. */
export interface ManagerServices {
  /** Epoch milliseconds. */
  clock: () => number;
  link: FleetLink;
  schedule: ScheduleSource;
  /** Replaces the timetable in a child process, one import at a time; a refused feed keeps the old one. */
  imports: FeedImports;
  signs: SignRegistry;
  announcements: AnnouncementStore;
  publisher: StopPublisher;
  offlineAfterSeconds: number;
}
