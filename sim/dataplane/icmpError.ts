// Translation of ICMP / ICMPv6 errors that quote a packet of a NATed session (Linux
// nf_nat_icmp_reply_translation / nf_nat_icmpv6_reply_translation): the quoted tuple,
// swapped, is looked up like a packet of the error's own direction; the quoted packet is
// turned back into the tuple its sender used and the outer header follows it. Checksums:
// the quoted IPv4 header checksum and the quoted L4 checksum are updated incrementally —
// the L4 one only as Linux's l4proto manip does it (TCP only when the whole 20-byte header
// is quoted, UDP when non-zero, ICMP/ICMPv6 always); the error's own checksum covers the
// quoted changes (and, for ICMPv6, the outer pseudo-header), the outer IPv4 checksum the
// outer address change.
import { fold16, sum16 } from "../packet/checksum.js";
import { KEY_WORDS } from "./reverseIndex.js";
import { F_DNAT, F_SNAT } from "./session.js";
import { icmpHasId, packKey } from "./nat.js";
import type { NatEngine } from "./nat.js";

const key = new Uint32Array(KEY_WORDS);

function be16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/**
 * Rewrite the address at buf[off, off+alen) to key words k[kw…], updating the checksums at
 * c1 and c2 (-1: none) word by word. Returns whether anything changed.
 */
function setAddr(nat: NatEngine, buf: Uint8Array, off: number, alen: number, k: Uint32Array, kw: number, c1: number, c2: number): boolean {
  let changed = false;
  for (let w = 0; w < alen / 2; w++) {
    const word = k[kw + (w >>> 1)] as number;
    const nv = (w & 1) === 0 ? word >>> 16 : word & 0xffff;
    const ov = be16(buf, off + w * 2);
    if (ov === nv) continue;
    changed = true;
    if (c1 >= 0) put16(buf, c1, nat.cs(be16(buf, c1), ov, nv));
    if (c2 >= 0) put16(buf, c2, nat.cs(be16(buf, c2), ov, nv));
    put16(buf, off + w * 2, nv);
  }
  return changed;
}

function setWord(nat: NatEngine, buf: Uint8Array, off: number, nv: number, c: number): void {
  const ov = be16(buf, off);
  if (ov === nv) return;
  if (c >= 0) put16(buf, c, nat.cs(be16(buf, c), ov, nv));
  put16(buf, off, nv);
}

// The quote of the error being translated, as parseQuote found it.
let qOff = 0;
let qSrc = 0;
let qDst = 0;
let qProto = 0;
let qL4 = 0;
let qAlen = 0;

/** Locates the quoted packet of the error at l4Off; false when it is too short or not translatable. */
function parseQuote(buf: Uint8Array, fam: number, l4Off: number, end: number): boolean {
  const q = l4Off + 8;
  qOff = q;
  if (fam === 4) {
    if (q + 20 > end) return false;
    const vihl = buf[q] as number;
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >>> 4 !== 4 || ihl < 20 || q + ihl > end) return false;
    if ((be16(buf, q + 6) & 0x1fff) !== 0) return false;
    qProto = buf[q + 9] as number;
    qSrc = q + 12;
    qDst = q + 16;
    qL4 = q + ihl;
    qAlen = 4;
  } else {
    // quoted extension headers are not walked (docs/nat.md)
    if (q + 40 > end || (buf[q] as number) >>> 4 !== 6) return false;
    qProto = buf[q + 6] as number;
    qSrc = q + 8;
    qDst = q + 24;
    qL4 = q + 40;
    qAlen = 16;
  }
  const isIcmp = (qProto === 1 && fam === 4) || (qProto === 58 && fam === 6);
  // Linux: the 8 bytes conntrack needs are missing
  if ((qProto === 6 || qProto === 17 || isIcmp) && end - qL4 < 8) return false;
  return true;
}

/**
 * Translate the ICMP error whose outer IP header is at l3 and ICMP header at l4Off
 * (packet ends at end) if it quotes a packet of a live session. Returns sid*4 + the
 * error's direction (0 original, 1 reply), or -1 when nothing matched (frame untouched).
 */
