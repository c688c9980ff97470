/** Entry point of the fleet manager. */
import pino from 'pino';
import { ConfigError, loadManagerConfig } from './config';
import { Manager } from './manager';

const logger = pino({ name: 'manager' });

async function main(): Promise<void> {
  const config = loadManagerConfig(process.env);
  const manager = new Manager(config, logger);
  const { httpUrl, brokerUrl, caFingerprint, setupToken } = await manager.start();
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
