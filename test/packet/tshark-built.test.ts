// Frames built here, written to a pcap by capture/encode.ts's PcapWriter, then read by
// tshark: tshark's fields and checksum verdicts are the oracle for what decode()
// reports on ICMP errors with (truncated) quotes, fragments, IPv4 options, IPv6
// extension headers, QinQ and SLL2 — shapes the corpus has few of.
import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildArp, buildFrame, buildIpPacket, wrapSll2 } from "../../sim/packet/build.js";
import type { FrameSpec } from "../../sim/packet/build.js";
import { PacketView, decode } from "../../sim/packet/view.js";
import { formatIp } from "../../sim/packet/addr.js";
import { CSUM_BAD, CSUM_GOOD, l4ChecksumState, verifyIpv4Header } from "../../sim/packet/checksum.js";
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2 } from "../../sim/packet/linktypes.js";
import { PcapWriter, memorySink } from "../../capture/encode.js";
import { hasTshark, tsharkFields } from "./tshark.js";

function writePcap(file: string, linkType: number, frames: Uint8Array[]): void {
  const sink = memorySink();
  const w = new PcapWriter(sink, linkType);
  frames.forEach((f, i) => w.writePacket(BigInt(i) * 1_000_000_000n, f, 0, f.length));
  w.close();
  writeFileSync(file, sink.bytes());
}

