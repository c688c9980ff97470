/**
 * Feeds generated at test or bench time, written straight to disk: a city of
 * any number of stop_times, and zip bombs. Nothing large is ever stored.
 */
import zlib from 'node:zlib';
import { tinyGtfsFiles } from './gtfsFixture';
import { ZipFileWriter } from './zipWriter';

const STOPS_PER_TRIP = 40;
const ROUTES = 200;

export const SYNTHETIC_ZONE = 'America/Halifax';
/** Every trip of the synthetic city calls here: the busiest stop a query can meet. */
export const SYNTHETIC_HUB = 'HUB';

export interface SyntheticCity {
  stops: number;
  trips: number;
  stopTimes: number;
  bytes: number;
}

/**
 * A city of `stopTimes` rows (rounded to whole trips of 40 stops) on 200
 * routes, every day from 2024 to 2030. Each trip starts at the hub, so the
 * hub has one departure per trip.
 */
export function writeSyntheticCity(path: string, stopTimes: number): SyntheticCity {
  const trips = Math.max(1, Math.round(stopTimes / STOPS_PER_TRIP));
  const stops = Math.max(100, Math.min(20_000, Math.round(stopTimes / 1000)));
  const zip = new ZipFileWriter(path);
  zip.add(
    'agency.txt',
    `agency_id,agency_name,agency_url,agency_timezone\nSC,Synthetic City,https://sc.example,${SYNTHETIC_ZONE}\n`,
  );
  zip.addGenerated(
    'stops.txt',
    chunked(function* () {
      yield 'stop_id,stop_name,stop_lat,stop_lon\n';
      yield `${SYNTHETIC_HUB},Central Hub,44.6,-63.6\n`;
      for (let s = 1; s < stops; s++) yield `S${s},Street ${s} at Avenue ${s % 97},44.6,-63.6\n`;
    }),
  );
  zip.addGenerated(
    'routes.txt',
    chunked(function* () {
      yield 'route_id,agency_id,route_short_name,route_long_name,route_type\n';
      for (let r = 0; r < ROUTES; r++) yield `R${r},SC,${r + 1},Hub - Terminal ${r},3\n`;
    }),
  );
  zip.add(
    'calendar.txt',
    'service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n' +
      'ALL,1,1,1,1,1,1,1,20240101,20301231\n',
  );
  zip.addGenerated(
    'trips.txt',
    chunked(function* () {
      yield 'route_id,service_id,trip_id,trip_headsign\n';
      for (let t = 0; t < trips; t++) yield `R${t % ROUTES},ALL,T${t},Terminal ${t % ROUTES}\n`;
    }),
  );
  zip.addGenerated(
    'stop_times.txt',
    chunked(function* () {
      yield 'trip_id,arrival_time,departure_time,stop_id,stop_sequence\n';
      for (let t = 0; t < trips; t++) {
        const route = t % ROUTES;
        // Trips of a route spread from 05:00 over 20 hours.
        let time = 5 * 3600 + Math.floor((t / trips) * 20 * 3600) + route;
        for (let k = 0; k < STOPS_PER_TRIP; k++) {
          const stop = k === 0 ? SYNTHETIC_HUB : `S${1 + ((route * 37 + k * 13) % (stops - 1))}`;
          const clock = hms(time);
          yield `T${t},${clock},${clock},${stop},${k + 1}\n`;
          time += 60 + ((t + k) % 60);
        }
      }
    }),
  );
  const bytes = zip.close();
  return { stops, trips, stopTimes: trips * STOPS_PER_TRIP, bytes };
}

export interface Bomb {
  bytes: number;
  inflated: number;
}

/**
 * The tiny demo feed with a stop_times.txt that inflates to `inflatedBytes`
 * from a few megabytes: one row of one trip repeated. With `lie`, the headers claim
 * a small file, as a bomb made to pass a ratio check would.
 */
export function writeZipBomb(
  path: string,
  inflatedBytes: number,
  options: { lie?: boolean } = {},
): Bomb {
  const files = tinyGtfsFiles();
  const zip = new ZipFileWriter(path);
  for (const [name, text] of Object.entries(files)) {
    if (name !== 'stop_times.txt') zip.add(name, text);
  }
  const header = 'trip_id,arrival_time,departure_time,stop_id,stop_sequence\n';
  const row = 'R1-2355,06:00:00,06:00:00,CEN,1\n';
  const block = Buffer.from(row.repeat(Math.floor((1 << 20) / row.length)));
  const blocks = Math.floor((inflatedBytes - header.length) / block.length);
  // A full flush ends each block on a byte boundary with an empty dictionary, so
  // every block deflates to the same bytes: deflate one, write it `blocks` times.
  const full = zlib.constants.Z_FULL_FLUSH;
  const head = zlib.deflateRawSync(Buffer.from(header), { finishFlush: full });
  const body = zlib.deflateRawSync(block, { finishFlush: full, level: 9 });
  const end = zlib.deflateRawSync(Buffer.alloc(0));
  const parts = [head, ...Array.from({ length: blocks }, () => body), end];
  const inflated = header.length + blocks * block.length;
  let crc = zlib.crc32(header);
  for (let i = 0; i < blocks; i++) crc = zlib.crc32(block, crc);
  zip.addRaw('stop_times.txt', parts, { crc, inflated: options.lie ? 1024 * 1024 : inflated });
  return { bytes: zip.close(), inflated };
}

/** Groups small generated strings into chunks of about 1 MiB. */
function* chunked(lines: () => Iterable<string>): Iterable<string> {
  let chunk = '';
  for (const line of lines()) {
    chunk += line;
    if (chunk.length >= 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

function hms(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}
