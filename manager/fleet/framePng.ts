/**
 * A sign's frame is kept and served only if it is what it says: a PNG whose
 * header gives the panel size the frame message declares. Anything else (a
 * script, an HTML page, a PNG of another size) is refused before it is stored,
 * so the console can never be made to serve it as an image.
 */
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Why the bytes are not a PNG of width x height; undefined when they are. */
export function framePngProblem(png: Buffer, width: number, height: number): string | undefined {
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE)) return 'not a PNG';
  // The first chunk must be IHDR (13 bytes): width and height come first, big-endian.
  if (png.readUInt32BE(8) !== 13 || png.toString('latin1', 12, 16) !== 'IHDR') {
    return 'PNG without an IHDR header';
  }
  const pngWidth = png.readUInt32BE(16);
  const pngHeight = png.readUInt32BE(20);
  if (pngWidth !== width || pngHeight !== height) {
    return `PNG is ${pngWidth}x${pngHeight}, the frame says ${width}x${height}`;
  }
  return undefined;
}

/** Width and height from a stored PNG's header, or undefined when it is not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } | undefined {
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE)) return undefined;
  if (png.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
