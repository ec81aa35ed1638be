// Address helpers the scenario validator needs on top of sim/packet/addr.ts (which owns
// the text forms): IfAddr construction, prefix masking and containment.
import { formatIp as fmtIp, formatMac as fmtMac, parseCidr as pCidr, parseIp as pIp, parseMac } from "../packet/addr.js";
import type { Family, IfAddr } from "./types.js";

export { parseMac };

export function parseIp(s: string): { family: Family; bytes: Uint8Array } | null {
  return pIp(s);
}

export function formatIp(b: Uint8Array): string {
  return fmtIp(b, 0, b.length === 4 ? 4 : 16);
}

export function formatMac(b: Uint8Array): string {
  return fmtMac(b, 0);
}

/** "198.18.1.1/24" → IfAddr; a bare address gets the full-length prefix. Host bits are kept. */
export function parseCidr(s: string): IfAddr | null {
  const c = pCidr(s);
  if (c === null) return null;
  return { family: c.family, bytes: c.bytes, prefixLen: c.prefixLen, text: `${formatIp(c.bytes)}/${c.prefixLen}` };
}

/** A copy of `b` with the bits past `len` cleared. */
export function maskPrefix(b: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(b);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, len - 8 * i));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export function hasHostBits(b: Uint8Array, len: number): boolean {
  const m = maskPrefix(b, len);
  for (let i = 0; i < b.length; i++) if (m[i] !== b[i]) return true;
  return false;
}

export function prefixContains(prefix: Uint8Array, len: number, ip: Uint8Array): boolean {
  if (prefix.length !== ip.length) return false;
  const a = maskPrefix(prefix, len);
  const b = maskPrefix(ip, len);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
