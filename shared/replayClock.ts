/**
 * A clock that starts at a chosen instant and then runs at normal speed, so a
 * recorded realtime feed can be replayed as if it were live. Reads no
 * environment: each program's config loader passes the instant in.
 */

/** Epoch milliseconds of an ISO-8601 instant with a zone (Z or ±hh:mm), or an error message. */
export function parseClockStart(text: string): number | string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    return 'expected an ISO-8601 instant with a zone, e.g. 2025-11-06T21:04:14Z';
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? 'not a real instant' : ms;
}

/** Epoch milliseconds, starting at startMs when called and advancing with `real`. */
export function replayClock(startMs: number, real: () => number = Date.now): () => number {
  const offset = startMs - real();
  return () => real() + offset;
}

export interface HeldReplayClock {
  /** Epoch milliseconds: startMs until run(), then advancing with `real`. */
  now: () => number;
  run(): void;
}

/**
 * A replay clock that holds at startMs until run(): a program's setup (a
 * city feed's import can take tens of seconds) does not use up the replay.
 */
export function heldReplayClock(startMs: number, real: () => number = Date.now): HeldReplayClock {
  let running: (() => number) | null = null;
  return {
    now: () => (running ? running() : startMs),
    run: () => {
      running ??= replayClock(startMs, real);
    },
  };
}
