/**
 * The keys this sign trusts: the provisioned set (read-only, from the image)
 * until the first key statement arrives, then the state dir's copy, which
 * every later statement updates atomically.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { publicKeyEntry, trustState, type TrustState } from '../../shared';
import { initialTrust } from '../../shared/bundle/trust';
import { writeFileAtomic } from './atomicFile';

export const provisionedKeys = z.object({ keys: z.array(publicKeyEntry).min(1) });

export class TrustStore {
  private readonly file: string;

  constructor(
    stateDir: string,
    private readonly provisionedFile: string,
  ) {
    this.file = path.join(stateDir, 'trust.json');
  }

  load(): TrustState {
    if (fs.existsSync(this.file)) {
      return trustState.parse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
    }
    const provisioned = provisionedKeys.parse(
      JSON.parse(fs.readFileSync(this.provisionedFile, 'utf8')),
    );
    return initialTrust(provisioned.keys);
  }

  save(state: TrustState): void {
    writeFileAtomic(this.file, JSON.stringify(state));
  }
}
