/**
 * Runs the simulated LED matrix controller on a serial device or pty, so a
 * sign can be driven without hardware:
 *   tsx scripts/panel-sim.ts --port <path> [--width 192 --height 64 --png var/panel.png --true-png var/panel-true.png --scale 4]
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { PanelSimulator } from '../device/panel/panelSimulator';
import { SerialPortLink } from '../device/panel/serialLink';

const usage =
  'usage: tsx scripts/panel-sim.ts --port <path> [--baud 921600] [--width 192] [--height 64] [--png var/panel.png] [--true-png var/panel-true.png] [--scale 4]';

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} must be a positive whole number, got "${text}"\n${usage}`);
    process.exit(2);
  }
  return value;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    baud: { type: 'string', default: '921600' },
    width: { type: 'string', default: '192' },
    height: { type: 'string', default: '64' },
    png: { type: 'string' },
    'true-png': { type: 'string' },
    scale: { type: 'string', default: '4' },
    verbose: { type: 'boolean', default: false },
  },
  strict: true,
});

if (!values.port) {
  console.error(usage);
  process.exit(2);
}

const logger = pino({ level: values.verbose ? 'debug' : 'info' });
const link = new SerialPortLink({
  path: values.port,
  baudRate: positiveInt('baud', values.baud),
  logger,
});
const simulator = new PanelSimulator({
  link,
  width: positiveInt('width', values.width),
  height: positiveInt('height', values.height),
  scale: positiveInt('scale', values.scale),
  logger,
  ...(values.png ? { pngPath: values.png } : {}),
  ...(values.png && values['true-png'] ? { truePngPath: values['true-png'] } : {}),
});

simulator.on('update', (update) => logger.info(update, 'panel update applied'));
try {
  await simulator.start();
} catch (err) {
  logger.error(
    { err: err instanceof Error ? err.message : String(err) },
    'cannot start simulated panel',
  );
  process.exit(1);
}
logger.info(
  {
    port: values.port,
    ...simulator.info(),
    png: values.png ?? null,
    truePng: values['true-png'] ?? null,
  },
  'simulated LED panel listening',
);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await simulator.stop();
  const { accepted, rejected, skippedBytes, bytesReceived } = simulator.stats();
  logger.info({ accepted, rejected, skippedBytes, bytesReceived }, 'simulated LED panel stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
