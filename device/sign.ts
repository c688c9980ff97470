/**
 * The sign: keeps the cache current from the manager link, decides each second
 * what the glass should show, and sends a frame only when the picture changed.
 */
import type { Logger } from 'pino';
import type { DeviceConfigData } from '../shared';
import { brightnessAt, isNight } from './board/brightness';
import { chooseView } from './board/chooseView';
import { ClockWatch, type ClockState } from './board/clockWatch';
import { CountdownHold } from './board/countdownHold';
import { pageOfRows } from './board/paging';
import { prepareProfile } from './render/profileRender';
import { pageLanguageAt } from './board/pageClock';
import type { SignCache } from './cache/signCache';
import type { DeviceConfig } from './config';
import type { ConnectionEvent, ManagerLinkEvents, SignLink } from './link/managerLink';
import { Backoff } from './link/backoff';
import type { Panel, PanelStats } from './panel/panel';
import type { BoardView } from './render/boardView';
import type { IndexedFrame } from './render/frame';
import { cronScheduler, type ScheduledJob, type Scheduler } from './scheduler';
import { FrameFlow, type FrameFlowCounters } from './frameFlow';
import type { PoleIo } from './gpio/poleIo';
import type { SpeechBoard } from './speech/boardSpeech';
import type { Speaker } from './speech/speaker';
import { SpeechButton } from './speech/speechButton';
import { SignKnowledge } from './signKnowledge';
import { buildStatus } from './signStatus';

export interface SignOptions {
  config: DeviceConfig;
  link: SignLink;
  cache: SignCache;
  panel: Panel;
  render: (view: BoardView) => IndexedFrame;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  scheduler?: Scheduler;
  /** Encodes frames for upload to the manager; without it no frames are uploaded. */
  toPng?: (frame: IndexedFrame) => Buffer;
  tickMs?: number;
  /** The pole's GPIO lines (panel power, backlight, light sensor, door, button); none without. */
  poleIo?: PoleIo;
  /** Speaks the board when the passenger button is pressed. */
  speaker?: Speaker;
  /** Abbreviation tables by agency id; "default" is used for an agency without one. */
  abbreviations?: ReadonlyMap<string, readonly (readonly [string, string])[]>;
  /** Milliseconds from a monotonic source, to catch wall-clock jumps; defaults to performance.now. */
  monotonic?: () => number;
}

export type SignMode = BoardView['mode'];

/** A board pages through at most this many screens of departures. */
const MAX_PAGES = 3;

export interface SignState {
  mode: SignMode | null;
  connected: boolean;
  managerOnline: boolean;
  view: BoardView | null;
  /** The frame the panel last acknowledged. */
  lastFrame: IndexedFrame | null;
  brightness: number | null;
  counters: FrameFlowCounters & { ticks: number; statusPublished: number };
  rejected: Record<string, number>;
  /** Milliseconds from start() until the panel acknowledged the first frame. */
  firstFrameAfterMs: number | null;
  /** Clock time of the render loop's last completed pass; the watchdog pings only while it moves. */
  renderedAtMs: number | null;
  clock: ClockState;
}

export class Sign {
  private started = false;
  private connected = false;
  private managerOnline = false;
  private mode: SignMode | null = null;
  private view: BoardView | null = null;
  private brightness: number | null = null;
  private brightnessTarget: number | null = null;
  private panelOpen = false;
  /** Why the panel link could not be opened; null once it is open. */
  private panelOpenError: string | null = null;
  private panelRetryTimer: NodeJS.Timeout | null = null;
  private readonly panelBackoff = new Backoff({ minMs: 1_000, maxMs: 30_000 });
  private ticks = 0;
  private statusPublished = 0;
  private startedAtMs = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private queuedTick: NodeJS.Immediate | null = null;
  private minuteJob: ScheduledJob | null = null;
  private renderError: string | null = null;
  private renderedAtMs: number | null = null;
  private cabinet: { doorOpen: boolean; changedAt: number } | undefined;
  private readonly onDoor = (open: boolean): void => {
    this.cabinet = { doorOpen: open, changedAt: Math.floor(this.options.clock() / 1000) };
    if (open) this.options.logger.warn('cabinet door opened');
    else this.options.logger.info('cabinet door closed');
    this.publishStatus();
  };
  private readonly onAmbient = (): void => void this.applyBrightness();
  private speechButton: SpeechButton | undefined;
  /** Every departure chosen this second, beyond the page on the glass: the button reads them all. */
  private upcoming: BoardView['rows'] = [];
  private readonly frames: FrameFlow;
  private readonly clockWatch: ClockWatch;
  private readonly hold = new CountdownHold();
  private clockState: ClockState = { synced: false };
  private readonly known: SignKnowledge;
  private readonly listeners: {
    [K in keyof ManagerLinkEvents]: (...args: ManagerLinkEvents[K]) => void;
  };

