/** Builds a sign from its real parts: serial panel driver, SQLite cache, MQTT link, renderer. */
import type { Logger } from 'pino';
import { SignCache } from './cache/signCache';
import type { DeviceConfig } from './config';
import { ManagerLink } from './link/managerLink';
import { LedMatrixDriver } from './panel/ledMatrixDriver';
import { SerialPortLink } from './panel/serialLink';
import { frameToPng } from './render/png';
import { renderBoard } from './render/renderBoard';
import { Sign } from './sign';

export function assembleSign(
  config: DeviceConfig,
  logger: Logger,
  clock: () => number = Date.now,
): Sign {
  const serial = new SerialPortLink({ path: config.serialPath, baudRate: config.baudRate, logger });
  return new Sign({
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
      maxPacketBytes: config.mqttMaxPacketBytes,
      clock,
      username: config.mqttUsername,
      password: config.mqttPassword,
      caPem: config.brokerCaPem,
      logger: logger.child({ part: 'link' }),
    }),
  });
}
