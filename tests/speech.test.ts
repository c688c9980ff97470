import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GpioSimulator } from '../device/gpio/gpioSimulator';
import { PoleIo } from '../device/gpio/poleIo';
import { speakBoard, type SpeechBoard } from '../device/speech/boardSpeech';
import { DEFAULT_TTS_COMMAND, Speaker, SPEECH_RATE } from '../device/speech/speaker';
import { SpeechButton } from '../device/speech/speechButton';
import { startBroker } from './helpers/deviceBroker';
import { buildSign, tempDir, TestManager, waitFor } from './helpers/deviceFixtures';

/** 2025-01-06 14:03:20 in Hong Kong. */
const NOW = Date.UTC(2025, 0, 6, 6, 3, 20) / 1000;

const BOARD: SpeechBoard = {
  stopName: { en: 'Harbour Road', zh: '港湾道' },
  mode: 'live',
  now: NOW,
  timezone: 'Asia/Hong_Kong',
  rows: [
    { route: '5X', headsign: { en: 'Airport', zh: '机场' }, time: NOW + 200, source: 'live' },
    { route: '101', headsign: { en: 'Central', zh: '中环' }, time: NOW + 30, source: 'live' },
    { route: '5X', headsign: { en: 'Airport', zh: '机场' }, time: NOW + 740, source: 'live' },
    { route: '5X', headsign: { en: 'Airport', zh: '机场' }, time: NOW + 1400, source: 'live' },
  ],
  announcements: [
    {
      priority: 'warning',
      text: { en: 'Route 101 diverted via Hennessy Rd', zh: '101线改经轩尼诗道' },
      tts: { en: 'Route 101 is diverted via Hennessy Road' },
    },
  ],
};

