// The shim's BPF maps as the real program has them (bpf/ mirrors these names): the
// control map, the bindings map keyed by (ifindex, queue), the session-steering map of
// 5-tuples the worker publishes, and the local-address set. The XSKMAP itself is
// sim/xsk/xskmap.ts. All tables are typed arrays sized at construction; lookups do not
// allocate.

/** Control map (one entry, like a BPF array map of size 1). */
export class ControlMap {
  armed = false;
  abiVersion = 0;
  configGen = 1;
  fibGen = 1;
  /** Virtual time of the worker's last heartbeat. */
  heartbeatNs = 0;
  heartbeatTimeoutNs = 0;
  strict = false;
}

/**
 * Bindings map: (ifindex, queue) → { slot, ready }. Keyed by iface index (dense, 0..n-1)
 * and queue rather than by ifindex, since model ifindex = index + 2.
 */
export class BindingsMap {
  readonly maxQueues: number;
  readonly present: Uint8Array;
  readonly slot: Int32Array;
  readonly ready: Uint8Array;

  constructor(ifaces: number, maxQueues: number) {
    this.maxQueues = maxQueues;
    this.present = new Uint8Array(ifaces * maxQueues);
    this.slot = new Int32Array(ifaces * maxQueues).fill(-1);
    this.ready = new Uint8Array(ifaces * maxQueues);
  }

  key(iface: number, queue: number): number {
    return iface * this.maxQueues + queue;
  }

  set(iface: number, queue: number, slot: number, ready: boolean): void {
    const k = this.key(iface, queue);
    this.present[k] = 1;
    this.slot[k] = slot;
    this.ready[k] = ready ? 1 : 0;
  }

  setReady(iface: number, queue: number, ready: boolean): void {
    this.ready[this.key(iface, queue)] = ready ? 1 : 0;
  }

  /** The `bindings_zeroed` fault: every entry gone, as after a map re-creation. */
  clear(): void {
    this.present.fill(0);
    this.slot.fill(-1);
    this.ready.fill(0);
  }
}

/**
 * Session-steering map: 5-tuples (proto, src, dst, sport, dport) the worker publishes for
 * flows it owns, so the shim steers their packets to userspace even when the
 * destination is one of the router's own addresses (SNAT replies). Open addressing over
 * typed arrays; keys are 37 bytes (proto, 16+16 address bytes, 2+2 ports).
 */
export const SESSION_KEY_LEN = 37;

export class SessionSteeringMap {
  readonly capacity: number;
  private readonly keys: Uint8Array;
  private readonly used: Uint8Array;
  private readonly scratch = new Uint8Array(SESSION_KEY_LEN);
  count = 0;
  /** Inserts refused because the table was full (the "overflow" of CATALOGUE A). */
  overflows = 0;

  constructor(capacity: number) {
    let c = 16;
    while (c < capacity * 2) c *= 2;
    this.capacity = c;
    this.keys = new Uint8Array(c * SESSION_KEY_LEN);
    this.used = new Uint8Array(c);
  }

  private fill(proto: number, buf: Uint8Array, srcOff: number, dstOff: number, addrLen: number, sport: number, dport: number): void {
    const k = this.scratch;
    k.fill(0);
    k[0] = proto;
    for (let i = 0; i < addrLen; i++) {
      k[1 + i] = buf[srcOff + i]!;
      k[17 + i] = buf[dstOff + i]!;
    }
    k[33] = sport >>> 8;
    k[34] = sport & 0xff;
    k[35] = dport >>> 8;
    k[36] = dport & 0xff;
  }

  private hash(): number {
    // FNV-1a over the key; only used for slot choice, so quality needs are modest.
    let h = 0x811c9dc5;
    const k = this.scratch;
    for (let i = 0; i < SESSION_KEY_LEN; i++) h = Math.imul(h ^ k[i]!, 0x01000193);
    return h >>> 0;
  }

