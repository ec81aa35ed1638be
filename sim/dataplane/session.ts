// The session table: one row per flow in parallel typed-array columns (original and
// translated-reply keys, protocol state, flags, expiry), a free list, the reverse-NAT
// index over the rows (reverseIndex.ts), the TCP/UDP/ICMP/other state and timeouts
// (Linux nf_conntrack defaults, docs/nat.md), and the log of session-steering keys the
// worker publishes to the shim. Pure and allocation-free per packet.
import { KeyIndex, KEY_WORDS, KIND_CANON, KIND_FWD, KIND_REV, hashKey, invertKey } from "./reverseIndex.js";

const S = 1_000_000_000;
// TCP states (the subset of nf_conntrack_proto_tcp's that closing needs)
export const TCP_NONE = 0;
export const TCP_SYN_SENT = 1;
export const TCP_SYN_RECV = 2;
export const TCP_ESTABLISHED = 3;
export const TCP_FIN_WAIT = 4;
export const TCP_CLOSE_WAIT = 5;
export const TCP_LAST_ACK = 6;
export const TCP_TIME_WAIT = 7;
export const TCP_CLOSE = 8;
export const TCP_STATE_NAMES = ["none", "syn_sent", "syn_recv", "established", "fin_wait", "close_wait", "last_ack", "time_wait", "close"];

/** Linux's nf_conntrack_tcp_timeout_* defaults, indexed by TCP state (ns). */
export const TCP_TIMEOUT_NS: readonly number[] = [0, 120 * S, 60 * S, 432000 * S, 120 * S, 60 * S, 30 * S, 120 * S, 10 * S];
/** nf_conntrack_udp_timeout / udp_timeout_stream. */
export const UDP_TIMEOUT_NS = 30 * S;
export const UDP_STREAM_TIMEOUT_NS = 120 * S;
/** nf_conntrack_icmp_timeout / icmpv6_timeout. */
export const ICMP_TIMEOUT_NS = 30 * S;
/** nf_conntrack_generic_timeout. */
export const GENERIC_TIMEOUT_NS = 600 * S;

// flags
export const F_SNAT = 1; // the original source (address or port) was translated
export const F_DNAT = 2; // the original destination was translated
export const F_SEEN_REPLY = 4;
const F_FIN_ORIG = 8;
const F_FIN_REPLY = 16;
export const F_LIVE = 32;
export const F_PUB_FWD = 64; // the forward wire key is published to the shim
export const F_PUB_REV = 128; // the reverse wire key is published to the shim

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;

export const STEER_ADD = 1;
export const STEER_REMOVE = 2;

export interface SessionBugs {
  noReverseIndex: boolean;
  reverseIndexOverwrite: boolean;
  rstTearsDown: boolean;
}

export class SessionTable {
  readonly capacity: number;
  /** Original-direction key per session (KEY_WORDS words). */
  readonly orig: Uint32Array;
  /** Reply-direction key as it arrives on the wire (after the translation of the original). */
  readonly reply: Uint32Array;
  readonly state: Uint8Array;
  readonly flags: Uint8Array;
  readonly expires: Float64Array;
  readonly egressIf: Int16Array;
  /** Incremented at every install of a row, so a stale reference (fragments) is detected. */
  readonly gen: Uint32Array;
  private readonly hFwd: Uint32Array;
  private readonly hRev: Uint32Array;
  private readonly hCanon: Uint32Array;
  private readonly freeList: Int32Array;
  private freeTop: number;
  /** Forward and reverse wire keys: one namespace, as netfilter's one conntrack hash. */
  readonly wire: KeyIndex;
  /** Reverse canonical keys. */
  readonly canon: KeyIndex;
  live = 0;
  /** Sessions installed / removed (expired, torn down) since the start. */
  installs = 0;
  removals = 0;
  private readonly scratch = new Uint32Array(KEY_WORDS);
  private expireCursor = 0;
  // A lower bound of expires[] over live rows, so the timer can skip passes that would
  // remove nothing: every write to expires[] lowers it; expire() re-tightens it to the
  // minimum seen over each complete sweep of the cursor (plus writes made meanwhile).
  private expiresLow = Infinity;
  private sweepLow = Infinity;
  private sweepLeft: number;

  // steering log: keys added/removed since the worker last drained it
  private steerOps: Uint8Array;
  private steerKeys: Uint32Array;
  steerCount = 0;

