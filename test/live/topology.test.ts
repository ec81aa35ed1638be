// Namespace hygiene (DESIGN §8): a topology leaves nothing behind; a dead owner's
// objects are swept by the next run, a live owner's never are; a reused pid with a
// different start time counts as dead; SIGTERM cleans up before the process ends.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Topology } from "../../live/topology.js";
import { linkNames } from "../../live/netns.js";
import { processStartTicks, stateDir, statePath, sweep } from "../../live/state.js";
import { IS_ROOT, ROOT_REASON, hostLinks, netnsList, spawnOwner } from "./helpers.js";

const SPEC = {
  ipForward: false,
  interfaces: [
    { name: "lan", mac: "02:00:00:00:01:01", mtu: 1500 },
    { name: "wan", mac: "02:00:00:00:02:01", mtu: 1400 },
  ],
};

function sysctlIn(ns: string, key: string): string {
  return execFileSync("ip", ["netns", "exec", ns, "sysctl", "-n", key], { encoding: "utf8" }).trim();
}

describe.skipIf(!IS_ROOT)(`topology (${ROOT_REASON})`, () => {
  it("creates the DUT and far-side namespaces with pinned settings and removes all of them", () => {
    const hostBefore = hostLinks();
    const t = Topology.create(SPEC);
    try {
      expect(t.prefix).toMatch(/^xl[a-z0-9]{5}-$/);
      const ns = netnsList();
      for (const n of [`${t.prefix}dut`, `${t.prefix}p0`, `${t.prefix}p1`]) expect(ns).toContain(n);
      expect(linkNames(t.dutNs).sort()).toEqual(["lan", "lo", "wan"]);
      expect(linkNames(`${t.prefix}p1`).sort()).toEqual(["lo", "wan"]);
      const show = execFileSync("ip", ["-n", t.dutNs, "link", "show", "dev", "wan"], { encoding: "utf8" });
      expect(show).toContain("mtu 1400");
      expect(show).toContain("link/ether 02:00:00:00:02:01");
      const feat = execFileSync("ip", ["netns", "exec", t.dutNs, "ethtool", "-k", "lan"], { encoding: "utf8" });
      for (const f of ["rx-checksumming", "tx-checksumming", "rx-vlan-offload", "tx-vlan-offload", "generic-receive-offload", "tcp-segmentation-offload"]) {
        expect(feat).toMatch(new RegExp(`^${f}: off`, "m"));
      }
      expect(sysctlIn(t.dutNs, "net.ipv4.ip_forward")).toBe("0");
      expect(sysctlIn(t.dutNs, "net.ipv6.conf.lan.accept_dad")).toBe("0");
      expect(sysctlIn(`${t.prefix}p0`, "net.ipv6.conf.lan.disable_ipv6")).toBe("1");
      // No addresses anywhere: no link-local on the DUT, nothing at all on far sides.
      const addrs = execFileSync("ip", ["-n", t.dutNs, "-o", "addr", "show", "dev", "lan"], { encoding: "utf8" });
      expect(addrs.trim()).toBe("");
      expect(existsSync(statePath(t.prefix))).toBe(true);
      expect(hostLinks()).toEqual(hostBefore);
    } finally {
      t.destroy();
    }
    expect(netnsList().filter((n) => n.startsWith(t.prefix))).toEqual([]);
    expect(existsSync(statePath(t.prefix))).toBe(false);
    expect(hostLinks()).toEqual(hostBefore);
  });

  it("sweeps a kill -9'd owner's namespaces but never a live run's", async () => {
    const mine = Topology.create(SPEC);
    const other = await spawnOwner(); // stays alive during the sweep
    const victim = await spawnOwner();
    try {
      victim.child.kill("SIGKILL");
      await victim.exited;
      expect(netnsList().filter((n) => n.startsWith(victim.prefix)).length).toBe(3);
      const res = sweep();
      expect(res.swept).toContain(victim.prefix);
      expect(res.live).toContain(other.prefix);
      expect(res.live).toContain(mine.prefix);
      const after = netnsList();
      expect(after.filter((n) => n.startsWith(victim.prefix))).toEqual([]);
      expect(after.filter((n) => n.startsWith(other.prefix)).length).toBe(3);
      expect(after.filter((n) => n.startsWith(mine.prefix)).length).toBe(3);
    } finally {
      other.child.kill("SIGKILL");
      await other.exited;
      mine.destroy();
      sweep();
    }
    expect(netnsList().filter((n) => n.startsWith(other.prefix))).toEqual([]);
  });

  it("treats a live pid with another start time as a dead owner (pid reuse)", () => {
    const prefix = "xlzzpid-";
    const ns = `${prefix}dut`;
    execFileSync("ip", ["netns", "add", ns]);
    const ticks = processStartTicks(process.pid);
    expect(ticks).not.toBeNull();
    const bootId = execFileSync("cat", ["/proc/sys/kernel/random/boot_id"], { encoding: "utf8" }).trim();
    mkdirSync(stateDir(), { recursive: true });
    const st = { version: 1, prefix, owner: { pid: process.pid, startTicks: String(Number(ticks) + 1), bootId }, objects: [{ kind: "netns", name: ns }] };
    writeFileSync(statePath(prefix), JSON.stringify(st));
    const res = sweep();
    expect(res.swept).toContain(prefix);
    expect(netnsList()).not.toContain(ns);
  });

  it("a SIGTERM'd owner removes its namespaces before it exits", async () => {
    const owner = await spawnOwner();
    expect(netnsList().filter((n) => n.startsWith(owner.prefix)).length).toBe(3);
    owner.child.kill("SIGTERM");
    await owner.exited;
    expect(owner.child.signalCode).toBe("SIGTERM"); // re-raised after cleanup
    expect(netnsList().filter((n) => n.startsWith(owner.prefix))).toEqual([]);
    expect(existsSync(statePath(owner.prefix))).toBe(false);
  });
});
