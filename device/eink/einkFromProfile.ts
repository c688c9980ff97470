/**
 * Builds an e-paper controller driver as a panel profile describes it, on
 * real SPI and GPIO or on a simulated controller that checks every rule.
 */
import type { PanelProfile } from '../../shared';
import type { Gpio } from '../gpio/gpio';
import { GpioSimulator } from '../gpio/gpioSimulator';
import type { EinkController } from './einkController';
import type { EinkRefreshPolicy } from './einkRules';
import { It8951 } from './it8951';
import { It8951Simulator } from './it8951Simulator';
import { SpiDeviceBus, type SpiBus } from './spiBus';
import { Uc8179 } from './uc8179';
import { Uc8179Simulator } from './uc8179Simulator';

export type EinkProfile = PanelProfile & { refresh: EinkRefreshPolicy };

export function isEinkProfile(profile: PanelProfile): profile is EinkProfile {
  return profile.refresh.kind === 'eink';
}

export function einkController(profile: EinkProfile, spi: SpiBus, gpio: Gpio): EinkController {
  const { driver, width, height } = profile;
  switch (driver.type) {
    case 'uc8179':
      return new Uc8179({
        spi,
        gpio,
        wiring: driver.gpio,
        width,
        height,
        red: profile.colour.model === 'bwr-eink',
      });
    case 'it8951':
      return new It8951({ spi, gpio, wiring: driver.gpio, width, height, vcomMv: driver.vcomMv });
    default:
      throw new Error(`${driver.type} does not drive e-paper`);
  }
}

/** The driver on the profile's real SPI device and GPIO lines. */
export function realEinkController(profile: EinkProfile, gpio: Gpio): EinkController {
  const { driver } = profile;
  if (driver.type === 'led-serial') throw new Error('an LED profile has no SPI controller');
  return einkController(profile, new SpiDeviceBus(driver.spi), gpio);
}

export interface SimulatedEink {
  controller: EinkController;
  simulator: Uc8179Simulator | It8951Simulator;
  gpio: GpioSimulator;
}

/** The driver against a simulated controller; the simulator's rules use `clock`. */
export function simulatedEink(
  profile: EinkProfile,
  clock: () => number,
  temperatureC = 20,
): SimulatedEink {
  const gpio = new GpioSimulator();
  const { driver, width, height, refresh: policy } = profile;
  let simulator: Uc8179Simulator | It8951Simulator;
  if (driver.type === 'uc8179') {
    simulator = new Uc8179Simulator({
      gpio,
      wiring: driver.gpio,
      width,
      height,
      red: profile.colour.model === 'bwr-eink',
      policy,
      clock,
      temperatureC,
    });
  } else if (driver.type === 'it8951') {
    simulator = new It8951Simulator({
      gpio,
      wiring: driver.gpio,
      width,
      height,
      policy,
      clock,
      temperatureC,
    });
  } else {
    throw new Error(`${driver.type} does not drive e-paper`);
  }
  return { controller: einkController(profile, simulator, gpio), simulator, gpio };
}
