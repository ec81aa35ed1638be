// The generated ICMP errors decoded by tshark (an independent dissector): checksums
// reported good, type/code/MTU as intended, and the quoted packet recognised as the
// original (its addresses and UDP ports).
import { describe, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PacketView } from "../../sim/packet/view.js";
import { LINKTYPE_ETHERNET } from "../../sim/packet/linktypes.js";
import { PcapWriter, memorySink } from "../../capture/encode.js";
import { Dataplane, DP_ICMP_ERROR } from "../../sim/dataplane/dataplane.js";
import { frame4, frame6, scenario } from "./helpers.js";

const hasTshark = spawnSync("tshark", ["-v"]).status === 0;

function errorsFor(frames: Uint8Array[]): Uint8Array[] {
  const view = new PacketView();
  const out: Uint8Array[] = [];
  for (const f of frames) {
    const dp = new Dataplane(scenario());
    const buf = Uint8Array.from(f);
    expect(dp.process(buf, 0, buf.length, view, 0, 0)).toBe(DP_ICMP_ERROR);
    out.push(dp.genBuf.slice(0, dp.genLen));
  }
  return out;
}

function tshark(frames: Uint8Array[], fields: string[]): string[][] {
  const sink = memorySink();
  const w = new PcapWriter(sink, LINKTYPE_ETHERNET);
  frames.forEach((f, i) => w.writePacket(BigInt(i + 1) * 1000n, f, 0, f.length));
  w.close();
  const file = path.join(mkdtempSync(path.join(tmpdir(), "xdplab-dp-")), "icmp.pcap");
  writeFileSync(file, sink.bytes());
  const args = ["-r", file, "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"];
  for (const f of fields) args.push("-e", f);
  const r = spawnSync("tshark", args, { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").map((l) => l.split("|"));
}

describe.skipIf(!hasTshark)("ICMP errors decoded by tshark", () => {
  test("IPv4 time exceeded and fragmentation needed", () => {
    const big = Array.from({ length: 1400 }, (_, i) => i & 0xff);
    const frames = errorsFor([frame4({ ttl: 1 }), frame4({ payload: big })]);
    const rows = tshark(frames, ["ip.checksum.status", "icmp.checksum.status", "icmp.type", "icmp.code", "icmp.mtu", "ip.src", "ip.dst", "udp.dstport", "ip.len"]);
    expect(rows[0]).toEqual(["1,1", "1", "11", "0", "", "198.18.1.1,198.18.1.10", "198.18.1.10,198.19.3.3", "2000", "64,36"]);
    expect(rows[1]).toEqual(["1,1", "1", "3", "4", "1400", "198.18.1.1,198.18.1.10", "198.18.1.10,198.19.3.3", "2000", "576,1428"]);
  });

  test("ICMPv6 time exceeded and packet too big", () => {
    const frames = errorsFor([frame6({ hop: 1 }), frame6({ l4: [0x03, 0xe8, 0x07, 0xd0, 0x05, 0x8c, 0, 0, ...Array(1420 - 8).fill(0x5a)] })]);
    const rows = tshark(frames, ["icmpv6.checksum.status", "icmpv6.type", "icmpv6.code", "icmpv6.mtu", "ipv6.src", "ipv6.dst", "udp.dstport", "ipv6.plen"]);
    expect(rows[0]).toEqual(["1", "3", "0", "", "2001:2:0:1::1,2001:2:0:1::10", "2001:2:0:1::10,2001:2:0:3::3", "2000", "64,16"]);
    expect(rows[1]).toEqual(["1", "2", "0", "1400", "2001:2:0:1::1,2001:2:0:1::10", "2001:2:0:1::10,2001:2:0:3::3", "2000", "1240,1420"]);
  });
});
