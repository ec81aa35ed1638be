// A live demo killed with SIGKILL while it holds its lab: the next run's sweep must
// leave nothing behind — namespaces, XDP programs (they go with the veths), the run's
// pinned bpffs directory, the probe process, the tracing instance, the state file.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listNetns, processStartTicks, statePath, sweep } from "../../live/state.js";
import type { RunState } from "../../live/state.js";
import { ROOT } from "../cli.js";
import { IS_ROOT, buildHelpers, spawnUntil } from "./helpers.js";

describe.skipIf(!IS_ROOT)("kill -9 during a live demo (root)", () => {
  beforeAll(() => buildHelpers());

  it("the next sweep removes every object the dead run recorded", async () => {
    const { child, match } = spawnUntil(process.execPath, [path.join(ROOT, "bin", "xdplab"), "live", "--demo", "xskmap-errors", "--hold-ms", "20000"], /holding (xl[a-z0-9]{5}-)/);
    const prefix = await match;
    const st = JSON.parse(readFileSync(statePath(prefix), "utf8")) as RunState;
    const kinds = new Set(st.objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual(["bpffs", "netns", "pid", "tracefs", "veth"]);
    const bpffs = st.objects.find((o) => o.kind === "bpffs")!.name;
    const pids = st.objects.filter((o) => o.kind === "pid");
    const trace = st.objects.find((o) => o.kind === "tracefs")!;
    expect(existsSync(bpffs)).toBe(true);
    expect(readdirSync(bpffs).length).toBeGreaterThan(0);
    expect(listNetns().filter((n) => n.startsWith(prefix)).length).toBe(2);

    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    // The probe dies with its parent (PR_SET_PDEATHSIG); wait for the kernel to reap it.
    for (let i = 0; i < 100 && pids.some((p) => processStartTicks(Number(p.name)) === p.startTicks); i++) await new Promise((r) => setTimeout(r, 20));

    const res = sweep();
    expect(res.swept).toContain(prefix);
    expect(listNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(existsSync(bpffs)).toBe(false);
    expect(existsSync(trace.name)).toBe(false);
    if (trace.mount !== undefined) expect(existsSync(trace.mount)).toBe(false);
    for (const p of pids) expect(processStartTicks(Number(p.name))).not.toBe(p.startTicks);
    expect(existsSync(statePath(prefix))).toBe(false);
  }, 60_000);
});
