import fs from 'node:fs';
import path from 'node:path';
import { securedManagerEnv, type FleetTls } from '../../scripts/fleet/fleetSecurity';
import { tinyGtfsZip } from './gtfsFixture';

/**
 * The environment of a manager process on loopback as configuration alone
 * makes it: TLS from the fleet's CA, ports the system picks, its data and the
 * tiny feed (written here) in `dir`, the embedded broker unless more is added.
 */
export function loopbackManagerEnv(dir: string, tls: FleetTls): Record<string, string> {
  const gtfsPath = path.join(dir, 'tiny.zip');
  fs.writeFileSync(gtfsPath, tinyGtfsZip());
  return {
    ...securedManagerEnv(tls),
    STOPSIGN_HTTP_PORT: '0',
    STOPSIGN_BROKER_PORT: '0',
    STOPSIGN_MANAGER_DATA_DIR: path.join(dir, 'manager'),
    STOPSIGN_GTFS_PATH: gtfsPath,
    STOPSIGN_PUBLISH_INTERVAL_SECONDS: '2',
  };
}
