/**
 * Update agent entry point.
 *   update-agent.mjs                    run the agent
 *   update-agent.mjs provision <bundle> install a bundle as the factory slot
 */
import { exec } from 'node:child_process';
import fs from 'node:fs';
import pino from 'pino';
import { loadUpdateConfig, UpdateConfigError, type UpdateConfig } from './config';
import { provisionSlot } from './provision';
import { Slots } from './slots';
import { TrustStore } from './trustStore';
import { UpdateAgent } from './updateAgent';
import { MqttUpdateLink } from './updateLink';
import { UpdateStateStore } from './updateState';

function readConfig(): UpdateConfig {
  try {
    return loadUpdateConfig(process.env);
  } catch (err) {
    if (err instanceof UpdateConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

function runCommand(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    exec(command, { timeout: 60_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${command} failed: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({
    level: config.logLevel,
    base: { deviceId: config.deviceId, part: 'update' },
  });
  const slots = new Slots(config.root);
  fs.mkdirSync(config.stateDir, { recursive: true });
  const trust = new TrustStore(config.stateDir, config.trustedKeysFile);

  if (process.argv[2] === 'provision') {
    const bundle = process.argv[3];
    if (!bundle) throw new Error('usage: update-agent provision <bundle>');
    const version = await provisionSlot({
      bundle,
      slots,
      trust,
      hardware: config.hardware,
      nowMs: Date.now(),
    });
    logger.info({ version }, 'provisioned slot a');
    return;
  }

  let stopping = false;
  const agent = new UpdateAgent({
    config,
    slots,
    store: new UpdateStateStore(config.stateDir),
    trust,
    channel: new MqttUpdateLink({
      deviceId: config.deviceId,
      brokerUrl: config.brokerUrl,
      credentials: config.broker,
      logger,
    }),
    restartSign: () => runCommand(config.restartCommand),
    freeBytes: (dir) => {
      const stats = fs.statfsSync(dir);
      return stats.bavail * stats.bsize;
    },
    clock: Date.now,
    logger,
    // The committed slot now holds a newer agent: exit and let the service manager start it.
    onCommitted: () => shutdown('committed'),
  });

  const shutdown = (why: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'update agent stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    agent.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await agent.start();
}

main().catch((err: Error) => {
  console.error(`update agent failed: ${err.message}`);
  process.exit(1);
});
