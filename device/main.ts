/**
 * Sign firmware entry point: read the configuration, build the real parts,
 * run until told to stop.
 */
import pino from 'pino';
import { replayClock } from '../shared';
import { assembleSign } from './assembleSign';
import {
  DeviceConfigError,
  loadDeviceConfig,
  loadProvisioningConfig,
  type DeviceConfig,
} from './config';
import { ensureProvisioned } from './provision/provisionSign';

function readConfig(): DeviceConfig {
  try {
    return loadDeviceConfig(process.env);
  } catch (err) {
    if (err instanceof DeviceConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** A factory-fresh sign claims its credentials before anything else; a provisioned one reads them. */
async function provision(): Promise<void> {
  const { dataDir, claim } = loadProvisioningConfig(process.env);
  // Without a claim the sign runs on the credentials it has (or, unprovisioned, on its settings alone).
  if (claim === undefined) return;
  const logger = pino({ base: { part: 'provision' } });
  try {
    await ensureProvisioned({ dataDir, claim, logger });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'cannot provision this sign');
    process.exit(2);
  }
}

async function main(): Promise<void> {
  await provision();
  const config = readConfig();
  const logger = pino({ level: config.logLevel, base: { deviceId: config.deviceId } });
  // A replay clock starts at the configured instant and runs at normal speed from there.
  const clock = config.clockStart === undefined ? Date.now : replayClock(config.clockStart);
  const sign = assembleSign(config, logger, clock);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // A hung shutdown must not keep a sign from being restarted by its supervisor.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    sign.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    await sign.start();
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'sign failed to start');
    process.exit(1);
  }
}

void main();
