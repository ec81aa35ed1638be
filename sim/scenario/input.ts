// Capture records → InputPackets: which scenario interface each packet enters on, which
// RX queue, at what model time, and an Ethernet frame for every link type the lab
// decodes. Pure: bin/scenario-file.ts reads the file and feeds records one by one.
//
// Mapping rules (docs/scenario.md "Captures"): an override iface (traffic.iface or
// --iface) takes every packet; cooked captures (SLL2 from `tcpdump -i any`) map by
// ifindex through traffic.ifindex and keep only incoming copies; pcapng interfaces map
// by if_name; a classic pcap with a one-interface scenario goes to that interface.
import { InputError } from "../errors.js";
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  isDecodableLinkType,
  linkTypeName,
} from "../packet/linktypes.js";
import { SUPPLIED_SRC_MAC } from "./defaults.js";
import { InputPackets } from "./packets.js";
import { rxQueueFor } from "./queue.js";
import type { Scenario } from "./types.js";

export { InputPackets } from "./packets.js";

/** One capture record as the reader hands it out; `data` is only valid during add(). */
export interface CaptureRecord {
  data: Uint8Array;
  offset: number;
  caplen: number;
  origLen: number;
  linkType: number;
  /** pcapng interface name (if_name), null for classic pcap or when absent */
  ifName: string | null;
  /** absolute capture time in ns, or null when the record has none (pcapng SPB) */
  tsNs: bigint | null;
  /** record index in the capture */
  index: number;
  /** RX queue recorded with the packet (pcapng epb_queue), when there is one */
  queue: number | null;
}

/** What happened to the capture on the way in; part of the run summary. */
export interface InputInfo {
  capture: string | null;
  packets: number;
  /** records not replayed, by cause (only causes that occurred) */
  skipped: Record<string, number>;
  /** records whose timestamp went backwards and were moved up to the previous one */
  clamped: number;
  /** records without a timestamp (given the previous record's time) */
  untimed: number;
  truncatedAt: number | null;
}

/** Why a record is not replayed (keys of InputInfo.skipped). */
export const SKIP = {
  outgoing: "outgoing", // SLL/SLL2 packet type 4: the copy the router sent
  notIncoming: "not_incoming", // SLL/SLL2 packet types 5-7 (loopback, user, kernel)
  unmappedIfindex: "unmapped_ifindex", // SLL2 ifindex not in traffic.ifindex
  noIfindex: "sll_without_ifindex", // SLL v1 carries no ifindex: needs traffic.iface
  unmappedInterface: "unmapped_interface", // pcapng if_name that is no scenario interface
  notIp: "not_ip", // raw-IP record whose version nibble is neither 4 nor 6
  shortHeader: "short_header", // record shorter than its link-layer header
  notEthertype: "not_ethertype", // cooked protocol field below 0x0600 (802.2 / 802.3 frames)
  queueOutOfRange: "queue_out_of_range", // recorded queue ≥ the interface's queues: hashed instead (still replayed)
} as const;

// Linux packet types (include/uapi/linux/if_packet.h)
const PACKET_OTHERHOST = 3;
const PACKET_OUTGOING = 4;
const PACKET_BROADCAST = 1;
const PACKET_MULTICAST = 2;

const SUPPORTED = [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2]
  .map((lt) => `${linkTypeName(lt)} (${lt})`)
  .join(", ");

export interface InputOptions {
  /** capture path, for messages and InputInfo */
  file: string;
  /** every packet on this iface index (CLI --iface or traffic.iface) */
  iface: number | null;
  /** the capture is classic pcap (no interface names) */
  classic: boolean;
}

export class InputBuilder {
  readonly out = new InputPackets(1024, 1 << 20);
  private readonly skipped = new Map<string, number>();
  private clamped = 0;
  private untimed = 0;
  private lastT = 0;
  private started = false;
  private readonly byName = new Map<string, number>();
  private readonly hdr = new Uint8Array(14);

