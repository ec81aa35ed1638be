// Address hygiene of live runs (DESIGN §8): only the benchmarking ranges 198.18.0.0/15
// and 2001:2::/48, or the documentation range 2001:db8::/32, may be configured or sent.
// Also the small text conversions `ip` needs (it takes addresses as text).
import { InputError } from "../sim/errors.js";

interface Range {
  family: 4 | 6;
  bytes: number[];
  len: number;
  text: string;
}

const LAB_RANGES: readonly Range[] = [
  { family: 4, bytes: [198, 18, 0, 0], len: 15, text: "198.18.0.0/15" },
  { family: 6, bytes: [0x20, 0x01, 0x00, 0x02, 0x00, 0x00], len: 48, text: "2001:2::/48" },
  { family: 6, bytes: [0x20, 0x01, 0x0d, 0xb8], len: 32, text: "2001:db8::/32" },
];

export const LAB_RANGES_TEXT = LAB_RANGES.map((r) => r.text).join(", ");

function prefixMatches(addr: Uint8Array, prefix: readonly number[], len: number): boolean {
  for (let bit = 0; bit < len; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((addr[byte] ?? 0) & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** True when every address of `addr`/`prefixLen` lies inside one lab range. */
export function isLabAddress(family: 4 | 6, addr: Uint8Array, prefixLen = family === 4 ? 32 : 128): boolean {
  if (addr.length !== (family === 4 ? 4 : 16)) return false;
  return LAB_RANGES.some((r) => r.family === family && prefixLen >= r.len && prefixMatches(addr, r.bytes, r.len));
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length !== 16) throw new Error(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":");
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Accepts "02:00:00:00:01:01" or 6 bytes; refuses group (multicast) addresses. */
export function parseMac(mac: Uint8Array | string, file: string, field: string): Uint8Array {
  let out: Uint8Array;
  if (typeof mac === "string") {
    const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(mac);
    if (m === null) throw new InputError(file, field, `expected a MAC address like 02:00:00:00:01:01, found '${mac}'`);
    out = Uint8Array.from(m.slice(1), (h) => parseInt(h, 16));
  } else {
    if (mac.length !== 6) throw new InputError(file, field, `expected a 6-byte MAC address, found ${mac.length} bytes`);
    out = Uint8Array.from(mac);
  }
  if (((out[0] ?? 0) & 1) !== 0) throw new InputError(file, field, `${formatMac(out)} is a group (multicast) address; an interface needs a unicast MAC`);
  return out;
}

/** Throws an InputError unless the address (or the whole prefix) lies in a lab range. */
export function requireLabAddress(family: 4 | 6, addr: Uint8Array, prefixLen: number | undefined, file: string, field: string): void {
  if (!isLabAddress(family, addr, prefixLen)) {
    const shown = formatIp(addr) + (prefixLen === undefined ? "" : `/${prefixLen}`);
    throw new InputError(file, field, `live runs use only ${LAB_RANGES_TEXT}; found ${shown}`);
  }
}

/**
 * The EtherType of an Ethernet frame after up to two VLAN tags (802.1Q / 802.1ad) and
 * the offset of what it carries. Bytes past the end read as 0.
 */
export function etherPayload(frame: Uint8Array): { type: number; off: number } {
  let off = 12;
  let type = ((frame[off] ?? 0) << 8) | (frame[off + 1] ?? 0);
  for (let tags = 0; tags < 2 && (type === 0x8100 || type === 0x88a8); tags++) {
    off += 4;
    type = ((frame[off] ?? 0) << 8) | (frame[off + 1] ?? 0);
  }
  return { type, off: off + 2 };
}

/**
 * The outer IP source and destination of an Ethernet frame (after up to two VLAN tags),
 * or null when the frame is not IP. Used to refuse input frames with foreign addresses.
 */
export function frameAddresses(frame: Uint8Array): { family: 4 | 6; src: Uint8Array; dst: Uint8Array } | null {
  const { type, off } = etherPayload(frame);
  if (type === 0x0800 && frame.length >= off + 20) return { family: 4, src: frame.subarray(off + 12, off + 16), dst: frame.subarray(off + 16, off + 20) };
  if (type === 0x86dd && frame.length >= off + 40) return { family: 6, src: frame.subarray(off + 8, off + 24), dst: frame.subarray(off + 24, off + 40) };
  return null;
}
