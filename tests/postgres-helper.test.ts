/** The PostgreSQL the tests start: found where Debian puts it, or a failure that says what to install. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresMissingError, postgresBinDir } from './helpers/postgres';

describe('the tests’ PostgreSQL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-pgbin-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is installed (scripts/setup.sh installs Debian’s postgresql)', () => {
    expect(fs.existsSync(path.join(postgresBinDir(), 'postgres'))).toBe(true);
  });

  it('when missing, fails with what to run instead of skipping', () => {
    expect(() => postgresBinDir(dir)).toThrow(PostgresMissingError);
    expect(() => postgresBinDir(dir)).toThrow(/scripts\/setup\.sh/);
  });

  it('picks the newest major version when several are installed', () => {
    for (const version of ['9', '13', '15']) {
      fs.mkdirSync(path.join(dir, version, 'bin'), { recursive: true });
      fs.writeFileSync(path.join(dir, version, 'bin', 'initdb'), '');
    }
    expect(postgresBinDir(dir)).toBe(path.join(dir, '15', 'bin'));
  });
});