const pl = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
const tcp4: FrameSpec = { ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.2", ttl: 1, id: 0x1234 }, tcp: { sport: 40001, dport: 443, flags: "S", seq: 0xdeadbeef }, payload: pl(11) };
const udp6: FrameSpec = { ip: { version: 6, src: "2001:2:0:1::10", dst: "2001:db8::53", ttl: 1 }, udp: { sport: 5353, dport: 53 }, payload: pl(30) };

const SPECS: FrameSpec[] = [
  tcp4,
  { ...tcp4, vlans: [{ tpid: 0x88a8, vid: 300, pcp: 5 }, { vid: 42 }], badChecksum: true },
  { ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.2", options: new Uint8Array([0x94, 4, 0, 0]) }, udp: { sport: 1, dport: 2 }, payload: pl(3) },
  { ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.2", frag: { offset: 0, more: true } }, udp: { sport: 7, dport: 9 }, payload: pl(16) },
  { ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.2", frag: { offset: 24, more: false } }, udp: { sport: 7, dport: 9 }, payload: pl(16) },
  // ICMP time exceeded quoting 28 bytes (IP + 8 bytes of TCP), and one quoting only 24 (ports only... cut inside seq)
  { ip: { version: 4, src: "198.18.0.1", dst: "198.18.1.10" }, icmp: { type: 11, code: 0, quote: buildIpPacket(tcp4).subarray(0, 28) } },
  { ip: { version: 4, src: "198.18.0.1", dst: "198.18.1.10" }, icmp: { type: 3, code: 4, mtu: 1400, quote: buildIpPacket(tcp4) } },
  { ip: { version: 4, src: "198.18.0.1", dst: "198.18.1.10" }, icmp: { type: 8, code: 0, id: 77, seq: 3 }, payload: pl(9), badChecksum: true },
  udp6,
  { ...udp6, ip: { ...udp6.ip, ext: [{ type: "hop", data: new Uint8Array([5, 2, 0, 0]) }, { type: "dst" }, { type: "routing", routingType: 4, segmentsLeft: 0, data: new Uint8Array(20) }] } },
  { ...udp6, ip: { ...udp6.ip, frag: { offset: 0, more: true, id: 0xabcdef } } },
  { ip: { version: 6, src: "2001:db8::1", dst: "2001:2:0:1::10" }, icmp: { type: 3, code: 0, quote: buildIpPacket(udp6).subarray(0, 48) } },
  { ip: { version: 6, src: "2001:db8::1", dst: "2001:2:0:1::10" }, icmp: { type: 2, code: 0, mtu: 1280, quote: buildIpPacket(udp6) } },
  { ip: { version: 6, src: "2001:db8::1", dst: "2001:2:0:1::10", ext: [{ type: "ah", icv: new Uint8Array(12) }] }, icmp: { type: 128, code: 0, id: 5, seq: 6 } },
  { ...udp6, badChecksum: true },
];

const FIELDS = ["vlan.id", "ieee8021ad.id", "ip.src", "ip.dst", "ip.ttl", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
  "icmp.type", "icmpv6.type", "icmp.mtu", "icmpv6.mtu", "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "icmp.checksum.status", "icmpv6.checksum.status",
  "ip.frag_offset", "ipv6.fraghdr.offset", "ipv6.fraghdr.ident", "sll.ifindex", "arp.opcode", "tcp.seq_raw"];
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<string, number>;

describe.skipIf(!hasTshark())("built frames agree with tshark", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "xdplab-packet-"));
  for (const [lt, name] of [[LINKTYPE_ETHERNET, "ethernet"], [LINKTYPE_LINUX_SLL2, "sll2"]] as const) {
    it(name, () => {
      const frames = SPECS.map(buildFrame);
      frames.push(buildArp({ op: 1, senderMac: "02:00:00:00:01:01", senderIp: "198.18.1.1", targetIp: "198.18.1.10" }));
      const wire = lt === LINKTYPE_ETHERNET ? frames : frames.map((f, i) => wrapSll2(f, { ifindex: 10 + i }));
      const file = path.join(dir, `${name}.pcap`);
      writePcap(file, lt, wire);
      const rows = tsharkFields(file, FIELDS);
      expect(rows.length).toBe(wire.length);
      const v = new PacketView();
      let inner = 0;
      wire.forEach((b, i) => {
        const row = rows[i] as string[][];
        const t = (f: string): string[] => row[F[f] as number] ?? [];
        const at = `${name} frame ${i + 1}`;
        expect(decode(v, b, 0, b.length, lt), at).toBe(0);
        if (lt === LINKTYPE_LINUX_SLL2) expect(t("sll.ifindex")[0], at).toBe(String(v.sllIfindex));
        if (v.arpOp >= 0) {
          expect(t("arp.opcode")[0]).toBe(String(v.arpOp));
          return;
        }
        const fam = v.ipVersion === 4 ? "ip" : "ipv6";
        expect(t(`${fam}.src`)[0], at).toBe(formatIp(b, v.srcOff, v.addrLen as 4 | 16));
        expect(t(`${fam}.dst`)[0], at).toBe(formatIp(b, v.dstOff, v.addrLen as 4 | 16));
        if (v.vlanCount === 2) expect([t("ieee8021ad.id")[0], t("vlan.id")[0]], at).toEqual([String(v.vlanTci0 & 0xfff), String(v.vlanTci1 & 0xfff)]);
        const l4 = v.ipProto === 6 ? "tcp" : v.ipProto === 17 ? "udp" : v.ipProto === 1 ? "icmp" : "icmpv6";
        if (v.srcPort >= 0) expect([t(`${l4}.srcport`)[0], t(`${l4}.dstport`)[0]], at).toEqual([String(v.srcPort), String(v.dstPort)]);
        if (v.ipProto === 6) expect(t("tcp.seq_raw")[0], at).toBe(String(v.tcpSeq));
        if (v.isFragment === 1) {
          if (v.ipVersion === 4) expect(t("ip.frag_offset")[0], at).toBe(String(v.fragOffset / 8)); // tshark prints 8-byte units
          else expect([t("ipv6.fraghdr.offset")[0], Number(t("ipv6.fraghdr.ident")[0])], at).toEqual([String(v.fragOffset / 8), v.ipId]);
        }
        if (v.icmpType >= 0) expect(t(`${l4}.type`)[0], at).toBe(String(v.icmpType));
        if (v.icmpMtu >= 0) expect(t(`${l4}.mtu`)[0], at).toBe(String(v.icmpMtu));
        if (v.ipVersion === 4) expect(verifyIpv4Header(b, v), at).toBe(t("ip.checksum.status")[0] === "1");
        const st = t(`${l4}.checksum.status`)[0];
        const ours = l4ChecksumState(b, v);
        if (st === "0" || st === "1") expect(ours, `${at} ${l4} checksum`).toBe(st === "1" ? CSUM_GOOD : CSUM_BAD);
        if (v.inner !== null) {
          inner++;
          const iv = v.inner;
          expect(t(`${fam}.src`)[1], at).toBe(formatIp(b, iv.srcOff, iv.addrLen as 4 | 16));
          expect(t(`${fam}.dst`)[1], at).toBe(formatIp(b, iv.dstOff, iv.addrLen as 4 | 16));
          const il4 = iv.ipProto === 6 ? "tcp" : "udp";
          expect([t(`${il4}.srcport`).at(-1), t(`${il4}.dstport`).at(-1)], `${at} quoted ports`).toEqual([String(iv.srcPort), String(iv.dstPort)]);
          // tshark shows the quoted sequence number only when the quote holds a whole TCP header.
          const seq = t("tcp.seq_raw").at(-1);
          if (iv.ipProto === 6 && seq !== undefined) expect(seq, at).toBe(String(iv.tcpSeq));
        }
      });
      expect(inner).toBe(4);
    });
  }
});
