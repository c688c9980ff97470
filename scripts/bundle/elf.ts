/** Reads the machine field of an ELF header, to tell an x64 addon from an arm64 one. */
import fs from 'node:fs';

export const ELF_MACHINES = { x64: 62, arm64: 183 } as const;

export function elfMachineOf(file: string): number | null {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(20);
    if (fs.readSync(fd, header, 0, 20, 0) < 20) return null;
    if (header.readUInt32BE(0) !== 0x7f454c46) return null;
    // EI_DATA 1 = little-endian, which both targets are.
    return header[5] === 1 ? header.readUInt16LE(18) : header.readUInt16BE(18);
  } finally {
    fs.closeSync(fd);
  }
}
