/**
 * Builds a sign from its real parts as its panel profile describes them: the
 * LED matrix on its serial line or the e-paper controller on SPI and GPIO, the
 * pole's GPIO lines and speaker, SQLite cache, MQTT link, renderer.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { loadAbbreviationTables } from '../panels/catalog';
import { SignCache } from './cache/signCache';
import type { DeviceConfig } from './config';
import { EinkPanel } from './eink/einkPanel';
import { isEinkProfile, realEinkController, simulatedEink } from './eink/einkFromProfile';
import { renderPaperPng } from './eink/paperPng';
import { OnoffGpio } from './gpio/onoffGpio';
import { PoleIo } from './gpio/poleIo';
import { ManagerLink } from './link/managerLink';
import { writeFileAtomic } from './panel/glassPng';
import { LedMatrixDriver } from './panel/ledMatrixDriver';
import type { Panel } from './panel/panel';
import { SerialPortLink } from './panel/serialLink';
import { frameToPng } from './render/png';
import { prepareProfile } from './render/profileRender';
import { renderBoard } from './render/renderBoard';
import { Sign } from './sign';
import { Speaker } from './speech/speaker';

function buildPanel(config: DeviceConfig, logger: Logger, clock: () => number): Panel {
  const { profile } = config;
  const log = logger.child({ part: 'panel' });
  if (!isEinkProfile(profile)) {
    const serial = new SerialPortLink({
      path: config.serialPath,
      baudRate: config.baudRate,
      logger,
    });
    return new LedMatrixDriver({
      link: serial,
      width: profile.width,
      height: profile.height,
      logger: log,
    });
  }
  let controller;
  if (config.einkSimulatorPng) {
    // Development: the controller is simulated in-process and its paper drawn to a PNG.
    const sim = simulatedEink(profile, clock);
    const pngPath = config.einkSimulatorPng;
    const palette = prepareProfile(profile).palette;
    sim.simulator.onRefresh(() => {
      void renderPaperPng(sim.simulator.paper, palette, profile.width < 400 ? 3 : 1)
        .then((png) => writeFileAtomic(pngPath, png))
        .catch((err: Error) => log.warn({ err: err.message }, 'could not write the paper PNG'));
    });
    controller = sim.controller;
  } else {
    controller = realEinkController(profile, new OnoffGpio());
  }
  return new EinkPanel({
    controller,
    policy: profile.refresh,
    width: profile.width,
    height: profile.height,
    clock,
    logger: log,
  });
}

export function assembleSign(
  config: DeviceConfig,
  logger: Logger,
  clock: () => number = Date.now,
): Sign {
  const { profile } = config;
  const wired = Object.keys(profile.gpio).some((name) => name !== 'debounceMs');
  // Without the kernel's GPIO interface (a laptop) the sign runs without pole lines.
  const gpioHere = wired && OnoffGpio.accessible();
  if (wired && !gpioHere) logger.info('no GPIO on this machine: pole lines not used');
  const palette = prepareProfile(profile).palette;
  return new Sign({
    config,
    clock,
    logger,
    render: (view) => renderBoard(view, profile),
    abbreviations: loadAbbreviationTables(
      path.join(config.panelProfilesDir, '..', 'abbreviations'),
    ),
    toPng: (frame) => frameToPng(frame, 1, palette.rgb),
    ...(gpioHere
      ? {
          poleIo: new PoleIo({ gpio: new OnoffGpio(), wiring: profile.gpio }),
          ...(profile.gpio.button === undefined
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
    cache: new SignCache({ path: config.dbPath }),
    panel: buildPanel(config, logger, clock),
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
