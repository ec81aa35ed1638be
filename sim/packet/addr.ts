// Text forms of IP and MAC addresses (cold path: scenarios, reports, tests).
// IPv6 output follows RFC 5952 (lowercase, longest zero run compressed, first on a tie,
// a single zero group never compressed, IPv4-mapped addresses in dotted form).

export interface IpAddr {
  family: 4 | 6;
  bytes: Uint8Array;
}
export interface Cidr extends IpAddr {
  prefixLen: number;
}

function parseV4Into(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    // Leading zeros are refused: inet_aton would read them as octal.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const v = Number(p);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

function parseV6(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const dbl = s.indexOf("::");
  if (dbl !== s.lastIndexOf("::")) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const groups = part.split(":");
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] as string;
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = new Uint8Array(4);
        if (!parseV4Into(g, v4, 0)) return null;
        words.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      words.push(parseInt(g, 16));
    }
    return words;
  };
  let words: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail) return null;
    // A tail holding the dotted quad must sit at the end; "::" must stand for at least one group.
    if (head.length + tail.length > 7) return null;
    if (s.slice(0, dbl).includes(".")) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all || all.length !== 8) return null;
    words = all;
  }
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  return out;
}

/** Parse a dotted IPv4 or an IPv6 address (with "::" and an embedded dotted IPv4). */
export function parseIp(s: string): IpAddr | null {
  if (typeof s !== "string") return null;
  if (s.includes(":")) {
    const b = parseV6(s);
    return b ? { family: 6, bytes: b } : null;
  }
  const b = new Uint8Array(4);
  return parseV4Into(s, b, 0) ? { family: 4, bytes: b } : null;
}

/** Parse "addr/len" (a bare address is a host prefix). Host bits may be set; callers mask if they need to. */
export function parseCidr(s: string): Cidr | null {
  if (typeof s !== "string") return null;
  const slash = s.indexOf("/");
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ...ip, prefixLen: max };
  const p = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
  const n = Number(p);
  if (n > max) return null;
  return { ...ip, prefixLen: n };
}

function formatV4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** Format the 4- or 16-byte address at buf[off]. */
export function formatIp(buf: Uint8Array, off: number, len: 4 | 16): string {
  if (len === 4) return formatV4(buf, off);
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((((buf[off + 2 * i] as number) << 8) | (buf[off + 2 * i + 1] as number)));
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 §5).
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatV4(buf, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number): string => w.slice(a, b).map((x) => x.toString(16)).join(":");
  if (bestLen < 2) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Parse "aa:bb:cc:dd:ee:ff" (also with "-" separators). */
export function parseMac(s: string): Uint8Array | null {
  if (typeof s !== "string") return null;
  const m = /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(s);
  if (!m) return null;
  const out = new Uint8Array(6);
  const idx = [1, 3, 4, 5, 6, 7];
  for (let i = 0; i < 6; i++) out[i] = parseInt(m[idx[i] as number] as string, 16);
  return out;
}

export function formatMac(buf: Uint8Array, off: number): string {
  let s = "";
  for (let i = 0; i < 6; i++) {
    const b = (buf[off + i] as number) ?? 0;
    s += (i ? ":" : "") + (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}
