// `xdplab inspect` end to end; expected figures are capinfos's (hand-checked once:
// ahcp.pcapng holds 8 Ethernet packets, 1384070382.537363 .. 1384070410.149315).
import { describe, it, expect } from "vitest";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { CORPUS, ROOT, xdplab } from "../cli.js";
import { PcapWriter, memorySink } from "../../capture/encode.js";
import { buildFrame } from "../../sim/packet/build.js";
import { LINKTYPE_ETHERNET } from "../../sim/packet/linktypes.js";

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

  it("a reader that closes the pipe early ends the listing quietly (no EPIPE trace)", () => {
    // 20,000 packets ≈ 1.6 MB of lines: far more than a pipe buffer, so the writer is
    // still writing when `head` exits and closes the pipe.
    const dir = mkdtempSync(path.join(tmpdir(), "xdplab-epipe-"));
    const file = path.join(dir, "many.pcap");
    const sink = memorySink();
    const w = new PcapWriter(sink, LINKTYPE_ETHERNET);
    const f = buildFrame({ eth: { src: "02:00:00:00:01:0a", dst: "02:00:00:00:01:01" }, ip: { version: 4, src: "198.18.1.10", dst: "198.19.2.7", ttl: 64 }, udp: { sport: 1000, dport: 9 }, payload: new Uint8Array(16) });
    for (let i = 0; i < 20_000; i++) w.writePacket(BigInt(i) * 1000n, f, 0, f.length);
    w.close();
    writeFileSync(file, sink.bytes());
    const sh = spawnSync("bash", ["-c", `set -o pipefail; node "${path.join(ROOT, "bin", "xdplab")}" inspect "${file}" --packets | head -n 1`], { encoding: "utf8" });
    expect(sh.stdout).toMatch(/^\s+0 \S+ if0 198\.18\.1\.10:1000 > 198\.19\.2\.7:9 UDP/);
    expect(sh.stderr).toBe("");
    expect(sh.status).toBe(0);
  });

  it("usage errors exit 2", () => {
    expect(xdplab(["inspect"]).code).toBe(2);
    expect(xdplab(["inspect", "a", "--bogus"]).code).toBe(2);
  });
});