  private find(insert: boolean): number {
    const mask = this.capacity - 1;
    let i = this.hash() & mask;
    const k = this.scratch;
    for (let probe = 0; probe < this.capacity; probe++) {
      if (this.used[i] === 0) return insert ? i : -1;
      const base = i * SESSION_KEY_LEN;
      let eq = true;
      for (let j = 0; j < SESSION_KEY_LEN; j++) {
        if (this.keys[base + j] !== k[j]) {
          eq = false;
          break;
        }
      }
      if (eq) return i;
      i = (i + 1) & mask;
    }
    return -1;
  }

  has(proto: number, buf: Uint8Array, srcOff: number, dstOff: number, addrLen: number, sport: number, dport: number): boolean {
    if (this.count === 0) return false;
    this.fill(proto, buf, srcOff, dstOff, addrLen, sport, dport);
    return this.find(false) >= 0;
  }

  /** Returns false (and counts an overflow) when the table is at half capacity. */
  add(proto: number, buf: Uint8Array, srcOff: number, dstOff: number, addrLen: number, sport: number, dport: number): boolean {
    this.fill(proto, buf, srcOff, dstOff, addrLen, sport, dport);
    return this.insertScratch();
  }

  /** Adds a key already in the shim's 37-byte layout (the worker's publish path). */
  addKey(key: Uint8Array): boolean {
    this.scratch.set(key.subarray(0, SESSION_KEY_LEN));
    return this.insertScratch();
  }

  private insertScratch(): boolean {
    const i = this.find(true);
    if (i < 0) return false;
    if (this.used[i] === 1) return true;
    if (this.count * 2 >= this.capacity) {
      this.overflows++;
      return false;
    }
    this.used[i] = 1;
    this.keys.set(this.scratch, i * SESSION_KEY_LEN);
    this.count++;
    return true;
  }

  /** Removes a key (37-byte layout); false when absent. Like bpf_map_delete_elem. */
  removeKey(key: Uint8Array): boolean {
    this.scratch.set(key.subarray(0, SESSION_KEY_LEN));
    return this.removeScratch();
  }

  remove(proto: number, buf: Uint8Array, srcOff: number, dstOff: number, addrLen: number, sport: number, dport: number): boolean {
    this.fill(proto, buf, srcOff, dstOff, addrLen, sport, dport);
    return this.removeScratch();
  }

  private removeScratch(): boolean {
    if (this.count === 0) return false;
    let i = this.find(false);
    if (i < 0) return false;
    // Backward-shift deletion: later entries of the probe run move into the hole, so no
    // lookup ever stops early at it and no tombstones accumulate.
    const mask = this.capacity - 1;
    const L = SESSION_KEY_LEN;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.used[j] === 0) break;
      this.scratch.set(this.keys.subarray(j * L, j * L + L));
      const home = this.hash() & mask;
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      this.keys.copyWithin(i * L, j * L, j * L + L);
      i = j;
    }
    this.used[i] = 0;
    this.keys.fill(0, i * L, i * L + L);
    this.count--;
    return true;
  }

  clear(): void {
    this.used.fill(0);
    this.count = 0;
  }
}

/** The router's own addresses (every interface address), as 16-byte rows. */
export class LocalAddrs {
  private readonly rows: Uint8Array;
  private readonly lens: Uint8Array;
  readonly count: number;

  constructor(addrs: ReadonlyArray<{ bytes: Uint8Array }>) {
    this.count = addrs.length;
    this.rows = new Uint8Array(Math.max(1, addrs.length) * 16);
    this.lens = new Uint8Array(Math.max(1, addrs.length));
    addrs.forEach((a, i) => {
      this.rows.set(a.bytes, i * 16);
      this.lens[i] = a.bytes.length;
    });
  }

  has(buf: Uint8Array, off: number, len: number): boolean {
    for (let i = 0; i < this.count; i++) {
      if (this.lens[i] !== len) continue;
      const b = i * 16;
      let eq = true;
      for (let j = 0; j < len; j++) {
        if (this.rows[b + j] !== buf[off + j]) {
          eq = false;
          break;
        }
      }
      if (eq) return true;
    }
    return false;
  }
}
