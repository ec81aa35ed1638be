// tshark (an independent dissector) with checksum validation on, over every output capture
// of a replay: no bad checksum the input did not already have. Forwarded packets are
// matched to their input by fields routing does not change (addresses, IP ID, ports, TCP
// sequence, lengths); an ICMP error the router generated must have a good outer IP and
// ICMP checksum, and its quoted headers may be bad only where the quoted input was.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapngWriter, memorySink } from "../../capture/encode.js";
import { LINKTYPE_ETHERNET } from "../../sim/packet/linktypes.js";
import { buildFrame } from "../../sim/packet/build.js";
import type { FrameSpec } from "../../sim/packet/build.js";
import { ROOT, xdplab } from "../cli.js";
import { LAN_MAC, WAN_MAC, HOST_MAC, GW_MAC, dualStackInterfaces, dualStackNeighbors } from "./helpers.js";

const hasTshark = spawnSync("tshark", ["-v"]).status === 0;

const KEY_FIELDS = ["ip.src", "ip.dst", "ip.id", "ipv6.src", "ipv6.dst", "ipv6.plen", "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "icmp.ident", "icmp.seq", "icmpv6.echo.identifier", "icmpv6.echo.sequence_number"];
const STATUS = ["ip.checksum.status", "udp.checksum.status", "tcp.checksum.status", "icmp.checksum.status", "icmpv6.checksum.status"] as const;
const ERROR_TYPES4 = new Set(["3", "11", "12"]);
const ERROR_TYPES6 = new Set(["1", "2", "3", "4"]);
// Wireshark's proto_checksum_enum_e: 0 bad, 1 good, 2 unverified, 3 not present, 4 illegal.
const BAD = "0";

interface Dissected {
  /** field → every occurrence (outer first). */
  f: Map<string, string[]>;
}

function dissect(file: string): Dissected[] {
  const fields = [...KEY_FIELDS, ...STATUS, "icmp.type", "icmpv6.type"];
  const args = ["-r", file, "-n", "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"];
  for (const f of fields) args.push("-e", f);
  const r = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const cols = l.split("|");
      const f = new Map<string, string[]>();
      fields.forEach((name, i) => f.set(name, (cols[i] ?? "") === "" ? [] : (cols[i] ?? "").split(",")));
      return { f };
    });
}

/** Identity from the last occurrence of each key field: for a quoted packet, the quote. */
function keyOf(d: Dissected, skipOuter: boolean): string {
  return KEY_FIELDS.map((k) => {
    const v = d.f.get(k) ?? [];
    // A generated error's outer IP header is the router's own; its quote is the identity.
    const vals = skipOuter && (k.startsWith("ip.") || k.startsWith("ipv6.")) ? v.slice(1) : v;
    return vals[vals.length - 1] ?? "";
  }).join("|");
}

function badLayers(d: Dissected, skipOuter: boolean): string[] {
  const out: string[] = [];
  for (const s of STATUS) {
    let v = d.f.get(s) ?? [];
    if (skipOuter && (s === "ip.checksum.status" || s === "icmp.checksum.status" || s === "icmpv6.checksum.status")) v = v.slice(1);
    v.forEach((x, i) => {
      if (x === BAD) out.push(`${s}#${i}`);
    });
  }
  return out;
}

function isGeneratedError(d: Dissected): boolean {
  return ERROR_TYPES4.has(d.f.get("icmp.type")?.[0] ?? "") || ERROR_TYPES6.has(d.f.get("icmpv6.type")?.[0] ?? "");
}