  constructor(capacity: number, private readonly bugs: SessionBugs) {
    this.capacity = capacity;
    this.orig = new Uint32Array(capacity * KEY_WORDS);
    this.reply = new Uint32Array(capacity * KEY_WORDS);
    this.state = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.expires = new Float64Array(capacity);
    this.egressIf = new Int16Array(capacity);
    this.gen = new Uint32Array(capacity);
    this.hFwd = new Uint32Array(capacity);
    this.hRev = new Uint32Array(capacity);
    this.hCanon = new Uint32Array(capacity);
    this.freeList = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeList[i] = capacity - 1 - i; // pop gives 0, 1, 2…
    this.freeTop = capacity;
    this.sweepLeft = capacity;
    this.wire = new KeyIndex(capacity * 2, this.orig, this.reply);
    this.canon = new KeyIndex(capacity, this.orig, this.reply);
    this.steerOps = new Uint8Array(256);
    this.steerKeys = new Uint32Array(256 * KEY_WORDS);
  }

  /** sid*4 + kind of the live session whose forward or reverse wire key is k[o…]; -1 on a miss. Expired sessions are reaped. */
  lookup(k: Uint32Array, o: number, nowNs: number): number {
    if (this.live === 0) return -1;
    const v = this.wire.find(k, o, hashKey(k, o));
    if (v < 0) return -1;
    const sid = v >>> 2;
    if ((this.expires[sid] as number) <= nowNs) {
      this.remove(sid);
      return -1;
    }
    return v;
  }

  /** Is k[o…] the wire key of a live session (Linux nf_conntrack_tuple_taken; expired ones are reaped)? */
  taken(k: Uint32Array, o: number, nowNs: number): boolean {
    return this.lookup(k, o, nowNs) >= 0;
  }

  /** sid of the session whose reverse canonical key is k[o…], or -1. */
  lookupCanonical(k: Uint32Array, o: number): number {
    const v = this.canon.find(k, o, hashKey(k, o));
    return v < 0 ? -1 : v >>> 2;
  }

  /**
   * Install a session from the original key o[oo…] and the reply key r[ro…]. Returns its
   * sid, or -1 when the table is full. publish: F_PUB_FWD | F_PUB_REV for the wire keys
   * the shim must see (destination is a router address).
   */
  install(o: Uint32Array, oo: number, r: Uint32Array, ro: number, natFlags: number, publish: number, egressIf: number, initState: number, nowNs: number): number {
    if (this.freeTop === 0) return -1;
    const sid = this.freeList[--this.freeTop] as number;
    const b = sid * KEY_WORDS;
    for (let j = 0; j < KEY_WORDS; j++) {
      this.orig[b + j] = o[oo + j] as number;
      this.reply[b + j] = r[ro + j] as number;
    }
    const hf = hashKey(this.orig, b);
    const hr = hashKey(this.reply, b);
    invertKey(this.orig, b, this.scratch, 0);
    const hc = hashKey(this.scratch, 0);
    this.hFwd[sid] = hf;
    this.hRev[sid] = hr;
    this.hCanon[sid] = hc;
    this.flags[sid] = natFlags | F_LIVE | publish;
    this.egressIf[sid] = egressIf;
    this.gen[sid] = (this.gen[sid] as number) + 1;
    const proto = ((this.orig[b + 9] as number) >>> 8) & 0xff;
    this.state[sid] = proto === 6 ? initState : 0;
    const e = nowNs + this.timeout(sid, proto);
    this.expires[sid] = e;
    if (e < this.expiresLow) this.expiresLow = e;
    if (e < this.sweepLow) this.sweepLow = e;
    this.wire.insert(this.orig, b, hf, sid * 4 + KIND_FWD);
    if (!this.bugs.noReverseIndex) {
      if (this.bugs.reverseIndexOverwrite) this.wire.put(this.reply, b, hr, sid * 4 + KIND_REV);
      else this.wire.insert(this.reply, b, hr, sid * 4 + KIND_REV);
    }
    this.canon.insert(this.scratch, 0, hc, sid * 4 + KIND_CANON);
    this.live++;
    this.installs++;
    if (publish & F_PUB_FWD) this.logSteer(STEER_ADD, this.orig, b);
    if (publish & F_PUB_REV) this.logSteer(STEER_ADD, this.reply, b);
    return sid;
  }

