/**
 * Hostile GraphQL documents shared by the security tests and
 * bench/security.ts.
 */

/** `count` aliases of one root field (default: a profile lookup). */
export function aliasFlood(count: number, field = 'profile(distinctId: "x") { distinctId }'): string {
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
}

/**
 * A fragment bomb of about 1.2 KB: each of `levels` fragments spreads the
 * next `width` times, so the operation expands to width^levels selections
 * (5^14, about 6 billion) while every fragment is valid on its own.
 */
export function fragmentBomb(levels = 14, width = 5): string {
  const spreads = (n: number) => Array.from({ length: width }, () => `...F${n}`).join(' ');
  const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { project { id region } ${spreads(i + 1)} }`);
  fragments.push(`fragment F${levels} on Query { project { id region } }`);
  return `query Bomb { ...F0 }\n${fragments.join('\n')}`;
}

/**
 * The header of a masked binary WebSocket frame announcing `bytes` of payload (64-bit length form),
 * without the payload: a server that refuses on the header closes before any payload is sent.
 */
export function frameHeader(bytes: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x82; // FIN, binary
  header[1] = 0x80 | 127; // masked, 64-bit length follows
  header.writeBigUInt64BE(BigInt(bytes), 2);
  header.writeUInt32BE(0x01020304, 10); // masking key
  return header;
}
