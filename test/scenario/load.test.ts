// Loading scenario files: JSON and YAML give the same scenario; syntax errors name the
// file and position; the generator is a pure function of the seed.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadScenarioFile, loadInput } from "../../bin/scenario-file.js";
import { InputError } from "../../sim/errors.js";
import { PcapWriter, memorySink } from "../../capture/encode.js";

const dir = mkdtempSync(path.join(tmpdir(), "xdplab-load-"));

const JSON_TEXT = `{
  "name": "gen",
  "seed": 7,
  "interfaces": [
    { "name": "lan", "mac": "02:00:00:00:01:01", "addrs": ["198.18.1.1/24", "2001:2:0:1::1/64"], "queues": 4 },
    { "name": "wan", "mac": "02:00:00:00:02:01", "addrs": ["198.19.2.1/24"] }
  ],
  "routes": [ { "prefix": "0.0.0.0/0", "via": "198.19.2.2", "iface": "wan" } ],
  "timing": { "linkBps": { "wan": 1e9 }, "drainNs": "20ms" },
  "faults": [ { "at": "10ms", "kind": "tx_stall", "iface": "wan", "for": "5ms" } ],
  "traffic": { "ifindex": { "2": "lan" }, "generator": { "flows": 8, "packets": 64, "pps": 100000, "sizes": [64, 128, 1514], "proto": "mix", "dst": "198.19.2.2" } }
}
`;

const YAML_TEXT = `# the same scenario in YAML
name: gen
seed: 7
interfaces:
  - name: lan
    mac: "02:00:00:00:01:01"
    addrs: [198.18.1.1/24, "2001:2:0:1::1/64"]
    queues: 4
  - { name: wan, mac: "02:00:00:00:02:01", addrs: [198.19.2.1/24] }
routes:
  - { prefix: 0.0.0.0/0, via: 198.19.2.2, iface: wan }
timing:
  linkBps: { wan: 1e9 }
  drainNs: 20ms
faults:
  - { at: 10ms, kind: tx_stall, iface: wan, for: 5ms }
traffic:
  ifindex: { 2: lan }
  generator: { flows: 8, packets: 64, pps: 100000, sizes: [64, 128, 1514], proto: mix, dst: 198.19.2.2 }
`;

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

function errOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("scenario files", () => {
  it("YAML and JSON load the same scenario", () => {
    const a = loadScenarioFile(write("s.json", JSON_TEXT));
    const b = loadScenarioFile(write("s.yaml", YAML_TEXT));
    const strip = (s: typeof a) => ({ ...s, file: "", traffic: { ...s.traffic, ifindex: [...s.traffic.ifindex] } });
    expect(strip(b)).toEqual(strip(a));
    expect(a.timing.drainNs).toBe(20_000_000);
    expect(a.interfaces[1]!.linkBps).toBe(1e9);
    expect(a.traffic.ifindex.get(2)).toBe(0);
  });

  it("a JSON syntax error names the file, line, column and byte offset", () => {
    // The second comma is on line 3, column 13, byte offset 29 — counted by hand.
    const f = write("bad.json", '{\n  "name": "x",\n  "seed": 1,,\n}');
    const e = errOf(() => loadScenarioFile(f));
    expect(e.message).toContain(f);
    expect(e.message).toMatch(/line 3 column 13/);
    expect(e.where).toBe(29);
  });

  it("a YAML syntax error names the file and line", () => {
    const f = write("bad.yaml", "name: x\ninterfaces: [\n  { name: lan\n");
    const e = errOf(() => loadScenarioFile(f));
    expect(e.message).toContain(f);
    expect(e.message).toMatch(/invalid YAML \(line \d+ column \d+\)/);
  });

  it("a YAML duplicate key is an error", () => {
    const f = write("dup.yaml", "name: a\nname: b\ninterfaces: [{ name: lan }]\n");
    expect(() => loadScenarioFile(f)).toThrow(InputError);
  });

  it("a missing file is an InputError", () => {
    expect(() => loadScenarioFile(path.join(dir, "nope.json"))).toThrow(/nope\.json: cannot read scenario \(no such file\)/);
  });
});

describe("flow generator", () => {
  const scnA = () => loadScenarioFile(write("g.json", JSON_TEXT));

  it("same seed ⇒ same bytes, times, queues", () => {
    const x = loadInput(scnA()).input;
    const y = loadInput(scnA()).input;
    expect(x.count).toBe(64);
    expect(Buffer.from(x.data.subarray(0, x.bytesUsed)).equals(Buffer.from(y.data.subarray(0, y.bytesUsed)))).toBe(true);
    expect(Array.from(x.queue.subarray(0, x.count))).toEqual(Array.from(y.queue.subarray(0, y.count)));
    expect(Array.from(x.tNs.subarray(0, x.count))).toEqual(Array.from(y.tNs.subarray(0, y.count)));
  });

  it("different seed ⇒ different bytes", () => {
    const s1 = scnA();
    const s2 = scnA();
    s2.seed = 8;
    const x = loadInput(s1).input;
    const y = loadInput(s2).input;
    expect(Buffer.from(x.data.subarray(0, x.bytesUsed)).equals(Buffer.from(y.data.subarray(0, y.bytesUsed)))).toBe(false);
  });

  it("paces at pps: packet k at floor(k·1e9/pps) ns; sizes cycle", () => {
    const x = loadInput(scnA()).input;
    for (let k = 0; k < x.count; k++) expect(x.tNs[k]).toBe(k * 10_000);
    expect(x.iface.every((v) => v === 0)).toBe(true);
    expect(x.queue.subarray(0, x.count).every((q) => q >= 0 && q < 4)).toBe(true);
  });

  it("frames are valid to tshark: sources in the lan subnet, good checksums, sizes from the list", () => {
    const x = loadInput(scnA()).input;
    const sink = memorySink();
    const w = new PcapWriter(sink, 1, { nanos: true });
    for (let i = 0; i < x.count; i++) w.writePacket(BigInt(x.tNs[i]!), x.data, x.off[i]!, x.len[i]!);
    w.close();
    const f = path.join(dir, "gen.pcap");
    writeFileSync(f, sink.bytes());
    const r = spawnSync(
      "tshark",
      ["-r", f, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=,",
        "-e", "frame.len", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.proto", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "icmp.checksum.status", "-e", "tcp.flags.syn"],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => l.split(","));
    expect(rows.length).toBe(64);
    const protos = new Set<string>();
    rows.forEach((c, k) => {
      const [len, src, dst, proto, ipck, udpck, tcpck, icmpck, syn] = c;
      expect(src).toMatch(/^198\.18\.1\.(\d+)$/);
      expect(src).not.toBe("198.18.1.1");
      expect(dst).toBe("198.19.2.2");
      expect(ipck).toBe("1"); // Wireshark checksum status: 0 bad, 1 good, 2 unverified
      protos.add(proto!);
      if (proto === "17") expect(udpck).toBe("1");
      if (proto === "6") expect(tcpck).toBe("1");
      if (proto === "1") expect(icmpck).toBe("1");
      // A TCP flow's first packet is a bare SYN; every other frame has the listed size.
      if (syn !== "1") expect(Number(len)).toBe([64, 128, 1514][k % 3]);
    });
    expect(protos.size).toBeGreaterThan(1);
  });
});
