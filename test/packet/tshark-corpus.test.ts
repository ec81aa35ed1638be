// tshark as the oracle for decoded fields and checksum verdicts on real captures
// (Ethernet with VLAN/QinQ, IPv6 extension headers, ICMP errors, Linux cooked, raw IP).
// Where tshark reports a field our decoder must agree; frames we reject are skipped.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { CaptureReader } from "../../capture/reader.js";
import { PacketView, decode } from "../../sim/packet/view.js";
import { parseIp } from "../../sim/packet/addr.js";
import { CSUM_BAD, CSUM_GOOD, l4ChecksumState, verifyIpv4Header } from "../../sim/packet/checksum.js";
import { CORPUS } from "../cli.js";
import { hasTshark, tsharkFields } from "./tshark.js";

const FILES = [
  // Ethernet, VLAN, QinQ
  "ldp-common-session.pcap", "802.1ad_QinQ.pcap", "ipv4_tcp_http_xml.pcap", "bfd_source_port_49152.pcap",
  "bgp-4byte-asn.pcap", "mptcp-v0.pcap", "mptcp-aa-v1.pcap", "dns_tcp.pcap", "dns_udp.pcap", "of10_p3295.pcap",
  // ICMP errors, fragments, malformed
  "afs.pcap", "dhcp-rfc4388.pcap", "icmp-cksum-oobr-3.pcapng", "icmp-rfc8335.pcap", "babel_update_oobr.pcap",
  "icmp-icmp_print-oobr-1.pcap",
  // IPv6 and extension headers
  "icmpv6.pcap", "icmpv6-rfc7112.pcap", "OSPFv3_with_AH.pcap", "ipv6-routing-header.pcap", "ipv6-srh-ext-header.pcap",
  "dcb_ets.pcap", "gso-ipv6.pcap", "icmp6-rfc8335.pcap",
  // Linux cooked v1
  "babel.pcap", "icmp-cksum-oobr-1.pcap", "bgp-orf.pcapng", "RADIUS-RFC4675.pcap", "bgp-infinite-loop.pcap",
  // raw IP link types 101, 228, 229
  "LINKTYPE_IPV4.pcap", "LINKTYPE_IPV6.pcap", "LINKTYPE_RAW_ipv4.pcap", "LINKTYPE_RAW_ipv6.pcap", "ipv6_mobility_1.pcap",
  "babel_rtt.pcap", "bgp-addpath.pcap",
];

const FIELDS = [
  "vlan.id", "ieee8021ad.id", "ip.src", "ip.dst", "ip.ttl", "ipv6.src", "ipv6.dst", "ipv6.hlim",
  "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "icmp.type", "icmpv6.type",
  "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status", "icmp.checksum.status", "icmpv6.checksum.status",
];
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<string, number>;

function sameAddr(ours: Uint8Array, off: number, len: number, theirs: string | undefined): boolean {
  const a = theirs === undefined ? null : parseIp(theirs);
  if (!a || a.bytes.length !== len) return false;
  for (let i = 0; i < len; i++) if (a.bytes[i] !== ours[off + i]) return false;
  return true;
}

