/**
 * Sign firmware entry point: read the configuration, build the real parts,
 * run until told to stop.
 */
import pino from 'pino';
import { SignCache } from './cache/signCache';
import { DeviceConfigError, loadDeviceConfig, type DeviceConfig } from './config';
import { ManagerLink } from './link/managerLink';
import { LedMatrixDriver } from './panel/ledMatrixDriver';
import { SerialPortLink } from './panel/serialLink';
import { frameToPng } from './render/png';
import { renderBoard } from './render/renderBoard';
import { Sign } from './sign';

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

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel, base: { deviceId: config.deviceId } });
  const clock = (): number => Date.now();
  const serial = new SerialPortLink({ path: config.serialPath, baudRate: config.baudRate, logger });
  const sign = new Sign({
    config,
    clock,
    logger,
    render: renderBoard,
    toPng: (frame) => frameToPng(frame),
    cache: new SignCache({ path: config.dbPath }),
    panel: new LedMatrixDriver({
      link: serial,
      width: config.panelWidth,
      height: config.panelHeight,
      logger: logger.child({ part: 'panel' }),
    }),
    link: new ManagerLink({
      deviceId: config.deviceId,
      brokerUrl: config.brokerUrl,
      firmwareVersion: config.firmwareVersion,
      startedAt: Math.floor(clock() / 1000),
      reconnectMinMs: config.reconnectMinMs,
      reconnectMaxMs: config.reconnectMaxMs,
      logger: logger.child({ part: 'link' }),
    }),
  });

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
