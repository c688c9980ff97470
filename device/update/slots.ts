/**
 * The two slots and the links that choose between them:
 *   <root>/slots/a, <root>/slots/b   release trees (runtime/ and app/)
 *   <root>/current                   the slot the sign runs; switched to try a release
 *   <root>/committed                 the last slot proven healthy; the agent runs from it
 * A slot counts as installed only once its slot.json is written, last.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { releaseVersion } from '../../shared';
import { swapSymlink, writeFileAtomic } from './atomicFile';

export type SlotName = 'a' | 'b';

const slotInfo = z.object({ version: releaseVersion, installedAt: z.number().int() });
export type SlotInfo = z.infer<typeof slotInfo>;

export class Slots {
  constructor(readonly root: string) {}

  dir(slot: SlotName): string {
    return path.join(this.root, 'slots', slot);
  }

  private linkTarget(link: 'current' | 'committed'): SlotName | null {
    try {
      const target = fs.readlinkSync(path.join(this.root, link));
      const name = path.basename(target);
      return name === 'a' || name === 'b' ? name : null;
    } catch {
      return null;
    }
  }

  current(): SlotName | null {
    return this.linkTarget('current');
  }

  committed(): SlotName | null {
    return this.linkTarget('committed');
  }

  /** The slot an update may overwrite: never the committed one. */
  spare(): SlotName {
    return this.committed() === 'a' ? 'b' : 'a';
  }

  info(slot: SlotName): SlotInfo | null {
    try {
      const parsed = slotInfo.safeParse(
        JSON.parse(fs.readFileSync(path.join(this.dir(slot), 'slot.json'), 'utf8')),
      );
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  committedVersion(): string {
    const slot = this.committed();
    return (slot && this.info(slot)?.version) ?? '0.0.0';
  }

  /** Empties a slot and marks nothing installed in it. */
  wipe(slot: SlotName): void {
    fs.rmSync(this.dir(slot), { recursive: true, force: true });
    fs.mkdirSync(this.dir(slot), { recursive: true });
  }

  /** The last write of an install: from here on the slot may be made current. */
  markInstalled(slot: SlotName, version: string, nowMs: number): void {
    writeFileAtomic(
      path.join(this.dir(slot), 'slot.json'),
      JSON.stringify({ version, installedAt: Math.floor(nowMs / 1000) }),
    );
  }

  pointCurrentAt(slot: SlotName): void {
    if (!this.info(slot)) throw new Error(`slot ${slot} is not completely installed`);
    swapSymlink(path.join(this.root, 'current'), path.join('slots', slot));
  }

  pointCommittedAt(slot: SlotName): void {
    if (!this.info(slot)) throw new Error(`slot ${slot} is not completely installed`);
    swapSymlink(path.join(this.root, 'committed'), path.join('slots', slot));
  }
}
