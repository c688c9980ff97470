/** Builds a sign from its real parts: serial panel driver, SQLite cache, MQTT link, renderer. */
import type { Logger } from 'pino';
import { SignCache } from './cache/signCache';
import type { DeviceConfig } from './config';
import { OnoffGpio } from './gpio/onoffGpio';
import { PoleIo } from './gpio/poleIo';
import { ManagerLink } from './link/managerLink';
import { Speaker } from './speech/speaker';
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
  const wired = Object.keys(config.profile.gpio).some((name) => name !== 'debounceMs');
  // Without the kernel's GPIO interface (a laptop) the sign runs without pole lines.
  const gpioHere = wired && OnoffGpio.accessible();
  if (wired && !gpioHere) logger.info('no GPIO on this machine: pole lines not used');
  const serial = new SerialPortLink({ path: config.serialPath, baudRate: config.baudRate, logger });
  return new Sign({
    config,
    clock,
    logger,
    render: renderBoard,
    ...(gpioHere
      ? {
          poleIo: new PoleIo({ gpio: new OnoffGpio(), wiring: config.profile.gpio }),
          ...(config.profile.gpio.button === undefined
            ? {}
            : {
                speaker: new Speaker({
                  ttsCommand: config.ttsCommand,
                  audioCommand: config.audioCommand,
                  logger: logger.child({ part: 'speech' }),
                }),
              }),
        }
      : {}),
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
}