const WIRING = { button: 26, ambientLight: 13, debounceMs: 20 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recordingSpeaker(dir: string): Speaker {
  // The "audio output" is sox writing each utterance to a file, then taking a moment as a
  // loudspeaker would (a file is written far faster than speech plays), so a press can cut it off.
  const player = path.join(dir, 'play.sh');
  writeFileSync(player, '#!/bin/sh\nsox -q -t wav - "$1" && sleep 0.5\n');
  chmodSync(player, 0o755);
  return new Speaker({
    ttsCommand: DEFAULT_TTS_COMMAND,
    audioCommand: `${player} ${dir}/utterance-{index}.wav`,
  });
}

function audioOf(file: string): { seconds: number; rms: number } {
  const seconds = Number(execFileSync('soxi', ['-D', file], { encoding: 'utf8' }));
  const report = execFileSync('sh', ['-c', 'sox "$0" -n stat 2>&1', file], { encoding: 'utf8' });
  const rms = Number(/RMS\s+amplitude:\s+([\d.]+)/.exec(report)?.[1] ?? 0);
  return { seconds, rms };
}

describe('the spoken board', () => {
  it('says the stop, each route with its next two times, then the announcement, Mandarin first', () => {
    expect(speakBoard(BOARD)).toEqual([
      {
        language: 'zh',
        text: '本站，港湾道。5X路，开往机场，3分钟，然后12分钟。101路，开往中环，即将到站。通告：101线改经轩尼诗道',
      },
      {
        language: 'en',
        text: 'This is Harbour Road. Route 5X to Airport, 3 minutes, then 12 minutes. Route 101 to Central, due now. Notice: Route 101 is diverted via Hennessy Road',
      },
    ]);
  });

  it('says its own words in Traditional characters when the sign is set so; feed names as given', () => {
    const [zh] = speakBoard({ ...BOARD, chineseScript: 'traditional' });
    expect(zh!.text).toBe(
      '本站，港湾道。5X路，開往机场，3分鐘，然後12分鐘。101路，開往中环，即將到站。通告：101线改经轩尼诗道',
    );
  });

  it('says timetable times as clock times, and says so', () => {
    const scheduled = speakBoard({
      ...BOARD,
      mode: 'scheduled',
      announcements: [],
      rows: BOARD.rows.map((r) => ({ ...r, source: 'scheduled' as const })),
    });
    expect(scheduled[0]!.text).toContain(
      '以下为时刻表时间。5X路，开往机场，14点6分，然后14点15分。',
    );
    expect(scheduled[1]!.text).toContain(
      'Timetable times, not live. Route 5X to Airport, at 14:06, then at 14:15.',
    );
  });
});

describe('the spoken countdown grammar', () => {
  const mixed: SpeechBoard = {
    ...BOARD,
    announcements: [],
    rows: [
      // The glass holds 4 min against a jump to 5 (see CountdownHold): the voice says the same.
      {
        route: '5X',
        headsign: { en: 'Airport', zh: '机场' },
        time: NOW + 305,
        source: 'live',
        heldMinutes: 4,
      },
      {
        route: '5X',
        headsign: { en: 'Airport', zh: '机场' },
        time: NOW + 900,
        source: 'scheduled',
      },
      {
        route: '101',
        headsign: { en: 'Central', zh: '中环' },
        time: NOW + 60,
        source: 'live',
        atStop: true,
      },
      {
        route: '101',
        headsign: { en: 'Central', zh: '中环' },
        time: NOW + 600,
        source: 'cancelled',
      },
    ],
  };

  it('says what the glass shows: held minutes, timetable times marked, boarding, cancelled', () => {
    const [zh, en] = speakBoard(mixed);
    expect(zh!.text).toBe(
      '本站，港湾道。5X路，开往机场，4分钟，然后计划14点18分。101路，开往中环，已到站，然后已取消。',
    );
    expect(en!.text).toBe(
      'This is Harbour Road. Route 5X to Airport, 4 minutes, then at 14:18 by the timetable. Route 101 to Central, at the stop now, then cancelled.',
    );
  });

  it('says live times are not updating when they are stale, and clock times without a trusted clock', () => {
    const stale = speakBoard({
      ...BOARD,
      announcements: [],
      rows: [{ ...BOARD.rows[0]!, stale: true }],
    });
    expect(stale[0]!.text).toContain('实时信息未更新。5X路，开往机场，3分钟。');
    expect(stale[1]!.text).toContain(
      'Live times are not updating. Route 5X to Airport, 3 minutes.',
    );
    const unsynced = speakBoard({ ...BOARD, announcements: [], clockSynced: false });
    expect(unsynced[1]!.text).toContain('Route 5X to Airport, at 14:06, then at 14:15.');
    expect(unsynced[0]!.text).toContain('5X路，开往机场，14点6分，然后14点15分。');
  });
});

describe('speaking through espeak-ng', () => {
  it('produces real speech of a plausible length, slower on request', async () => {
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    const speaker = recordingSpeaker(temp.dir);
    const [zh, en] = speakBoard(BOARD);
    expect(await speaker.speak([zh!, en!], { rate: SPEECH_RATE.normal, volume: 70 })).toBe(
      'finished',
    );
    const zhAudio = audioOf(path.join(temp.dir, 'utterance-0.wav'));
    const enAudio = audioOf(path.join(temp.dir, 'utterance-1.wav'));
    // Mandarin: about 3-6 syllables a second; English at 165 words a minute.
    const syllables = [...zh!.text].filter((c) => /\p{Script=Han}|\d/u.test(c)).length;
    expect(zhAudio.seconds).toBeGreaterThan(syllables / 8);
    expect(zhAudio.seconds).toBeLessThan(syllables / 1.5);
    const words = en!.text.split(/\s+/).length;
    const expected = (words / SPEECH_RATE.normal) * 60;
    expect(enAudio.seconds).toBeGreaterThan(expected * 0.5);
    expect(enAudio.seconds).toBeLessThan(expected * 2);
    for (const audio of [zhAudio, enAudio]) expect(audio.rms).toBeGreaterThan(0.02); // sound, not silence

    await speaker.speak([en!], { rate: SPEECH_RATE.slow, volume: 70 });
    const slow = audioOf(path.join(temp.dir, 'utterance-0.wav'));
    expect(slow.seconds / enAudio.seconds).toBeGreaterThan(1.25);
  });

  it('cut off, stops what the audio command started too, not only the command', async () => {
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    // An audio command that is a wrapper script: its player is its child, not itself.
    const player = path.join(temp.dir, 'wrapper.sh');
    const pidFile = path.join(temp.dir, 'player.pid');
    writeFileSync(player, `#!/bin/sh\nsleep 30 <&0 &\necho $! > "${pidFile}"\nwait\n`);
    chmodSync(player, 0o755);
    const speaker = new Speaker({ ttsCommand: DEFAULT_TTS_COMMAND, audioCommand: player });
    const [, en] = speakBoard(BOARD);
    const speaking = speaker.speak([en!], { rate: SPEECH_RATE.normal, volume: 70 });
    const pidIn = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0);
    await waitFor('the wrapper to start its player', () => pidIn() > 0, 5_000, 20);
    const pid = pidIn();
    speaker.cancel();
    expect(await speaking).toBe('interrupted');
    await waitFor('the player to end', () => !running(pid), 5_000, 20);
  });
});

