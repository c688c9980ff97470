/**
 * Rendezvous (highest-random-weight) hashing: a key belongs to the member
 * that scores highest for it. Every manager computes the same owner from the
 * same member list, and a member joining or leaving moves only its own share.
 */
export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const member of members) {
    const score = weight(member, key);
    if (score > bestScore || (score === bestScore && best !== undefined && member < best)) {
      best = member;
      bestScore = score;
    }
  }
  return best;
}

/** FNV-1a over member, a separator and key, then the murmur3 finaliser to spread the bits. */
function weight(member: string, key: string): number {
  let h = 0x811c9dc5;
  const mix = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  };
  mix(member);
  // A separator no id contains, so ("ab", "c") and ("a", "bc") score apart.
  h ^= 0xffff;
  h = Math.imul(h, 0x01000193);
  mix(key);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
