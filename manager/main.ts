/** Entry point of the fleet manager. */
import pino from 'pino';
import { heldReplayClock } from '../shared';
import { ConfigError, loadManagerConfig } from './config';
import { Manager } from './manager';

const logger = pino({ name: 'manager' });

async function main(): Promise<void> {
  const config = loadManagerConfig(process.env);
  // A replay clock reads the configured instant until the manager is up, then runs at normal speed.
  const replay = config.clockStart === undefined ? undefined : heldReplayClock(config.clockStart);
  if (config.clockStart !== undefined) {
    logger.info(
      { clockStart: new Date(config.clockStart).toISOString() },
      'running on a replay clock',
    );
  }
  const manager = new Manager(config, logger, replay?.now ?? Date.now);
  const { httpUrl, brokerUrl, caFingerprint, setupToken } = await manager.start();
  replay?.run();
  console.log(`stopsign manager: console and API at ${httpUrl}, MQTT at ${brokerUrl}`);
  console.log(`certificate authority SHA-256 ${caFingerprint}`);
  if (setupToken !== undefined) {
    // Printed once, to whoever started the manager; it works until the first admin exists.
    console.log(
      `no operator exists yet: open ${httpUrl}/ and create the first admin with setup token ${setupToken}` +
        ` (or run: npm run operator -- create --role admin --username <name>)`,
    );
  }
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    manager.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else logger.fatal({ err }, 'manager failed to start');
  process.exit(1);
});
