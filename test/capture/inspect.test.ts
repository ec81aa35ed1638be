// `xdplab inspect` end to end; expected figures are capinfos's (hand-checked once:
// ahcp.pcapng holds 8 Ethernet packets, 1384070382.537363 .. 1384070410.149315).
import { describe, it, expect } from "vitest";
import path from "node:path";
import { CORPUS, xdplab } from "../cli.js";

describe("xdplab inspect", () => {
  it("--json summary", () => {
    const r = xdplab(["inspect", path.join(CORPUS, "ahcp.pcapng"), "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ packets: 8, linkTypes: { EN10MB: 8 }, firstNs: "1384070382537363000", lastNs: "1384070410149315000", truncatedAt: null });
    expect(j.first).toBe("2013-11-10T07:59:42.537363000Z");
    expect(j.interfaces.reduce((a: number, i: { packets: number }) => a + i.packets, 0)).toBe(8);
  });

  it("--packets --json gives one entry per packet in order", () => {
    const r = xdplab(["inspect", path.join(CORPUS, "tcp-handshake-nano.pcap"), "--packets", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.packetList.map((p: { i: number; t: string; len: number }) => [p.i, p.t, p.len])).toEqual([
      [0, "2014-12-09T17:16:09.924505488Z", 76],
      [1, "2014-12-09T17:16:10.052027262Z", 76],
      [2, "2014-12-09T17:16:10.052115157Z", 68],
    ]);
    for (const p of j.packetList) expect(typeof p.summary).toBe("string");
  });

  it("text --packets: one line per packet, then the summary", () => {
    const r = xdplab(["inspect", path.join(CORPUS, "pptp.pcap"), "--packets"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => /^\s+\d+ \d{4}-/.test(l));
    expect(lines.length).toBe(23);
    expect(r.stdout).toContain("packets:     23");
  });

  it("usage errors exit 2", () => {
    expect(xdplab(["inspect"]).code).toBe(2);
    expect(xdplab(["inspect", "a", "--bogus"]).code).toBe(2);
  });
});
