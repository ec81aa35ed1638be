// Ownership records of live runs (DESIGN §8). Each run writes one state file naming its
// owner (pid + the process's start time + boot id, so a reused pid or a reboot is not
// mistaken for the owner) and every object it creates, recorded *before* creating it.
// The sweep at the start of each run removes only objects whose owner is dead.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { ip, run } from "./exec.js";
import { restoreNic } from "./realnic.js";
import type { NicRecord } from "./realnic.js";

export interface OwnerId {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot at which the process started. */
  startTicks: string;
  bootId: string;
}

export interface LabObject {
  /** netns, veth: the topology. bpffs: a per-run directory of pinned programs and maps
   *  (name = its path). pid: a helper process (name = pid, startTicks to recognise it).
   *  tracefs: a per-run tracing instance (name = its path; mount = a tracefs mount point
   *  the run made for itself). XDP programs need no record: they go with the veths. */
  kind: "netns" | "veth" | "bpffs" | "pid" | "tracefs" | "nic";
  name: string;
  /** For a veth: the namespace holding it (removed with that namespace). */
  netns?: string;
  startTicks?: string;
  mount?: string;
  /** For a nic (name = its original name, netns = the lab namespace holding it): how to
   *  put it back (live/realnic.ts). */
  nic?: NicRecord;
}

/** Root of the per-run bpffs directories: <root>/<prefix without dash>. */
export const BPFFS_ROOT = "/sys/fs/bpf/xdplab";

/**
 * Removes one non-namespace object of the run with this prefix; never throws. Only
 * paths named after the prefix are touched, and a pid only while it still is the same
 * process (start time), so a reused pid is never signalled.
 */
export function removeExtraObject(o: LabObject, prefix: string): void {
  const id = prefix.slice(0, -1);
  try {
    if (o.kind === "pid") {
      const pid = Number(o.name);
      if (Number.isInteger(pid) && pid > 1 && o.startTicks !== undefined && processStartTicks(pid) === o.startTicks) process.kill(pid, "SIGKILL");
    } else if (o.kind === "bpffs") {
      if (path.basename(o.name) === id && path.dirname(o.name) === BPFFS_ROOT) rmSync(o.name, { recursive: true, force: true });
    } else if (o.kind === "nic") {
      if (o.nic !== undefined && o.nic.labNs.startsWith(prefix)) {
        for (const p of restoreNic(o.nic)) process.stderr.write(`xdplab: ${p}\n`);
      }
    } else if (o.kind === "tracefs") {
      if (path.basename(o.name) === id && path.basename(path.dirname(o.name)) === "instances") {
        try {
          rmdirSync(o.name);
        } catch {
          // already gone, or the mount below it is gone
        }
      }
      if (o.mount !== undefined && path.basename(o.mount).startsWith(`xdplab-tracefs-${id}`)) {
        try {
          run("umount", [o.mount]);
        } catch {
          // not mounted
        }
        rmSync(o.mount, { recursive: true, force: true });
      }
    }
  } catch {
    // best effort: the next sweep retries while the state file exists
  }
}

const EXTRA_ORDER: Record<LabObject["kind"], number> = { pid: 0, nic: 1, netns: 2, veth: 2, tracefs: 3, bpffs: 4 };

/** Removal order: helper processes first (they hold sockets and namespaces), then named
 *  NICs moved back out of the lab, then namespaces (which detach the XDP programs), then
 *  tracing instances and pins. */
export function removalOrder(objs: readonly LabObject[]): LabObject[] {
  return [...objs].reverse().sort((a, b) => EXTRA_ORDER[a.kind] - EXTRA_ORDER[b.kind]);
}

export interface RunState {
  version: 1;
  prefix: string;
  owner: OwnerId;
  objects: LabObject[];
}

/** A run prefix: "xl" + 5 characters [a-z0-9] + "-". */
export const PREFIX_RE = /^xl[a-z0-9]{5}-$/;