  constructor(
    private readonly scn: Scenario,
    private readonly opts: InputOptions,
  ) {
    for (const ifc of scn.interfaces) this.byName.set(ifc.name, ifc.index);
    if (opts.iface === null && opts.classic && scn.interfaces.length > 1 && scn.traffic.ifindex.size === 0) {
      throw new InputError(
        opts.file,
        null,
        `a classic pcap names no interfaces and the scenario has ${scn.interfaces.length}; set traffic.iface or pass --iface <name> (one of ${scn.interfaces.map((i) => i.name).join(", ")})`,
      );
    }
  }

  private skip(cause: string): void {
    this.skipped.set(cause, (this.skipped.get(cause) ?? 0) + 1);
  }

  /** Adds one record (or counts why it is skipped). */
  add(r: CaptureRecord): void {
    const lt = r.linkType;
    const cooked = lt === LINKTYPE_LINUX_SLL || lt === LINKTYPE_LINUX_SLL2;
    if (!isDecodableLinkType(lt)) {
      throw new InputError(this.opts.file, null, `record ${r.index}: link type ${linkTypeName(lt)} (${lt}) cannot be replayed; supported link types are ${SUPPORTED}`);
    }
    const d = r.data;
    const o = r.offset;
    let iface = this.opts.iface;
    let payloadOff = 0; // bytes of link header dropped
    let ethType = -1; // EtherType to write when a header is synthesized; -1 = keep the frame
    let srcMacAt = -1; // offset in d of a 6-byte source MAC from the cooked header
    let pktType = 0;
    if (cooked) {
      const hl = lt === LINKTYPE_LINUX_SLL2 ? 20 : 16;
      if (r.caplen < hl) return this.skip(SKIP.shortHeader);
      let halen: number;
      if (lt === LINKTYPE_LINUX_SLL2) {
        ethType = (d[o]! << 8) | d[o + 1]!;
        const ifindex = ((d[o + 4]! << 24) | (d[o + 5]! << 16) | (d[o + 6]! << 8) | d[o + 7]!) >>> 0;
        pktType = d[o + 10]!;
        halen = d[o + 11]!;
        if (halen === 6) srcMacAt = o + 12;
        if (iface === null) {
          const m = this.scn.traffic.ifindex.get(ifindex);
          if (m === undefined) {
            if (pktType === PACKET_OUTGOING) return this.skip(SKIP.outgoing);
            return this.skip(SKIP.unmappedIfindex);
          }
          iface = m;
        }
      } else {
        pktType = (d[o]! << 8) | d[o + 1]!;
        halen = (d[o + 4]! << 8) | d[o + 5]!;
        if (halen === 6) srcMacAt = o + 6;
        ethType = (d[o + 14]! << 8) | d[o + 15]!;
        if (iface === null) {
          if (pktType === PACKET_OUTGOING) return this.skip(SKIP.outgoing);
          return this.skip(SKIP.noIfindex);
        }
      }
      if (pktType === PACKET_OUTGOING) return this.skip(SKIP.outgoing);
      if (pktType > PACKET_OUTGOING) return this.skip(SKIP.notIncoming);
      if (ethType < 0x0600) return this.skip(SKIP.notEthertype);
      payloadOff = hl;
    } else {
      if (iface === null) {
        if (r.ifName !== null) {
          const m = this.byName.get(r.ifName);
          if (m === undefined) return this.skip(SKIP.unmappedInterface);
          iface = m;
        } else if (this.scn.interfaces.length === 1) iface = 0;
        else return this.skip(SKIP.unmappedInterface);
      }
      if (lt === LINKTYPE_ETHERNET) {
        if (r.caplen < 14) return this.skip(SKIP.shortHeader);
      } else {
        if (r.caplen < 1) return this.skip(SKIP.shortHeader);
        const v = d[o]! >> 4;
        if (lt === LINKTYPE_IPV4 || (lt === LINKTYPE_RAW && v === 4)) ethType = 0x0800;
        else if (lt === LINKTYPE_IPV6 || (lt === LINKTYPE_RAW && v === 6)) ethType = 0x86dd;
        else return this.skip(SKIP.notIp);
      }
    }
    const ifc = this.scn.interfaces[iface]!;

    // Model time: ns since the first replayed record, never decreasing.
    let t: number;
    if (r.tsNs === null) {
      this.untimed++;
      t = this.lastT;
    } else {
      if (!this.started) {
        this.started = true;
        this.out.epochNs = r.tsNs;
      }
      t = Number(r.tsNs - this.out.epochNs);
      if (t < this.lastT) {
        this.clamped++;
        t = this.lastT;
      }
    }
    this.lastT = t;

    // The frame: Ethernet as captured, or a synthesized Ethernet header + the L3 bytes.
    const body = r.caplen - payloadOff;
    const synth = ethType >= 0;
    const len = synth ? 14 + body : r.caplen;
    const i = this.out.reserve(len);
    const at = this.out.off[i]!;
    const buf = this.out.data;
    if (synth) {
      const h = this.hdr;
      this.dstMacFor(h, pktType, ifc.mac, d, o + payloadOff, body, ethType);
      if (srcMacAt >= 0) h.set(d.subarray(srcMacAt, srcMacAt + 6), 6);
      else h.set(SUPPLIED_SRC_MAC, 6);
      h[12] = ethType >> 8;
      h[13] = ethType & 0xff;
      buf.set(h, at);
      buf.set(d.subarray(o + payloadOff, o + r.caplen), at + 14);
    } else {
      buf.set(d.subarray(o, o + r.caplen), at);
      if (this.scn.traffic.macs === "supply") buf.set(ifc.mac, at);
    }
    this.out.origLen[i] = synth ? r.origLen - payloadOff + 14 : r.origLen;
    this.out.tNs[i] = t;
    this.out.iface[i] = iface;
    this.out.captureIndex[i] = r.index;
    let q = -1;
    if (ifc.queues === 1) q = 0;
    else if (r.queue !== null) {
      if (r.queue < ifc.queues) q = r.queue;
      else this.skip(SKIP.queueOutOfRange);
    }
    this.out.queue[i] = q >= 0 ? q : rxQueueFor(buf, at, len, ifc.queues);
  }

