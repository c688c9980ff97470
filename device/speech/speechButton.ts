/**
 * The passenger button: a press speaks the board, a press while speaking
 * starts again from the top, a long press repeats it more slowly. Volume
 * follows the day/night level of the sign's config.
 */
import type { Logger } from 'pino';
import type { PoleIo } from '../gpio/poleIo';
import { speakBoard, type SpeechBoard } from './boardSpeech';
import { SPEECH_RATE, type Speaker, type SpeechOutcome } from './speaker';

export interface SpeechButtonOptions {
  poleIo: PoleIo;
  speaker: Speaker;
  /** The board as it is now; null when the sign knows nothing to say yet. */
  board: () => SpeechBoard | null;
  /** Volume now, percent. */
  volume: () => number;
  logger?: Logger;
}

export class SpeechButton {
  private readonly onPress = (): void => this.say(SPEECH_RATE.normal);
  private readonly onLongPress = (): void => this.say(SPEECH_RATE.slow);
  private last: Promise<SpeechOutcome> | undefined;

  constructor(private readonly options: SpeechButtonOptions) {}

  start(): void {
    this.options.poleIo.on('press', this.onPress);
    this.options.poleIo.on('longPress', this.onLongPress);
  }

  stop(): void {
    this.options.poleIo.off('press', this.onPress);
    this.options.poleIo.off('longPress', this.onLongPress);
    this.options.speaker.cancel();
  }

  /** The speech started by the latest press (tests). */
  get current(): Promise<SpeechOutcome> | undefined {
    return this.last;
  }

  private say(rate: number): void {
    const board = this.options.board();
    const utterances = board
      ? speakBoard(board)
      : [
          { language: 'zh' as const, text: '暂无班次信息。' },
          { language: 'en' as const, text: 'No departures known.' },
        ];
    this.options.logger?.info({ rate }, 'speaking the board');
    this.last = this.options.speaker.speak(utterances, { rate, volume: this.options.volume() });
  }
}