export function stateDir(): string {
  const override = process.env["XDPLAB_STATE_DIR"];
  if (override !== undefined && override !== "") return override;
  return process.getuid?.() === 0 ? "/run/xdplab" : path.join(tmpdir(), "xdplab");
}

export function newPrefix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(5);
  let id = "";
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return `xl${id}-`;
}

function readBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

/** Start time of a process, or null when it does not exist (or is a zombie). */
export function processStartTicks(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain spaces or ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (rest[0] === "Z" || rest[0] === "X") return null; // dead, not yet reaped
  return rest[19] ?? null; // field 22 overall; rest[0] is field 3
}

export function selfOwner(): OwnerId {
  return { pid: process.pid, startTicks: processStartTicks(process.pid) ?? "unknown", bootId: readBootId() };
}

export function ownerAlive(o: OwnerId): boolean {
  if (o.bootId !== readBootId()) return false;
  const ticks = processStartTicks(o.pid);
  return ticks !== null && ticks === o.startTicks;
}

/** "<dir>/xlab12c.json" for prefix "xlab12c-". */
export function statePath(prefix: string): string {
  return path.join(stateDir(), `${prefix.slice(0, -1)}.json`);
}

/** Atomically (write + rename) stores a run's state. */
export function writeState(st: RunState): void {
  const dir = stateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const final = statePath(st.prefix);
  const tmp = `${final}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(st, null, 1) + "\n", { mode: 0o600 });
  renameSync(tmp, final);
}

export function removeState(prefix: string): void {
  rmSync(statePath(prefix), { force: true });
}

export function readStates(): Array<{ file: string; state: RunState | null }> {
  const dir = stateDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: Array<{ file: string; state: RunState | null }> = [];
  for (const n of names.sort()) {
    if (!n.endsWith(".json") || !PREFIX_RE.test(`${n.slice(0, -".json".length)}-`)) continue;
    const file = path.join(dir, n);
    try {
      const st = JSON.parse(readFileSync(file, "utf8")) as RunState;
      out.push({ file, state: st.version === 1 && PREFIX_RE.test(st.prefix) ? st : null });
    } catch {
      out.push({ file, state: null });
    }
  }
  return out;
}

export function listNetns(): string[] {
  const out = ip(null, ["netns", "list"]);
  return out
    .split("\n")
    .map((l) => l.trim().split(" ")[0] ?? "")
    .filter((n) => n !== "");
}

/**
 * Deletes what a run created. Deleting a namespace destroys the veth ends inside it and
 * so their peers; only names that carry the run's prefix are ever deleted.
 */
export function deleteObjects(st: RunState): string[] {
  const present = new Set(listNetns());
  const removed: string[] = [];
  for (const o of removalOrder(st.objects)) {
    if (o.kind === "pid" || o.kind === "bpffs" || o.kind === "tracefs" || o.kind === "nic") {
      removeExtraObject(o, st.prefix);
      continue;
    }
    if (o.kind !== "netns" || !o.name.startsWith(st.prefix) || !present.has(o.name)) continue;
    try {
      ip(null, ["netns", "del", o.name]);
      removed.push(o.name);
    } catch {
      // a concurrent sweep removed it first
    }
  }
  return removed;
}

export interface SweepResult {
  /** Prefixes of dead runs whose objects were removed. */
  swept: string[];
  /** Namespaces deleted. */
  removed: string[];
  /** Prefixes left alone because their owner lives. */
  live: string[];
}

/** Removes the objects of runs whose owner is dead; never touches a live run's. */
export function sweep(): SweepResult {
  const res: SweepResult = { swept: [], removed: [], live: [] };
  for (const { file, state } of readStates()) {
    if (state === null) continue; // unreadable: maybe mid-write by a live run; leave it
    if (ownerAlive(state.owner)) {
      res.live.push(state.prefix);
      continue;
    }
    res.removed.push(...deleteObjects(state));
    rmSync(file, { force: true });
    res.swept.push(state.prefix);
  }
  return res;
}