/** Whether `pid` is a live process (a zombie waiting for its parent is not). */
function running(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('the passenger button', () => {
  it('speaks once per debounced press, starts again on a press while speaking, slows down on a long press', async () => {
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    const gpio = new GpioSimulator();
    const poleIo = new PoleIo({ gpio, wiring: WIRING, longPressMs: 300 });
    const speaker = recordingSpeaker(temp.dir);
    const button = new SpeechButton({ poleIo, speaker, board: () => BOARD, volume: () => 60 });
    await poleIo.start();
    button.start();
    cleanups.push(async () => {
      button.stop();
      await poleIo.stop();
    });

    await gpio.bounce(WIRING.button, 1, 9, 2);
    await sleep(50);
    await gpio.bounce(WIRING.button, 0, 9, 2);
    await waitFor('speech under way', () => speaker.speaking);
    const first = button.current!;
    await sleep(100);
    gpio.setInput(WIRING.button, 1);
    await sleep(50);
    gpio.setInput(WIRING.button, 0);
    await waitFor('second press taken', () => button.current !== first);
    expect(await first).toBe('interrupted');
    expect(await button.current).toBe('finished');
    const sessions = new Set(speaker.history.map((h) => h.session));
    expect(sessions.size).toBe(2);

    gpio.setInput(WIRING.button, 1);
    await waitFor(
      'long press',
      () => speaker.history.at(-1)?.settings.rate === SPEECH_RATE.slow,
      2000,
    );
    gpio.setInput(WIRING.button, 0);
    expect(await button.current).toBe('finished');
    expect(speaker.history.at(-1)!.settings.volume).toBe(60);
    expect(
      readdirSync(temp.dir)
        .filter((f) => f.endsWith('.wav'))
        .sort(),
    ).toEqual(['utterance-0.wav', 'utterance-1.wav']);
  });

  it('speaks at the night volume when the light sensor says dark', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    const manager = await TestManager.connect(broker.url);
    cleanups.push(() => manager.close());
    await manager.publishAll();
    const gpio = new GpioSimulator();
    gpio.setInput(WIRING.ambientLight, 0);
    const speaker = recordingSpeaker(temp.dir);
    const subject = buildSign({
      brokerUrl: broker.url,
      dataDir: temp.dir,
      poleIo: new PoleIo({ gpio, wiring: WIRING }),
      speaker,
    });
    await subject.sign.start();
    cleanups.push(() => subject.sign.stop());
    await waitFor('a view', () => subject.sign.state().mode === 'live');
    gpio.setInput(WIRING.button, 1);
    await sleep(50);
    gpio.setInput(WIRING.button, 0);
    await waitFor('speech', () => speaker.history.length > 0);
    expect(speaker.history[0]!.settings.volume).toBe(35);
    expect(speaker.history[0]!.utterance.text).toContain('港湾道');
  });
});
