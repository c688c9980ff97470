/**
 * A whole sign but the glass: the real firmware's Sign (device/sign.ts) with
 * its SQLite cache, renderer and frame uploads, and a panel that accepts
 * every frame. Costly (a canvas per sign), so fleets use a few of these
 * beside thousands of SimulatedSigns, e.g. to count what frame uploads add to
 * a sign's mobile data.
 */
import fs from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { SignCache } from '../../device/cache/signCache';
import { loadDeviceConfig } from '../../device/config';
import { ManagerLink } from '../../device/link/managerLink';
import type { Panel, PanelStats } from '../../device/panel/panel';
import { frameToPng } from '../../device/render/png';
import { renderBoard } from '../../device/render/renderBoard';
import { Sign } from '../../device/sign';
import type { SignCredentials } from './credentials';

/** Shows whatever it is sent, at once, and never fails. */
class AcceptingPanel implements Panel {
  private framesSent = 0;
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async show(): Promise<void> {
    this.framesSent += 1;
  }
  async setBrightness(): Promise<void> {}
  stats(): PanelStats {
    return { ok: true, framesSent: this.framesSent, retries: 0, failures: 0 };
  }
}

export interface RenderingSignOptions {
  deviceId: string;
  brokerUrl: string;
  dataDir: string;
  statusIntervalSeconds: number;
  frameUploadIntervalSeconds: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logger: Logger;
  credentials?: SignCredentials | undefined;
  /** Epoch ms; the managers' replay clock when they run on one. */
  clock?: (() => number) | undefined;
}

export class RenderingSign {
  readonly sign: Sign;
  private client: MqttClient | undefined;

  constructor(readonly options: RenderingSignOptions) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    const config = loadDeviceConfig(
      {},
      {
        deviceId: options.deviceId,
        brokerUrl: options.brokerUrl,
        dataDir: options.dataDir,
        serialPath: path.join(options.dataDir, 'no-serial-line'),
        statusIntervalSeconds: options.statusIntervalSeconds,
        frameUploadIntervalSeconds: options.frameUploadIntervalSeconds,
        reconnectMinMs: options.reconnectMinMs,
        reconnectMaxMs: options.reconnectMaxMs,
        logLevel: 'silent',
      },
    );
    const credentials = options.credentials;
    const clock = options.clock ?? Date.now;
    this.sign = new Sign({
      config,
      clock,
      logger: options.logger,
      render: renderBoard,
      toPng: (frame) => frameToPng(frame),
      cache: new SignCache({ path: config.dbPath }),
      panel: new AcceptingPanel(),
      link: new ManagerLink({
        deviceId: config.deviceId,
        brokerUrl: config.brokerUrl,
        firmwareVersion: config.firmwareVersion,
        startedAt: Math.floor(clock() / 1000),
        reconnectMinMs: config.reconnectMinMs,
        reconnectMaxMs: config.reconnectMaxMs,
        logger: options.logger,
        connect: (url, connectOptions) => {
          const client = mqtt.connect(url, { ...connectOptions, ...credentials });
          this.client = client;
          return client;
        },
      }),
    });
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  start(): Promise<void> {
    return this.sign.start();
  }

  stop(): Promise<void> {
    return this.sign.stop();
  }

  /** Drops the TCP connection without a DISCONNECT. */
  cut(): boolean {
    const stream = this.client?.stream;
    if (!this.client?.connected || !stream) return false;
    stream.destroy();
    return true;
  }
}
