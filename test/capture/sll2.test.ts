// A real `tcpdump -i any` capture (Linux cooked v2, link type 276), taken in namespaces
// this test creates: ping across a veth pair, then read the file and compare with tshark.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "../cli.js";

const { CaptureReader } = await import(path.join(ROOT, "dist/capture/reader.js"));

const isRoot = process.getuid?.() === 0;
const has = (tool: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const tools = ["ip", "tcpdump", "ping", "tshark"].filter((t) => !has(t));
if (!isRoot || tools.length > 0)
  process.stderr.write(`sll2.test: skipped: ${!isRoot ? "needs root to create network namespaces" : `missing ${tools.join(", ")} (apt-get install iproute2 tcpdump iputils-ping tshark)`}\n`);
const A = `xdplabtest-${process.pid}-a`;
const B = `xdplabtest-${process.pid}-b`;
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] });

describe.skipIf(!isRoot || tools.length > 0)("SLL2 capture from tcpdump -i any (needs root: creates network namespaces)", () => {
  let file = "";
  beforeAll(async () => {
    file = path.join(mkdtempSync(path.join(tmpdir(), "xdplab-sll2-")), "any.pcap");
    ip("netns", "add", A);
    ip("netns", "add", B);
    ip("-n", A, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", B);
    ip("-n", A, "addr", "add", "198.18.0.1/24", "dev", "v0");
    ip("-n", B, "addr", "add", "198.18.0.2/24", "dev", "v1");
    ip("-n", A, "link", "set", "v0", "up");
    ip("-n", B, "link", "set", "v1", "up");
    const td = spawn("ip", ["netns", "exec", A, "tcpdump", "-i", "any", "--immediate-mode", "-c", "6", "-U", "-n", "-w", file, "icmp"], { stdio: ["ignore", "ignore", "pipe"] });
    // tcpdump says "listening on any" once its socket is open
    await new Promise<void>((resolve, reject) => {
      let err = "";
      td.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (err.includes("listening on")) resolve();
      });
      td.on("exit", (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
    });
    execFileSync("ip", ["netns", "exec", A, "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.2"], { stdio: "ignore" });
    // -c 6: tcpdump exits by itself after the 3 requests and 3 replies; SIGINT is only
    // a safety net so a lost packet cannot hang the suite.
    await new Promise<void>((resolve) => {
      td.removeAllListeners("exit");
      if (td.exitCode !== null) return resolve();
      const guard = setTimeout(() => td.kill("SIGINT"), 10_000);
      td.on("exit", () => {
        clearTimeout(guard);
        resolve();
      });
    });
  }, 60_000);

  afterAll(() => {
    for (const ns of [A, B]) {
      try {
        ip("netns", "del", ns);
      } catch {
        // not created
      }
    }
  });

  it("is link type 276 with the record count tshark sees", () => {
    const rd = CaptureReader.open(file);
    let n = 0;
    const ifindexes = new Set<number>();
    while (rd.next()) {
      n++;
      expect(rd.linkType).toBe(276);
      // SLL2: protocol(2) reserved(2) ifindex(4) ...; here only checked to be present
      expect(rd.caplen).toBeGreaterThanOrEqual(20);
      ifindexes.add(new DataView(rd.data.buffer, rd.data.byteOffset).getUint32(rd.offset + 4, false));
    }
    expect(rd.format).toBe("pcap");
    expect(rd.interfaces[0].linkType).toBe(276);
    const tshark = execFileSync("tshark", ["-r", file, "-T", "fields", "-e", "sll.ifindex"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const lines = tshark.trim().split("\n");
    expect(n).toBe(lines.length);
    expect(n).toBe(6); // 3 requests + 3 replies
    expect([...ifindexes].sort()).toEqual([...new Set(lines.map(Number))].sort());
  });
});