  constructor(private readonly options: SignOptions) {
    this.frames = new FrameFlow({
      panel: options.panel,
      link: options.link,
      logger: options.logger,
      toPng: options.toPng,
      uploadIntervalMs: options.config.frameUploadIntervalSeconds * 1000,
    });
    const known = new SignKnowledge(options.cache, options.logger);
    this.known = known;
    this.clockWatch = new ClockWatch({
      wall: options.clock,
      monotonic: options.monotonic ?? (() => performance.now()),
      policy: options.config.clockSync,
    });
    this.listeners = {
      config: (c) => this.update('config', () => this.onConfig(c)),
      arrivals: (a) => this.update('arrivals', () => known.applyArrivals(a)),
      schedule: (s) => this.update('schedule', () => known.applySchedule(s)),
      announcement: (a, source) =>
        this.update('announcement', () => {
          known.applyAnnouncement(a, source);
          this.frames.uploadNextFrame();
        }),
      announcementCleared: (source) =>
        this.update('announcement clear', () => {
          known.clearAnnouncements(source);
          this.frames.uploadNextFrame();
        }),
      heartbeat: (h, sentAt) =>
        this.update('heartbeat', () => {
          known.applyHeartbeat(h);
          this.clockWatch.heard(sentAt);
        }),
      alerts: (a) => this.update('alerts', () => known.applyAlerts(a)),
      managerStatus: (m) =>
        this.update('manager status', () => {
          this.managerOnline = m.state === 'online';
        }),
      connection: (e) => this.update('connection', () => this.onConnection(e)),
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    const { cache, link, config } = this.options;
    this.startedAtMs = this.options.clock();
    // One rule for time: whatever the clock watch trusts also judges inbound message times.
    link.judgeTimesBy(() => this.clockWatch.reference());
    this.frames.markStarted(performance.now());
    const opening = cache.open();
    if (opening.recovered) {
      this.options.logger.error(
        { reason: opening.reason, movedTo: opening.movedTo },
        'sign cache was unreadable: set aside, starting empty until the manager resupplies it',
      );
    }
    // A sign that boots without network still knows its stop and its timetable.
    this.known.load(Math.floor(this.startedAtMs / 1000));
    this.started = true;
    try {
      for (const [event, listener] of Object.entries(this.listeners)) {
        link.on(event as keyof ManagerLinkEvents, listener as never);
      }
      link.followStop(this.known.config?.stopId ?? null);
      await this.startPoleIo();
      await link.start();
      await this.openPanel();
      const scheduler = this.options.scheduler ?? cronScheduler;
      this.minuteJob = scheduler.schedule(
        '* * * * *',
        () => void this.everyMinute(),
        'sign-minute',
      );
      this.tickTimer = setInterval(() => this.tick(), this.options.tickMs ?? 1000);
      this.statusTimer = setInterval(
        () => this.publishStatus(),
        config.statusIntervalSeconds * 1000,
      );
      this.tick();
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.options.logger.info(
      { deviceId: config.deviceId, stopId: this.known.config?.stopId ?? null },
      'sign started',
    );
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const { cache, link, panel, logger } = this.options;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.queuedTick) clearImmediate(this.queuedTick);
    this.minuteJob?.stop();
    if (this.panelRetryTimer) clearTimeout(this.panelRetryTimer);
    this.tickTimer = this.statusTimer = this.queuedTick = this.minuteJob = null;
    this.panelRetryTimer = null;
    this.panelOpen = false;
    for (const [event, listener] of Object.entries(this.listeners)) {
      link.off(event as keyof ManagerLinkEvents, listener as never);
    }
    const attempt = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, `stopping ${what} failed`);
      }
    };
    await attempt('link', () => link.stop());
    await attempt('pole lines', () => this.stopPoleIo());
    await attempt('panel', async () => {
      await this.frames.idle();
      await panel.stop();
    });
    await attempt('cache', () => cache.close());
    logger.info('sign stopped');
  }

  state(): SignState {
    return {
      mode: this.mode,
      connected: this.connected,
      managerOnline: this.managerOnline,
      view: this.view,
      lastFrame: this.frames.lastShown(),
      brightness: this.brightness,
      counters: {
        ...this.frames.counters(),
        ticks: this.ticks,
        statusPublished: this.statusPublished,
      },
      rejected: this.options.link.rejections(),
      firstFrameAfterMs: this.frames.firstFrameAfterMs(),
      renderedAtMs: this.renderedAtMs,
      clock: this.clockState,
    };
  }

  /** Runs one render pass now; the loop calls it every second and after every update. */
  tick(): void {
    if (!this.started) return;
    this.ticks += 1;
    const { config, clock, logger } = this.options;
    const nowMs = clock();
    const now = Math.floor(nowMs / 1000);
    const deviceConfig = this.known.config;
    // The profile's template pages through (or groups) up to this many departures.
    const rowsShown = prepareProfile(config.profile).layout.rows.length;
    const limit = rowsShown * MAX_PAGES;
    let view: BoardView;
    try {
      const clockState = this.clockWatch.check();
      if (clockState.synced !== this.clockState.synced) {
        logger.info(
          clockState,
          clockState.synced ? 'clock trusted' : 'clock not trusted: showing clock times',
        );
        this.clockState = clockState;
        this.publishStatus();
      }
      this.clockState = clockState;
      view = this.hold.apply(
        chooseView({
          now,
          config: deviceConfig,
          lastArrivals: this.known.arrivals,
          heartbeat: this.known.heartbeat,
          cachedDepartures: this.known.upcomingDepartures(now, limit),
          scheduleKnown: this.known.scheduleKnown(now),
          announcements: this.known.activeAnnouncements(now),
          agencyAlerts: this.known.agencyAlerts(),
          language: pageLanguageAt(nowMs, deviceConfig?.pageSeconds ?? 5),
          width: config.panelWidth,
          height: config.panelHeight,
          staleAfterSeconds: config.staleAfterSeconds,
          predictionStaleSeconds: config.predictionStaleSeconds,
          clockSynced: clockState.synced,
          rowLimit: limit,
        }),
      );
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'choosing the view failed');
      return;
    }
    const template = config.profile.layout;
    this.upcoming = view.rows;
    const paged = pageOfRows(view.rows, rowsShown, template.overflow, nowMs, template.pageSeconds);
    view = { ...view, rows: paged.rows };
    const tables = this.options.abbreviations;
    const table = tables?.get(deviceConfig?.agency ?? 'default') ?? tables?.get('default');
    if (table) view = { ...view, abbreviations: table };
    // E-paper: seconds never change the paper; only a new minute (or new data) refreshes it.
    const { refresh } = config.profile;
    if (refresh.kind === 'eink') {
      view = {
        ...view,
        now: Math.floor(view.now / refresh.timeStepSeconds) * refresh.timeStepSeconds,
      };
    }
    this.view = view;
    if (view.mode !== this.mode) {
      logger.info(
        { from: this.mode, to: view.mode, rows: view.rows.length },
        'display mode changed',
      );
      this.mode = view.mode;
      this.frames.uploadNextFrame();
      this.publishStatus();
    }
    let frame: IndexedFrame;
    try {
      frame = this.options.render(view);
      this.renderError = null;
    } catch (err) {
      const message = (err as Error).message;
      // Logged once per distinct failure, not once a second.
      if (message !== this.renderError) logger.error({ err: message }, 'rendering failed');
      this.renderError = message;
      return;
    }
    this.frames.offer(frame, nowMs);
    this.renderedAtMs = nowMs;
  }

  private requestTick(): void {
    if (!this.started || this.queuedTick) return;
    this.queuedTick = setImmediate(() => {
      this.queuedTick = null;
      this.tick();
    });
  }

  /** Applies one link event; a failure (e.g. a full disk) is logged and the sign carries on. */
  private update(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, `handling ${what} failed`);
    }
    this.requestTick();
  }

  private onConfig(config: DeviceConfigData): void {
    const own = this.options.config.panelProfile;
    if (config.panelProfile !== undefined && config.panelProfile !== own) {
      // The glass bolted to the pole wins; the manager sees the difference in the status.
      this.options.logger.warn(
        { registered: config.panelProfile, running: own },
        'manager has another panel profile on record for this sign',
      );
    }
    if (this.known.applyConfig(config)) this.options.link.followStop(config.stopId);
    void this.applyBrightness();
  }

  private onConnection(event: ConnectionEvent): void {
    this.connected = event.state === 'connected';
    // What we knew of the manager ended with the session; its retained status is resent on subscribe.
    if (!this.connected) this.managerOnline = false;
    // The broker may have lost the retained frame; send the current one again.
    if (this.connected) this.frames.forgetUpload();
  }

  private publishStatus(): void {
    if (!this.started) return;
    const status = buildStatus({
      config: this.options.config,
      stopId: this.known.config?.stopId,
      mode: this.mode ?? 'none',
      startedAtMs: this.startedAtMs,
      rejected: this.options.link.rejections(),
      panel: this.panelStats(),
      ...(this.cabinet ? { cabinet: this.cabinet } : {}),
      clock: this.clockState,
      stopInFeed: this.known.config?.stopInFeed,
    });
    this.options.link.publishStatus(status).then(
      (sent) => {
        if (sent) this.statusPublished += 1;
      },
      (err: Error) => this.options.logger.warn({ err: err.message }, 'status publish failed'),
    );
  }

  /**
   * Opens the panel link, retrying with capped back-off while it fails. The sign
   * keeps running meanwhile, so the manager hears that its panel is dark.
   */
  private async openPanel(): Promise<void> {
    this.panelRetryTimer = null;
    if (!this.started) return;
    const { panel, logger } = this.options;
    try {
      await panel.start();
    } catch (err) {
      const message = (err as Error).message;
      const retryInMs = this.panelBackoff.next();
      if (message !== this.panelOpenError) {
        logger.error({ err: message, retryInMs }, 'cannot open the panel link; retrying');
        this.panelOpenError = message;
        this.publishStatus();
      }
      this.panelRetryTimer = setTimeout(() => void this.openPanel(), retryInMs);
      return;
    }
    if (this.panelOpenError !== null) logger.info('panel link open again');
    this.panelOpen = true;
    this.panelOpenError = null;
    this.panelBackoff.reset();
    this.frames.panelReady();
    await this.applyBrightness();
    this.requestTick();
  }

  private panelStats(): PanelStats {
    const stats = this.options.panel.stats();
    if (this.panelOpenError === null) return stats;
    return { ...stats, ok: false, lastError: `panel link not open: ${this.panelOpenError}` };
  }

  private async startPoleIo(): Promise<void> {
    const io = this.options.poleIo;
    if (!io) return;
    await io.start();
    io.on('door', this.onDoor);
    io.on('ambient', this.onAmbient);
    if (this.options.speaker) {
      this.speechButton = new SpeechButton({
        poleIo: io,
        speaker: this.options.speaker,
        board: () => this.speechBoard(),
        volume: () => this.volume(),
        logger: this.options.logger.child({ part: 'speech' }),
      });
      this.speechButton.start();
    }
    const open = io.doorOpen();
    if (open !== null) {
      this.cabinet = { doorOpen: open, changedAt: Math.floor(this.options.clock() / 1000) };
      if (open) this.options.logger.warn('cabinet door is open');
    }
  }

  private async stopPoleIo(): Promise<void> {
    const io = this.options.poleIo;
    if (!io) return;
    io.off('door', this.onDoor);
    io.off('ambient', this.onAmbient);
    this.speechButton?.stop();
    this.speechButton = undefined;
    await io.stop();
  }

  /** What the button reads out: the board as chosen this second, every active announcement. */
  speechBoard(): SpeechBoard | null {
    const view = this.view;
    if (!view) return null;
    const now = Math.floor(this.options.clock() / 1000);
    return {
      stopName: view.stopName,
      rows: this.upcoming,
      mode: view.mode,
      announcements: this.known.activeAnnouncements(now),
      now,
      timezone: view.timezone,
      chineseScript: this.known.config?.chineseScript ?? 'simplified',
      clockSynced: view.clockSynced ?? true,
    };
  }

  private volume(): number {
    const config = this.known.config;
    if (!config) return 50;
    const daylight = this.options.poleIo?.daylight() ?? null;
    const night =
      daylight === null
        ? isNight(this.options.clock(), config.brightness, config.timezone)
        : !daylight;
    return night ? config.volume.night : config.volume.day;
  }

  private async everyMinute(): Promise<void> {
    this.known.purgeExpired(Math.floor(this.options.clock() / 1000));
    await this.applyBrightness();
  }

  private async applyBrightness(): Promise<void> {
    const config = this.known.config;
    // Unconfigured signs keep the panel's own default rather than guess a time zone.
    if (!config || !this.started || !this.panelOpen) return;
    const daylight = this.options.poleIo?.daylight() ?? null;
    const percent = brightnessAt(
      this.options.clock(),
      config.brightness,
      config.timezone,
      daylight,
    );
    // Compared with the value being set, so overlapping calls do not send it twice.
    if (percent === this.brightnessTarget) return;
    this.brightnessTarget = percent;
    // LED: the backlight line is the drivers' output enable; e-paper: the front light, lit when dark.
    const lit =
      this.options.config.profile.kind === 'led' ? percent > 0 : percent < config.brightness.day;
    this.options.poleIo
      ?.setBacklight(lit)
      .catch((err: Error) =>
        this.options.logger.warn({ err: err.message }, 'setting the backlight failed'),
      );
    try {
      await this.options.panel.setBrightness(percent);
      this.options.logger.info({ from: this.brightness, to: percent }, 'brightness set');
      this.brightness = percent;
    } catch (err) {
      // Forgotten so the next minute tries again.
      if (this.brightnessTarget === percent) this.brightnessTarget = null;
      this.options.logger.warn(
        { err: (err as Error).message, percent },
        'setting brightness failed',
      );
    }
  }
}