describe.skipIf(!hasTshark())("decoded fields agree with tshark on corpus files", () => {
  const stats = { frames: 0, compared: 0, ports: 0, v6: 0, vlan: 0, inner: 0, ipCsum: 0, l4Csum: 0, l4Bad: 0 };
  for (const name of FILES) {
    it(name, () => {
      const file = path.join(CORPUS, name);
      const rows = tsharkFields(file, FIELDS);
      const r = CaptureReader.open(file);
      const v = new PacketView();
      let i = 0;
      try {
        while (r.next()) {
          const row = rows[i++];
          expect(row, `${name} frame ${i}: tshark has no row`).toBeDefined();
          stats.frames++;
          if (decode(v, r.data, r.offset, r.caplen, r.linkType & 0xffff) !== 0) continue;
          const t = (f: string): string[] => (row as string[][])[F[f] as number] ?? [];
          const where = `${name} frame ${i}`;
          stats.compared++;
          // tshark names 802.1Q tags vlan.id and 802.1ad (S-)tags ieee8021ad.id.
          const q = t("vlan.id");
          const ad = t("ieee8021ad.id");
          let qi = 0;
          let adi = 0;
          for (let k = 0; k < v.vlanCount; k++) {
            stats.vlan++;
            const tpid = k === 0 ? v.vlanTpid0 : v.vlanTpid1;
            const tci = k === 0 ? v.vlanTci0 : v.vlanTci1;
            const theirs = tpid === 0x88a8 ? ad[adi++] : q[qi++];
            expect(theirs, `${where} vlan tag ${k}`).toBe(String(tci & 0xfff));
          }
          if (v.ipVersion === 4) {
            expect(sameAddr(r.data, v.srcOff, 4, t("ip.src")[0]), `${where} ip.src ${t("ip.src")[0]}`).toBe(true);
            expect(sameAddr(r.data, v.dstOff, 4, t("ip.dst")[0]), where).toBe(true);
            expect(t("ip.ttl")[0], where).toBe(String(v.ttl));
            const st = t("ip.checksum.status")[0];
            if (st === "0" || st === "1") {
              stats.ipCsum++;
              expect(verifyIpv4Header(r.data, v), `${where} ip checksum`).toBe(st === "1");
            }
          } else if (v.ipVersion === 6) {
            stats.v6++;
            expect(sameAddr(r.data, v.srcOff, 16, t("ipv6.src")[0]), `${where} ipv6.src ${t("ipv6.src")[0]}`).toBe(true);
            expect(sameAddr(r.data, v.dstOff, 16, t("ipv6.dst")[0]), where).toBe(true);
            expect(t("ipv6.hlim")[0], where).toBe(String(v.ttl));
          }
          const l4 = v.ipProto === 6 ? "tcp" : v.ipProto === 17 ? "udp" : v.ipProto === 1 ? "icmp" : v.ipProto === 58 ? "icmpv6" : "";
          if ((l4 === "tcp" || l4 === "udp") && v.srcPort >= 0) {
            stats.ports++;
            expect(t(`${l4}.srcport`)[0], `${where} ${l4}.srcport`).toBe(String(v.srcPort));
            expect(t(`${l4}.dstport`)[0], where).toBe(String(v.dstPort));
          }
          if ((l4 === "icmp" || l4 === "icmpv6") && v.icmpType >= 0) expect(t(`${l4}.type`)[0], where).toBe(String(v.icmpType));
          if (v.inner !== null) {
            // The quoted packet is the second IP header tshark shows.
            stats.inner++;
            const fam = v.ipVersion === 4 ? "ip" : "ipv6";
            expect(sameAddr(r.data, v.inner.srcOff, v.inner.addrLen, t(`${fam}.src`)[1]), `${where} inner src`).toBe(true);
            expect(sameAddr(r.data, v.inner.dstOff, v.inner.addrLen, t(`${fam}.dst`)[1]), `${where} inner dst`).toBe(true);
          }
          const st = l4 === "" ? undefined : t(`${l4}.checksum.status`)[0];
          const ours = l4ChecksumState(r.data, v);
          if ((st === "0" || st === "1") && (ours === CSUM_GOOD || ours === CSUM_BAD)) {
            stats.l4Csum++;
            if (st === "0") stats.l4Bad++;
            expect(ours, `${where} ${l4} checksum (tshark status ${st})`).toBe(st === "1" ? CSUM_GOOD : CSUM_BAD);
          }
        }
      } finally {
        r.close();
      }
      expect(i, `${name}: tshark saw more frames`).toBe(rows.length);
    });
  }
  it("covered what it claims to", () => {
    expect(stats.compared).toBeGreaterThan(1000);
    expect(stats.vlan).toBeGreaterThan(5);
    expect(stats.v6).toBeGreaterThan(50);
    expect(stats.inner).toBeGreaterThan(0);
    expect(stats.ports).toBeGreaterThan(500);
    expect(stats.ipCsum).toBeGreaterThan(500);
    expect(stats.l4Csum).toBeGreaterThan(500);
    expect(stats.l4Bad).toBeGreaterThan(0);
  });
});