  /**
   * Destination MAC of a cooked record. The kernel's packet type says what the lost
   * address was: broadcast → ff:…:ff, multicast → the IP group's MAC (RFC 1112 / RFC 2464),
   * anything else → the ingress interface's own MAC (the router received it).
   */
  private dstMacFor(h: Uint8Array, pktType: number, own: Uint8Array, d: Uint8Array, l3: number, l3len: number, ethType: number): void {
    if (pktType === PACKET_BROADCAST) {
      h.fill(0xff, 0, 6);
      return;
    }
    if (pktType === PACKET_MULTICAST) {
      if (ethType === 0x0800 && l3len >= 20) {
        h[0] = 0x01;
        h[1] = 0x00;
        h[2] = 0x5e;
        h[3] = d[l3 + 17]! & 0x7f;
        h[4] = d[l3 + 18]!;
        h[5] = d[l3 + 19]!;
        return;
      }
      if (ethType === 0x86dd && l3len >= 40) {
        h[0] = 0x33;
        h[1] = 0x33;
        h.set(d.subarray(l3 + 36, l3 + 40), 2);
        return;
      }
    }
    void PACKET_OTHERHOST; // otherhost: the original address is gone; the router's own is supplied (documented)
    h.set(own, 0);
  }

  finish(truncatedAt: number | null): { input: InputPackets; info: InputInfo } {
    const skipped: Record<string, number> = {};
    for (const k of Object.values(SKIP)) {
      const n = this.skipped.get(k);
      if (n !== undefined) skipped[k] = n;
    }
    return {
      input: this.out,
      info: { capture: this.opts.file, packets: this.out.count, skipped, clamped: this.clamped, untimed: this.untimed, truncatedAt },
    };
  }
}

/** Convenience for tests and small inputs: all records at once. */
export function buildInput(scn: Scenario, records: Iterable<CaptureRecord>, opts: InputOptions): { input: InputPackets; info: InputInfo } {
  const b = new InputBuilder(scn, opts);
  for (const r of records) b.add(r);
  return b.finish(null);
}