/** Problems found in the outputs of `dir` against `inputFile`; also how much was checked. */
function audit(inputFile: string, dir: string): { problems: string[]; forwarded: number; errors: number; inputBad: number } {
  const inputBad = new Map<string, Set<string>>();
  let nInputBad = 0;
  for (const d of dissect(inputFile)) {
    const k = keyOf(d, false);
    const set = inputBad.get(k) ?? new Set<string>();
    const bad = badLayers(d, false);
    if (bad.length > 0) nInputBad++;
    bad.forEach((b) => set.add(b));
    inputBad.set(k, set);
  }
  const problems: string[] = [];
  let forwarded = 0;
  let errors = 0;
  const outputs = readdirSync(dir).filter((n) => n.endsWith(".pcapng") && n !== "drops.pcapng" && n !== "kernel.pcapng");
  for (const name of outputs) {
    dissect(path.join(dir, name)).forEach((d, i) => {
      const gen = isGeneratedError(d);
      if (gen) {
        errors++;
        for (const s of ["ip.checksum.status", "icmp.checksum.status", "icmpv6.checksum.status"]) {
          const outer = d.f.get(s)?.[0];
          if (outer === BAD) problems.push(`${name} #${i + 1}: generated ICMP error has a bad outer ${s}`);
        }
        const ipOuter = d.f.get("ip.checksum.status")?.[0] ?? d.f.get("icmpv6.checksum.status")?.[0];
        if (ipOuter === undefined) problems.push(`${name} #${i + 1}: generated ICMP error without a verified outer checksum`);
      } else forwarded++;
      const k = keyOf(d, gen);
      const allowed = inputBad.get(k);
      if (allowed === undefined) {
        problems.push(`${name} #${i + 1}: no input packet with identity ${k}`);
        return;
      }
      for (const b of badLayers(d, gen)) if (!allowed.has(b)) problems.push(`${name} #${i + 1}: ${b} is bad, the input's was not (${k})`);
    });
  }
  return { problems, forwarded, errors, inputBad: nInputBad };
}

// ---- a v6 (and mixed) variant of routed-basic, with some checksums already bad --------

function v6Case(dir: string): void {
  const scn = {
    name: "routed-v6",
    seed: 1,
    interfaces: dualStackInterfaces(),
    neighbors: dualStackNeighbors(),
    routes: [
      { prefix: "::/0", via: "2001:2:0:2::2", iface: "wan" },
      { prefix: "0.0.0.0/0", via: "198.19.2.2", iface: "wan" },
    ],
    timing: { linkBps: { wan: 1e9, lan: 1e9 }, drainNs: "2ms" },
    traffic: { pcap: "input.pcapng" },
  };
  writeFileSync(path.join(dir, "scenario.json"), JSON.stringify(scn, null, 2));
  const sink = memorySink();
  const w = new PcapngWriter(sink);
  const lan = w.addInterface("lan", LINKTYPE_ETHERNET);
  const wan = w.addInterface("wan", LINKTYPE_ETHERNET);
  const pay = (n: number, s: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + s) & 0xff);
  const out = (ip: FrameSpec["ip"], rest: Omit<FrameSpec, "ip" | "eth">): FrameSpec => ({ eth: { src: HOST_MAC, dst: LAN_MAC }, ip, ...rest });
  const back = (ip: FrameSpec["ip"], rest: Omit<FrameSpec, "ip" | "eth">): FrameSpec => ({ eth: { src: GW_MAC, dst: WAN_MAC }, ip, ...rest });
  const corrupt = (f: Uint8Array, at: number): Uint8Array => {
    f[at] = (f[at] ?? 0) ^ 0x33;
    return f;
  };
  const frames: Array<{ ifId: number; frame: Uint8Array }> = [];
  for (let i = 0; i < 60; i++) {
    const a = `2001:2:0:1::10`;
    const b = `2001:2:0:${100 + (i % 8)}::1`;
    const sp = 41000 + i;
    const k = i % 10;
    let f: Uint8Array;
    if (k === 0) f = buildFrame(out({ version: 6, src: a, dst: b }, { tcp: { sport: sp, dport: 443, seq: 1000 + i, flags: "S" } }));
    else if (k === 1) f = buildFrame(back({ version: 6, src: b, dst: a }, { tcp: { sport: 443, dport: sp, seq: 7000 + i, ack: 1, flags: "PA" }, payload: pay(200, i) }));
    else if (k === 2) f = buildFrame(out({ version: 6, src: a, dst: b }, { icmp: { type: 128, code: 0, id: 9, seq: i }, payload: pay(56, i) }));
    else if (k === 3) f = corrupt(buildFrame(out({ version: 6, src: a, dst: b }, { udp: { sport: sp, dport: 53 }, payload: pay(40, i) })), 14 + 40 + 6); // bad UDP checksum in the input
    else if (k === 4) f = buildFrame(out({ version: 6, src: a, dst: b, ttl: 1 }, { udp: { sport: sp, dport: 33434 }, payload: pay(30, i) })); // time exceeded
    else if (k === 5) f = buildFrame(out({ version: 6, src: a, dst: b }, { udp: { sport: sp, dport: 9 }, payload: pay(1400, i) })); // packet too big
    else if (k === 6) f = corrupt(buildFrame(out({ version: 6, src: a, dst: b, ttl: 1 }, { udp: { sport: sp, dport: 9 }, payload: pay(30, i) })), 14 + 40 + 6); // error quoting a bad checksum
    else if (k === 7) f = corrupt(buildFrame(back({ version: 6, src: b, dst: a }, { tcp: { sport: 443, dport: sp, seq: 9000 + i, flags: "A" }, payload: pay(100, i) })), 14 + 40 + 16); // bad TCP checksum
    else if (k === 8) f = buildFrame(out({ version: 4, src: "198.18.1.10", dst: "198.19.7.7", id: 0x500 + i }, { udp: { sport: sp, dport: 53 }, payload: pay(500, i) }));
    else f = corrupt(buildFrame(out({ version: 4, src: "198.18.1.10", dst: "198.19.7.7", id: 0x500 + i, ttl: 1 }, { udp: { sport: sp, dport: 9 }, payload: pay(30, i) })), 14 + 20 + 6);
    frames.push({ ifId: k === 1 || k === 7 ? wan : lan, frame: f });
  }
  frames.forEach((x, i) => w.writePacket(x.ifId, 1_700_000_000_000_000_000n + BigInt(i) * 20_000n, x.frame, 0, x.frame.length));
  w.close();
  writeFileSync(path.join(dir, "input.pcapng"), sink.bytes());
}

