// A scenario run (shim, native worker thread, far-side responder, injector, capture)
// killed with SIGKILL while its traffic flows: the helpers die with their parent
// (PR_SET_PDEATHSIG) and the next run's sweep leaves nothing the run created —
// namespaces (and with them the veths and their XDP programs), the pinned bpffs
// directory, the tracing instance, the state file.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listNetns, statePath, sweep } from "../../live/state.js";
import type { RunState } from "../../live/state.js";
import { ROOT } from "../cli.js";
import { IS_ROOT, buildHelpers, spawnUntil } from "./helpers.js";

/** Processes whose command line mentions the lab's prefix (helpers run inside its namespaces). */
function helpersOf(prefix: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(prefix) && !l.includes("ps -eo"));
}

describe.skipIf(!IS_ROOT || !existsSync(path.join(ROOT, "native/build/libxdplab_worker.so")))("kill -9 during a live scenario run (root)", () => {
  beforeAll(() => buildHelpers());

  it("helpers die with the run and the next sweep removes the lab", async () => {
    // logged once the responder is up, right before injection starts
    const { child, match } = spawnUntil(process.execPath, [path.join(ROOT, "bin", "xdplab"), "live", path.join(ROOT, "traces/examples/snat-reflect")], /lab (xl[a-z0-9]{5}-)[\s\S]*far-side responders/);
    const prefix = await match;
    const st = JSON.parse(readFileSync(statePath(prefix), "utf8")) as RunState;
    const bpffs = st.objects.find((o) => o.kind === "bpffs")!.name;
    expect(listNetns().filter((n) => n.startsWith(prefix)).length).toBe(3); // DUT + lan and wan far sides
    expect(helpersOf(prefix).length).toBeGreaterThan(0); // responder, capture, injector

    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    for (let i = 0; i < 100 && helpersOf(prefix).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(helpersOf(prefix)).toEqual([]);

    const res = sweep();
    expect(res.swept).toContain(prefix);
    expect(listNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(existsSync(bpffs)).toBe(false);
    expect(existsSync(statePath(prefix))).toBe(false);
  }, 60_000);
});
