/** What the manager and its departures query thread say to each other. */
import type { DepartureColumns } from './departureColumns';

export interface DepartureThreadData {
  /** The timetable file; the thread opens it read-only. */
  dbPath: string;
}

export interface DepartureRequest {
  id: number;
  /** Bumped when a new feed is committed: the thread then reads the import's metadata again. */
  generation: number;
  stopId: string;
  fromEpoch: number;
  untilEpoch: number;
  limit: number;
}

export type DepartureThreadMessage =
  | { kind: 'ready' }
  | { kind: 'answer'; id: number; departures: DepartureColumns }
  | { kind: 'failed'; id: number; message: string };