export function translateIcmpError(nat: NatEngine, buf: Uint8Array, l3: number, fam: number, l4Off: number, end: number, nowNs: number): number {
  if (!parseQuote(buf, fam, l4Off, end)) return -1;
  const qproto = qProto;
  const ql4 = qL4;
  const isIcmp = (qproto === 1 && fam === 4) || (qproto === 58 && fam === 6);
  let sport = 0;
  let dport = 0;
  if (qproto === 6 || qproto === 17) {
    sport = be16(buf, ql4);
    dport = be16(buf, ql4 + 2);
  } else if (isIcmp) {
    if (icmpHasId(fam, buf[ql4] as number)) sport = be16(buf, ql4 + 4);
  }
  // The quote is a packet of the other direction: swap it to get this error's direction.
  if (nat.bEmbeddedNoSwap) packKey(buf, qSrc, qDst, fam, qproto, sport, dport, key, 0);
  else if (isIcmp) packKey(buf, qDst, qSrc, fam, qproto, sport, 0, key, 0);
  else packKey(buf, qDst, qSrc, fam, qproto, dport, sport, key, 0);
  const st = nat.sessions;
  const v = st.lookup(key, 0, nowNs);
  if (v < 0) return -1;
  const sid = v >>> 2;
  const dir = v & 3;
  const fl = st.flags[sid] as number;
  const snat = (fl & F_SNAT) !== 0;
  const dnat = (fl & F_DNAT) !== 0;
  const innerSrc = dir === 1 ? snat : dnat;
  const innerDst = dir === 1 ? dnat : snat;
  if (!innerSrc && !innerDst) return v;
  // T: the tuple the quoted packet had where it was sent
  rewriteQuote(nat, buf, l3, fam, l4Off, end, dir === 1 ? st.orig : st.reply, sid * KEY_WORDS, innerSrc, innerDst);
  return v;
}

/**
 * The error the router generated about the first packet of a new DNAT flow, before any
 * session exists: Linux attaches that packet's (unconfirmed) conntrack to the error
 * (nf_ct_attach in icmp_send) and NATs it at POSTROUTING, so the quote gets back the
 * destination the sender used — address and port of k, the packet's tuple as it arrived —
 * and the outer source follows it.
 */
export function untranslateNewDnatError(nat: NatEngine, buf: Uint8Array, l3: number, fam: number, l4Off: number, end: number, k: Uint32Array): void {
  if (parseQuote(buf, fam, l4Off, end)) rewriteQuote(nat, buf, l3, fam, l4Off, end, k, 0, false, true);
}

/**
 * Rewrites the quote parseQuote found to tuple T[tb…] (its source side when innerSrc, its
 * destination side when innerDst), then the outer addresses; every checksum incrementally.
 */
function rewriteQuote(nat: NatEngine, buf: Uint8Array, l3: number, fam: number, l4Off: number, end: number, T: Uint32Array, tb: number, innerSrc: boolean, innerDst: boolean): void {
  const q = qOff;
  const qproto = qProto;
  const ql4 = qL4;
  const alen = qAlen;
  const isIcmp = (qproto === 1 && fam === 4) || (qproto === 58 && fam === 6);
  const regionEnd = Math.min(end, ql4 + 20);
  const before = fold16(sum16(buf, q, regionEnd - q, 0));
  const qipc = fam === 4 ? q + 10 : -1;
  let ql4c = -1;
  let pseudo = false;
  if (qproto === 6 && end - ql4 >= 20) {
    ql4c = ql4 + 16;
    pseudo = true;
  } else if (qproto === 17 && be16(buf, ql4 + 6) !== 0) {
    ql4c = ql4 + 6;
    pseudo = true;
  } else if (isIcmp) {
    ql4c = ql4 + 2;
    pseudo = fam === 6;
  }
  const pc = pseudo ? ql4c : -1;
  if (innerSrc) {
    setAddr(nat, buf, qSrc, alen, T, tb, qipc, pc);
    const tp = T[tb + 8] as number;
    if (qproto === 6 || qproto === 17) setWord(nat, buf, ql4, tp >>> 16, ql4c);
    else if (isIcmp && icmpHasId(fam, buf[ql4] as number)) setWord(nat, buf, ql4 + 4, tp >>> 16, ql4c);
  }
  if (innerDst) {
    setAddr(nat, buf, qDst, alen, T, tb + 4, qipc, pc);
    const tp = T[tb + 8] as number;
    if (qproto === 6 || qproto === 17) setWord(nat, buf, ql4 + 2, tp & 0xffff, ql4c);
  }
  if (qproto === 17 && ql4c >= 0 && be16(buf, ql4c) === 0) put16(buf, ql4c, 0xffff);
  const after = fold16(sum16(buf, q, regionEnd - q, 0));
  const ic = l4Off + 2;
  if (before !== after) put16(buf, ic, nat.cs(be16(buf, ic), before, after));
  // outer header
  const osrc = fam === 4 ? l3 + 12 : l3 + 8;
  const oipc = fam === 4 ? l3 + 10 : -1;
  const opc = fam === 6 ? ic : -1;
  if (innerSrc && setAddr(nat, buf, osrc + alen, alen, T, tb, oipc, opc)) nat.dstChanged = true;
  if (innerDst && setAddr(nat, buf, osrc, alen, T, tb + 4, oipc, opc)) nat.srcChanged = true;
}