  remove(sid: number): void {
    const fl = this.flags[sid] as number;
    if ((fl & F_LIVE) === 0) return;
    this.wire.removeVal(this.hFwd[sid] as number, sid * 4 + KIND_FWD);
    this.wire.removeVal(this.hRev[sid] as number, sid * 4 + KIND_REV);
    this.canon.removeVal(this.hCanon[sid] as number, sid * 4 + KIND_CANON);
    const b = sid * KEY_WORDS;
    if (fl & F_PUB_FWD) this.logSteer(STEER_REMOVE, this.orig, b);
    if (fl & F_PUB_REV) this.logSteer(STEER_REMOVE, this.reply, b);
    this.flags[sid] = 0;
    this.freeList[this.freeTop++] = sid;
    if (--this.live === 0) this.expiresLow = Infinity;
    this.removals++;
  }

  private timeout(sid: number, proto: number): number {
    if (proto === 6) return TCP_TIMEOUT_NS[this.state[sid] as number] as number;
    if (proto === 17) return ((this.flags[sid] as number) & F_SEEN_REPLY) !== 0 ? UDP_STREAM_TIMEOUT_NS : UDP_TIMEOUT_NS;
    if (proto === 1 || proto === 58) return ICMP_TIMEOUT_NS;
    return GENERIC_TIMEOUT_NS;
  }

  /**
   * A packet of session sid in direction dir (0 original, 1 reply) with TCP flags
   * tcpFlags (-1 for other protocols): advance the state and refresh the timer.
   * Returns false when the session was torn down (bug `rstTearsDown`).
   */
  touch(sid: number, dir: number, tcpFlags: number, nowNs: number): boolean {
    const b = sid * KEY_WORDS;
    const proto = ((this.orig[b + 9] as number) >>> 8) & 0xff;
    let fl = this.flags[sid] as number;
    if (dir === 1) fl |= F_SEEN_REPLY;
    if (proto === 6 && tcpFlags >= 0) {
      let st = this.state[sid] as number;
      if (tcpFlags & TH_RST) {
        if (this.bugs.rstTearsDown) {
          this.remove(sid);
          return false;
        }
        st = TCP_CLOSE;
      } else if ((tcpFlags & (TH_SYN | TH_ACK)) === TH_SYN) {
        if (dir === 0 && (st === TCP_TIME_WAIT || st === TCP_CLOSE || st === TCP_SYN_SENT)) {
          st = TCP_SYN_SENT; // a new incarnation on the same tuple reopens it (tcp_packet's sSS from sTW/sCL)
          fl &= ~(F_FIN_ORIG | F_FIN_REPLY | F_SEEN_REPLY);
        }
      } else if ((tcpFlags & (TH_SYN | TH_ACK)) === (TH_SYN | TH_ACK)) {
        if (dir === 1 && st === TCP_SYN_SENT) st = TCP_SYN_RECV;
      } else if (tcpFlags & TH_FIN) {
        if (st !== TCP_CLOSE && st !== TCP_TIME_WAIT) {
          fl |= dir === 0 ? F_FIN_ORIG : F_FIN_REPLY;
          if ((fl & (F_FIN_ORIG | F_FIN_REPLY)) === (F_FIN_ORIG | F_FIN_REPLY)) st = TCP_LAST_ACK;
          else st = dir === 0 ? TCP_FIN_WAIT : TCP_CLOSE_WAIT;
        }
      } else if (tcpFlags & TH_ACK) {
        if (st === TCP_SYN_RECV && dir === 0) st = TCP_ESTABLISHED;
        else if (st === TCP_LAST_ACK) st = TCP_TIME_WAIT;
      }
      this.state[sid] = st;
    }
    this.flags[sid] = fl;
    // A closing state's timer is not extended by more packets in it (CLOSE keeps its 10 s).
    const t = nowNs + this.timeout(sid, proto);
    if (!(proto === 6 && this.state[sid] === TCP_CLOSE && (this.expires[sid] as number) <= t && (tcpFlags & TH_RST) === 0)) {
      this.expires[sid] = t;
      if (t < this.expiresLow) this.expiresLow = t;
      if (t < this.sweepLow) this.sweepLow = t;
    }
    return true;
  }

