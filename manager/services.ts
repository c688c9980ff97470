import type { ImportSummary, ScheduleSource } from './gtfs/types';
import type { FleetLink } from './link/fleetLink';
import type { StopPublisher } from './publish/stopPublisher';
import type { AnnouncementStore } from './store/announcementStore';
import type { SignRegistry } from './store/signRegistry';

export interface ScheduleStore extends ScheduleSource {
  importZip(bytes: Uint8Array, source: string): ImportSummary;
}

/** The parts HTTP handlers may use; built once by the Manager. */
export interface ManagerServices {
  /** Epoch milliseconds. */
  clock: () => number;
  link: FleetLink;
  schedule: ScheduleStore;
  signs: SignRegistry;
  announcements: AnnouncementStore;
  publisher: StopPublisher;
  offlineAfterSeconds: number;
}
