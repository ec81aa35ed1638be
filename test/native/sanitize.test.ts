// The native worker under ASan+UBSan (issue 6, part 6): the standalone driver
// (native/test/offline_driver.c) runs every Ethernet frame of the capture corpus through
// the parse/dataplane path and the poll loop, with NAT (SNAT, DNAT, reflected replies
// through the reverse index, ICMP errors, fragments, session timers) healthy and with the
// C/D/D′ switches on; any sanitizer report fails the run (-fno-sanitize-recover makes
// UBSan fatal too).
import { describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CORPUS, ROOT } from "../cli.js";

describe("native worker under ASan + UBSan", () => {
  it("runs the corpus's classic pcap frames and the traces/ captures with no sanitizer report", () => {
    execFileSync("make", ["-s", "-C", path.join(ROOT, "native"), "sanitize"], { stdio: "pipe" });
    const files = readdirSync(CORPUS).filter((f) => f.endsWith(".pcap")).map((f) => path.join(CORPUS, f));
    expect(files.length).toBeGreaterThan(100);
    // The offline cases' captures too (pcapng → classic pcap with editcap, which the driver reads).
    const tmp = mkdtempSync(path.join(tmpdir(), "xdplab-asan-"));
    const traces = execFileSync("find", [path.join(ROOT, "traces"), "-name", "*.pcapng"], { encoding: "utf8" }).split("\n").filter(Boolean);
    traces.forEach((t, i) => {
      const out = path.join(tmp, `trace${i}.pcap`);
      execFileSync("editcap", ["-F", "pcap", t, out], { stdio: "pipe" });
      files.push(out);
    });
    const r = spawnSync(path.join(ROOT, "native", "build", "offline_driver_asan"), files, {
      encoding: "utf8",
      env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS: "print_stacktrace=1" },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.stderr).not.toMatch(/AddressSanitizer|LeakSanitizer|runtime error/);
    expect(r.status).toBe(0);
    const m = /^frames (\d+) bare (\d+) rcv_dropped (\d+) sent (\d+) worker_rx (\d+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    // Thousands of frames went through the poll loop, and some were forwarded.
    expect(Number(m![1])).toBeGreaterThan(1000);
    expect(Number(m![5])).toBeGreaterThan(1000);
    expect(Number(m![4])).toBeGreaterThan(0);
    // The NAT paths ran: reflected replies came back, sessions were installed and expired.
    const nat = /replies (\d+) sessions (\d+) expired (\d+)/.exec(r.stdout);
    expect(nat).not.toBeNull();
    expect(Number(nat![1])).toBeGreaterThan(100);
    expect(Number(nat![2])).toBeGreaterThan(100);
    expect(Number(nat![3])).toBeGreaterThan(0);
  });
});
