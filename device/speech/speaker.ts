/**
 * Speaks utterances through a text-to-speech command piped into the audio
 * player, one utterance after another. Commands are argument lists, never a
 * shell: placeholders {voice} {rate} {amplitude} {volume} {text} {index} are
 * substituted per argument. A new speak() cuts the current one off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import type { SpokenLanguage, Utterance } from './boardSpeech';

/** espeak-ng voices: Mandarin and English. */
export const VOICES: Record<SpokenLanguage, string> = { zh: 'cmn', en: 'en' };

export const DEFAULT_TTS_COMMAND = 'espeak-ng -v {voice} -s {rate} -a {amplitude} --stdout {text}';
export const DEFAULT_AUDIO_COMMAND = 'aplay -q -';

/** Words per minute: everyday, and the slower repeat a long press asks for. */
export const SPEECH_RATE = { normal: 165, slow: 110 } as const;

export interface SpeakSettings {
  rate: number;
  /** 0-100 %. */
  volume: number;
}

export interface SpeakerOptions {
  ttsCommand: string;
  audioCommand: string;
  logger?: Logger;
}

export type SpeechOutcome = 'finished' | 'interrupted' | 'failed';

export function splitCommand(command: string): string[] {
  return command.trim().split(/\s+/).filter(Boolean);
}

export class Speaker {
  private children: ChildProcess[] = [];
  private session = 0;
  private active = false;
  /** Every utterance started, with its settings, for status and tests. */
  readonly history: { session: number; utterance: Utterance; settings: SpeakSettings }[] = [];

  constructor(private readonly options: SpeakerOptions) {}

  get speaking(): boolean {
    return this.active;
  }

  /** Speaks each utterance in turn; resolves when done, cut off, or failed. */
  async speak(utterances: Utterance[], settings: SpeakSettings): Promise<SpeechOutcome> {
    this.cancel();
    const session = ++this.session;
    this.active = true;
    try {
      for (const [index, utterance] of utterances.entries()) {
        if (session !== this.session) return 'interrupted';
        if (!utterance.text) continue;
        this.history.push({ session, utterance, settings });
        await this.play(utterance, settings, index);
      }
      return session === this.session ? 'finished' : 'interrupted';
    } catch (err) {
      if (session !== this.session) return 'interrupted';
      this.options.logger?.warn({ err: (err as Error).message }, 'speaking failed');
      return 'failed';
    } finally {
      if (session === this.session) this.active = false;
    }
  }

  /** Stops whatever is being said. */
  cancel(): void {
    this.session++;
    this.active = false;
    for (const child of this.children.splice(0)) killGroup(child);
  }

  private play(utterance: Utterance, settings: SpeakSettings, index: number): Promise<void> {
    const values: Record<string, string> = {
      voice: VOICES[utterance.language],
      rate: String(Math.round(settings.rate)),
      volume: String(settings.volume),
      // espeak-ng amplitude runs 0-200, 100 being its normal level.
      amplitude: String(Math.round(settings.volume * 2)),
      text: utterance.text,
      index: String(index),
    };
    const fill = (arg: string): string =>
      arg === '{text}'
        ? values.text!
        : arg.replace(/\{(\w+)\}/g, (m, key: string) => values[key] ?? m);
    const [ttsFile, ...ttsArgs] = splitCommand(this.options.ttsCommand).map(fill);
    const [audioFile, ...audioArgs] = splitCommand(this.options.audioCommand).map(fill);
    if (!ttsFile || !audioFile) return Promise.reject(new Error('empty speech command'));
    // Each in its own process group, so cutting it off also stops what a wrapper script started.
    const tts = spawn(ttsFile, ttsArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const player = spawn(audioFile, audioArgs, {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true,
    });
    this.children.push(tts, player);
    tts.stdout.pipe(player.stdin);
    // A killed player closes its end early; what the voice still writes is then drained, or its
    // stream never ends, the voice never counts as closed, and this utterance never settles.
    const drain = () => tts.stdout.resume();
    player.stdin.on('error', drain);
    player.stdin.on('close', drain);
    const exited = (child: ChildProcess, name: string) =>
      new Promise<void>((resolve, reject) => {
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('error', (err) => reject(new Error(`${name}: ${err.message}`)));
        child.once('close', (code, signal) => {
          if (code === 0 || signal === 'SIGKILL') resolve();
          else
            reject(new Error(`${name} exited ${signal ?? code}: ${stderr.trim().slice(0, 200)}`));
        });
      });
    return Promise.all([exited(tts, ttsFile), exited(player, audioFile)])
      .then(
        () => undefined,
        (err: unknown) => {
          for (const child of [tts, player]) killGroup(child);
          throw err;
        },
      )
      .finally(() => {
        this.children = this.children.filter((c) => c !== tts && c !== player);
      });
  }
}

/**
 * SIGKILL to the child's whole process group (it leads one: spawned detached),
 * which outlives the leader while a child of the leader still runs.
 */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid === undefined) throw new Error('never started');
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
