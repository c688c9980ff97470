/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).
 * Chosen because small LED controllers compute it with a 512-byte table or bitwise in a few lines.
 */
const TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[byte] = crc;
  }
  return table;
}

export const CRC16_INIT = 0xffff;

/** CRC of `data`; pass a previous result as `crc` to continue over several pieces. */
export function crc16(data: Uint8Array, crc: number = CRC16_INIT): number {
  let value = crc;
  for (const byte of data) {
    value = ((value << 8) & 0xffff) ^ (TABLE[((value >> 8) ^ byte) & 0xff] ?? 0);
  }
  return value;
}