describe.skipIf(!hasTshark)("tshark checksum audit of replay outputs (needs tshark)", () => {
  it("routed-basic: no bad checksum in any output capture that the input did not have", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "xdplab-csum-"));
    const r = xdplab(["replay", path.join(ROOT, "traces/examples/routed-basic"), "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    const a = audit(path.join(ROOT, "traces/examples/routed-basic/input.pcapng"), dir);
    expect(a.problems).toEqual([]);
    // The scenario forwards most of its 500 packets and generates two ICMP errors.
    expect(a.forwarded).toBeGreaterThan(300);
    expect(a.errors).toBe(2);
  });

  it("v6 variant with bad input checksums: they stay bad, nothing else turns bad", () => {
    const caseDir = mkdtempSync(path.join(tmpdir(), "xdplab-csum6-case-"));
    v6Case(caseDir);
    const dir = mkdtempSync(path.join(tmpdir(), "xdplab-csum6-"));
    const r = xdplab(["replay", caseDir, "--out", dir]);
    expect(r.code, r.stderr).toBe(0);
    const a = audit(path.join(caseDir, "input.pcapng"), dir);
    expect(a.problems).toEqual([]);
    // 60 inputs: 6 of each of 10 kinds; kinds 4, 5, 6 (v6) and 9 (v4) produce errors.
    expect(a.errors).toBe(24);
    expect(a.forwarded).toBe(36);
    expect(a.inputBad).toBe(24);
  });

  it("the audit catches a checksum the router broke (self-test on a doctored output)", () => {
    const caseDir = mkdtempSync(path.join(tmpdir(), "xdplab-csum6-case-"));
    v6Case(caseDir);
    const dir = mkdtempSync(path.join(tmpdir(), "xdplab-csum6-"));
    expect(xdplab(["replay", caseDir, "--out", dir]).code).toBe(0);
    // Re-write wan.pcapng as a copy of the input whose first good packet is corrupted.
    const doctored = mkdtempSync(path.join(tmpdir(), "xdplab-csum6-bad-"));
    const inp = dissect(path.join(caseDir, "input.pcapng"));
    expect(inp.length).toBe(60);
    const sink = memorySink();
    const w = new PcapngWriter(sink);
    const id = w.addInterface("wan", LINKTYPE_ETHERNET);
    const f = buildFrame({ eth: { src: WAN_MAC, dst: GW_MAC }, ip: { version: 6, src: "2001:2:0:1::10", dst: "2001:2:0:100::1", ttl: 63 }, tcp: { sport: 41000, dport: 443, seq: 1000, flags: "S" } });
    f[14 + 40 + 17] = (f[14 + 40 + 17] ?? 0) ^ 1;
    w.writePacket(id, 1n, f, 0, f.length);
    w.close();
    writeFileSync(path.join(doctored, "wan.pcapng"), sink.bytes());
    const a = audit(path.join(caseDir, "input.pcapng"), doctored);
    expect(a.problems.length).toBe(1);
    expect(a.problems[0]).toMatch(/tcp\.checksum\.status#0 is bad/);
  });
});
