/**
 * Moves rendered frames to the glass and, throttled, to the manager. Only a
 * changed picture is sent; a slow panel never gets overlapping writes, and a
 * failing one is retried with capped back-off instead of every tick.
 */
import type { Logger } from 'pino';
import type { SignLink } from './link/managerLink';
import { Backoff } from './link/backoff';
import type { Panel } from './panel/panel';
import { framesEqual, type IndexedFrame } from './render/frame';

/** deviceFrameData caps the base64 PNG at this many characters. */
const MAX_PNG_BASE64 = 120_000;

export interface FrameFlowCounters {
  framesRendered: number;
  framesShown: number;
  showFailures: number;
  framesUploaded: number;
}

export interface FrameFlowOptions {
  panel: Panel;
  link: Pick<SignLink, 'isConnected' | 'publishFrame'>;
  logger: Logger;
  toPng?: ((frame: IndexedFrame) => Buffer) | undefined;
  uploadIntervalMs: number;
}

export class FrameFlow {
  private latest: IndexedFrame | null = null;
  private shown: IndexedFrame | null = null;
  private uploaded: IndexedFrame | null = null;
  private lastUploadAtMs = Number.NEGATIVE_INFINITY;
  private showing: Promise<void> | null = null;
  private uploading = false;
  /**
   * Requests to upload the next frame that reaches the glass, whatever the
   * interval says, counted so that a request made while a write is under way
   * (showing the picture from before it) is answered by the write after.
   */
  private uploadsRequested = 0;
  private uploadsAnswered = 0;
  private panelFailing = false;
  private retryAtMs = 0;
  private readonly retry = new Backoff({ minMs: 1_000, maxMs: 30_000 });
  private startedAt: number | null = null;
  private firstFrameMs: number | null = null;
  private readonly count: FrameFlowCounters = {
    framesRendered: 0,
    framesShown: 0,
    showFailures: 0,
    framesUploaded: 0,
  };

  constructor(private readonly options: FrameFlowOptions) {}

  /** Start of the start-up measurement, in performance.now() milliseconds. */
  markStarted(at: number): void {
    this.startedAt = at;
  }

  offer(frame: IndexedFrame, nowMs: number): void {
    if (!this.latest || !framesEqual(frame, this.latest)) {
      this.latest = frame;
      this.count.framesRendered += 1;
    }
    this.pushToPanel(nowMs);
    this.maybeUpload(nowMs);
  }

  lastShown(): IndexedFrame | null {
    return this.shown;
  }

  counters(): FrameFlowCounters {
    return { ...this.count };
  }

  firstFrameAfterMs(): number | null {
    return this.firstFrameMs;
  }

  /** Makes the next upload happen even if the picture has not changed. */
  forgetUpload(): void {
    this.uploaded = null;
    this.lastUploadAtMs = Number.NEGATIVE_INFINITY;
  }

  /**
   * Something an operator will want to see changed (mode, announcement): the next
   * frame shown goes to the manager without waiting for the upload interval.
   */
  uploadNextFrame(): void {
    this.uploadsRequested += 1;
  }

  /** The panel (re)opened: send the current picture now instead of after the back-off. */
  panelReady(): void {
    this.retry.reset();
    this.retryAtMs = 0;
    this.shown = null;
  }

  /** Resolves once no panel write is in flight. */
  async idle(): Promise<void> {
    while (this.showing) await this.showing;
  }

  private pushToPanel(nowMs: number): void {
    const frame = this.latest;
    if (this.showing || !frame || nowMs < this.retryAtMs) return;
    if (this.shown && framesEqual(frame, this.shown)) return;
    const { panel, logger } = this.options;
    const requested = this.uploadsRequested;
    this.showing = panel
      .show(frame)
      .then(
        () => {
          this.shown = frame;
          this.count.framesShown += 1;
          this.retry.reset();
          this.retryAtMs = 0;
          if (this.firstFrameMs === null && this.startedAt !== null) {
            this.firstFrameMs = Math.round(performance.now() - this.startedAt);
            logger.info({ ms: this.firstFrameMs }, 'first frame on the panel');
          }
          if (this.panelFailing) logger.info('panel accepts frames again');
          this.panelFailing = false;
          if (requested > this.uploadsAnswered) {
            this.uploadsAnswered = requested;
            this.lastUploadAtMs = Number.NEGATIVE_INFINITY;
            this.maybeUpload(nowMs);
          }
        },
        (err: Error) => {
          this.count.showFailures += 1;
          const delay = this.retry.next();
          this.retryAtMs = nowMs + delay;
          // Warn on the first failure of a run; the rest are counted and shown in status.
          if (!this.panelFailing)
            logger.warn({ err: err.message, retryInMs: delay }, 'panel rejected frame');
          this.panelFailing = true;
        },
      )
      .finally(() => {
        this.showing = null;
      });
  }

  private maybeUpload(nowMs: number): void {
    const { toPng, link, logger } = this.options;
    const frame = this.shown;
    if (!toPng || !frame || this.uploading || !link.isConnected()) return;
    if (this.uploaded && framesEqual(frame, this.uploaded)) return;
    if (nowMs - this.lastUploadAtMs < this.options.uploadIntervalMs) return;
    this.lastUploadAtMs = nowMs;
    let png: string;
    try {
      png = toPng(frame).toString('base64');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'frame encoding failed');
      return;
    }
    if (png.length > MAX_PNG_BASE64) {
      logger.warn({ chars: png.length }, 'frame PNG too large to upload');
      this.uploaded = frame;
      return;
    }
    this.uploading = true;
    link
      .publishFrame({
        width: frame.width,
        height: frame.height,
        renderedAt: Math.floor(nowMs / 1000),
        png,
      })
      .then(
        (sent) => {
          if (!sent) return;
          this.uploaded = frame;
          this.count.framesUploaded += 1;
        },
        (err: Error) => logger.warn({ err: err.message }, 'frame upload failed'),
      )
      .finally(() => {
        this.uploading = false;
      });
  }
}