  /**
   * Remove sessions whose timer ran out, scanning at most maxScan rows from a rotating
   * cursor (row order: deterministic). Returns the number removed.
   */
  expire(nowNs: number, maxScan: number = this.capacity): number {
    let n = 0;
    const cap = this.capacity;
    for (let i = 0; i < maxScan && i < cap; i++) {
      const sid = this.expireCursor;
      this.expireCursor = sid + 1 === cap ? 0 : sid + 1;
      if (((this.flags[sid] as number) & F_LIVE) !== 0) {
        const e = this.expires[sid] as number;
        if (e <= nowNs) {
          this.remove(sid);
          n++;
        } else if (e < this.sweepLow) this.sweepLow = e;
      }
      if (--this.sweepLeft === 0) {
        this.expiresLow = this.sweepLow;
        this.sweepLow = Infinity;
        this.sweepLeft = cap;
      }
    }
    return n;
  }

  /**
   * No live row expires before this time (Infinity when none is live): an expire() pass
   * at an earlier time removes nothing and only moves the cursor (skipExpire).
   */
  nextExpiryLow(): number {
    return this.live === 0 ? Infinity : this.expiresLow;
  }

  /** Accounts `passes` expire(…, maxScan) passes that would have removed nothing: the cursor moves as they would have moved it. */
  skipExpire(passes: number, maxScan: number = this.capacity): void {
    if (passes <= 0) return;
    const cap = this.capacity;
    const per = Math.min(maxScan, cap) % cap;
    this.expireCursor = (this.expireCursor + ((passes % cap) * per) % cap) % cap;
    // the rows those passes would have scanned were not seen: start a new sweep
    this.sweepLow = Infinity;
    this.sweepLeft = cap;
  }

  isLive(sid: number): boolean {
    return ((this.flags[sid] as number) & F_LIVE) !== 0;
  }

  /** Live session ids in row order (cold path: reports, tests). */
  liveIds(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.capacity; i++) if (((this.flags[i] as number) & F_LIVE) !== 0) out.push(i);
    return out;
  }

  private logSteer(op: number, k: Uint32Array, o: number): void {
    if (this.steerCount === this.steerOps.length) {
      // grows only when the worker does not drain (cold)
      const ops = new Uint8Array(this.steerOps.length * 2);
      ops.set(this.steerOps);
      const keys = new Uint32Array(this.steerKeys.length * 2);
      keys.set(this.steerKeys);
      this.steerOps = ops;
      this.steerKeys = keys;
    }
    const i = this.steerCount++;
    this.steerOps[i] = op;
    for (let j = 0; j < KEY_WORDS; j++) this.steerKeys[i * KEY_WORDS + j] = k[o + j] as number;
  }

  /** STEER_ADD | STEER_REMOVE of the i-th logged change. */
  steerOp(i: number): number {
    return this.steerOps[i] as number;
  }

  /**
   * The i-th logged key in the shim's 37-byte layout (proto, src[16], dst[16], sport,
   * dport, big-endian; IPv4 addresses in the first 4 bytes, rest zero). Returns the
   * address length (4 | 16).
   */
  steerKey(i: number, out: Uint8Array): number {
    const b = i * KEY_WORDS;
    const k = this.steerKeys;
    const w9 = k[b + 9] as number;
    out.fill(0, 0, 37);
    out[0] = (w9 >>> 8) & 0xff;
    for (let j = 0; j < 4; j++) {
      const s = k[b + j] as number;
      const d = k[b + 4 + j] as number;
      out[1 + j * 4] = s >>> 24;
      out[2 + j * 4] = (s >>> 16) & 0xff;
      out[3 + j * 4] = (s >>> 8) & 0xff;
      out[4 + j * 4] = s & 0xff;
      out[17 + j * 4] = d >>> 24;
      out[18 + j * 4] = (d >>> 16) & 0xff;
      out[19 + j * 4] = (d >>> 8) & 0xff;
      out[20 + j * 4] = d & 0xff;
    }
    const p = k[b + 8] as number;
    out[33] = p >>> 24;
    out[34] = (p >>> 16) & 0xff;
    out[35] = (p >>> 8) & 0xff;
    out[36] = p & 0xff;
    return (w9 & 0xff) === 4 ? 4 : 16;
  }

  steerClear(): void {
    this.steerCount = 0;
  }
}
