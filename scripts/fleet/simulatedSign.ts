/**
 * A sign without a panel, for fleets of thousands in one process. It speaks
 * through the real sign's MQTT link (device/link/managerLink.ts), so what goes
 * on the wire is the device protocol exactly: persistent session under its own
 * client id, last will, retained status, QoS 1 acknowledgements, every inbound
 * message checked, reconnects with jittered back-off, its stop's topics
 * followed once the config names it. It keeps only a few facts of what it
 * received and renders nothing.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { AnnouncementData, ArrivalsData, ScheduleData } from '../../shared';
import { ManagerLink, type ConnectionEvent } from '../../device/link/managerLink';
import type { AnnouncementSource } from '../../device/cache/signCache';
import type { SignCredentials } from './credentials';

export type ReceivedKind =
  | 'config'
  | 'arrivals'
  | 'schedule'
  | 'announcement'
  | 'announcementCleared'
  | 'managerStatus'
  | 'heartbeat'
  | 'alerts';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface SignObserver {
  connection?(sign: SimulatedSign, connected: boolean, at: number): void;
  received?(sign: SimulatedSign, kind: ReceivedKind, at: number): void;
}

export interface SimulatedSignOptions {
  deviceId: string;
  brokerUrl: string;
  firmware: string;
  statusIntervalMs: number;
  staleAfterSeconds: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  logger: Logger;
  credentials?: SignCredentials | undefined;
  observer?: SignObserver | undefined;
  /** Epoch ms; a replay clock when the manager runs on one, so message times agree. */
  clock?: (() => number) | undefined;
}

export class SimulatedSign {
  /** The stop the manager's config put it at. */
  stopId: string | null = null;
  connected = false;
  managerOnline = false;
  arrivals: Pick<ArrivalsData, 'generatedAt'> | null = null;
  scheduleValidUntil: number | null = null;
  /** The manager's last heartbeat (epoch seconds it checked its feeds), which keeps unchanged boards fresh. */
  heartbeatCheckedAt: number | null = null;
  readonly announcements = new Map<AnnouncementSource, string>();
  mode: 'live' | 'scheduled' | 'none' = 'none';
  private readonly link: ManagerLink;
  private client: MqttClient | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;
  private readonly startedAt: number;

  constructor(private readonly options: SimulatedSignOptions) {
    this.clock = options.clock ?? Date.now;
    this.startedAt = Math.floor(this.clock() / 1000);
    const credentials = options.credentials;
    this.link = new ManagerLink({
      deviceId: options.deviceId,
      brokerUrl: options.brokerUrl,
      firmwareVersion: options.firmware,
      startedAt: this.startedAt,
      reconnectMinMs: options.reconnectMinMs,
      reconnectMaxMs: options.reconnectMaxMs,
      keepaliveSeconds: options.keepaliveSeconds,
      connectTimeoutMs: options.connectTimeoutMs,
      logger: options.logger,
      connect: (url, connectOptions) => {
        const client = mqtt.connect(url, { ...connectOptions, ...credentials });
        this.client = client;
        return client;
      },
    });
    this.link.on('connection', (e) => this.onConnection(e));
    this.link.on('config', (config) => {
      this.stopId = config.stopId;
      this.link.followStop(config.stopId);
      this.saw('config');
    });
    this.link.on('arrivals', (a: ArrivalsData) => {
      this.arrivals = { generatedAt: a.generatedAt };
      this.saw('arrivals');
    });
    this.link.on('schedule', (s: ScheduleData) => {
      this.scheduleValidUntil = s.validUntil;
      this.saw('schedule');
    });
    this.link.on('announcement', (a: AnnouncementData, source) => {
      this.announcements.set(source, a.announcementId);
      this.saw('announcement');
    });
    this.link.on('announcementCleared', (source) => {
      this.announcements.delete(source);
      this.saw('announcementCleared');
    });
    this.link.on('heartbeat', (h) => {
      this.heartbeatCheckedAt = h.checkedAt;
      this.saw('heartbeat');
    });
    this.link.on('alerts', () => this.saw('alerts'));
    this.link.on('managerStatus', (m) => {
      this.managerOnline = m.state === 'online';
      this.saw('managerStatus');
    });
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  async start(): Promise<void> {
    await this.link.start();
    // Signs boot at different moments: spread their periodic statuses the same way.
    const first = Math.random() * this.options.statusIntervalMs;
    this.statusTimer = setTimeout(() => {
      const periodic = (): void => {
        // Arrivals may have gone stale since the last message: a changed mode is reported anyway.
        if (!this.updateMode()) this.publishStatus();
      };
      this.statusTimer = setInterval(periodic, this.options.statusIntervalMs);
      periodic();
    }, first);
  }

  /** A clean shutdown: offline status, then DISCONNECT (the last will stays unused). */
  async stop(): Promise<void> {
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    await this.link.stop();
  }

  /** Drops the TCP connection without a DISCONNECT, as a dead modem would: the broker sends the will. */
  cut(): boolean {
    const stream = this.client?.stream;
    if (!this.connected || !stream) return false;
    stream.destroy();
    return true;
  }

  private onConnection(event: ConnectionEvent): void {
    this.connected = event.state === 'connected';
    if (!this.connected) this.managerOnline = false;
    this.options.observer?.connection?.(this, this.connected, wallNow());
    this.updateMode();
  }

  private saw(kind: ReceivedKind): void {
    this.options.observer?.received?.(this, kind, wallNow());
    this.updateMode();
  }

  /**
   * What the glass would show, by the rule of device/board/chooseView.ts
   * without drawing it; true when it changed and the status went out.
   */
  private updateMode(): boolean {
    const now = this.clock() / 1000;
    // An unchanged board is not sent again: the heartbeat vouches that it is still current.
    const vouchedAt = Math.max(this.arrivals?.generatedAt ?? 0, this.heartbeatCheckedAt ?? 0);
    const fresh = this.arrivals !== null && now - vouchedAt <= this.options.staleAfterSeconds;
    const scheduled = this.scheduleValidUntil !== null && this.scheduleValidUntil > now;
    const mode =
      this.connected && this.managerOnline && fresh ? 'live' : scheduled ? 'scheduled' : 'none';
    if (mode === this.mode) return false;
    this.mode = mode;
    // Like the real sign, a change of what the glass shows is reported at once.
    this.publishStatus();
    return true;
  }

  /** Offline, the link keeps it for the last will and the status sent on reconnect. */
  private publishStatus(): void {
    void this.link.publishStatus({
      deviceId: this.options.deviceId,
      state: 'online',
      firmware: this.options.firmware,
      mode: this.mode,
      startedAt: this.startedAt,
      ...(this.stopId !== null ? { stopId: this.stopId } : {}),
      rejected: this.link.rejections(),
    });
  }
}
