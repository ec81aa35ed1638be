// The lab's namespace topology: one namespace for the device under test ("dut") and one
// per scenario interface for the far side ("p<i>"), joined by a veth pair per interface.
// Inside each namespace the veth end carries the scenario interface's name. With named
// NICs (`nics`, docs/live-nics.md) a cabled NIC pair takes the veth pair's place: moved
// in and renamed here, moved back at destroy() (live/realnic.ts). Owns the
// lifecycle: sweep of dead runs, state file, creation, and cleanup on destroy(), on
// normal exit and on SIGINT/SIGTERM/SIGHUP (clean, then re-raise).
import { EnvironmentError, InputError } from "../sim/errors.js";
import { parseMac } from "./addresses.js";
import { requireRoot, tool } from "./exec.js";
import { addNetns, addVethPair, delNetns, dutSysctls, loUp, peerSysctls, pinAndUp, sysctl } from "./netns.js";
import type { VethEnd } from "./netns.js";
import { inspectNics, moveIn, nameOwnNetns, nicRecord, originNetns, waitCarrier } from "./realnic.js";
import type { NicPair } from "./realnic.js";
import { listNetns, newPrefix, readStates, removalOrder, removeExtraObject, removeState, selfOwner, sweep, writeState } from "./state.js";
import type { LabObject, RunState, SweepResult } from "./state.js";

export interface TopologyIfaceSpec {
  /** Scenario interface name; the veth end in the DUT namespace gets exactly this name. */
  name: string;
  mac: Uint8Array | string;
  mtu: number;
  /** MAC of the far-side end (default: 02:58:4c:ff:00:<index>). */
  peerMac?: Uint8Array | string;
}

export interface TopologySpec {
  interfaces: readonly TopologyIfaceSpec[];
  /** ip_forward / IPv6 forwarding in the DUT namespace: on for the Linux-router oracle,
   *  off for an AF_XDP device under test. */
  ipForward: boolean;
  /** GRO on the far-side ends (default off). A veth peer needs GRO or XDP for frames
   *  redirected into it to survive (DESIGN §6), but GRO coalesces what the far side
   *  captures; turn it on only when the DUT redirects with XDP. */
  farSideGro?: boolean;
  /** Names the file the spec came from in error messages. */
  file?: string;
  /** Named NICs instead of veths (docs/live-nics.md): one cabled pair per interface, in
   *  the interfaces' order. Each is moved into the lab and back at destroy(). */
  nics?: readonly NicPair[];
  /** With nics: give each DUT-side NIC the scenario interface's MAC (else it keeps its own). */
  setMac?: boolean;
}

export interface TopologyIface {
  index: number;
  name: string;
  dut: VethEnd;
  peer: VethEnd;
  /** The named NICs serving this interface (runs with --iface). */
  nic?: NicPair;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

const active = new Set<Topology>();
let handlersInstalled = false;

function cleanupAll(): void {
  for (const t of [...active]) t.destroy();
}

function onSignal(sig: NodeJS.Signals): void {
  cleanupAll();
  uninstallHandlers();
  // Re-raise so the process ends as the signal intended, unless someone else handles it.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on("exit", cleanupAll);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("exit", cleanupAll);
}

export function validateTopology(spec: TopologySpec): void {
  const file = spec.file ?? "<topology>";
  if (spec.interfaces.length === 0) throw new InputError(file, "interfaces", "a topology needs at least one interface");
  if (spec.interfaces.length > 16) throw new InputError(file, "interfaces", `live runs support up to 16 interfaces, found ${spec.interfaces.length}`);
  const seen = new Set<string>();
  spec.interfaces.forEach((ifc, i) => {
    if (!IFNAME_RE.test(ifc.name) || ifc.name === "lo") {
      throw new InputError(file, `interfaces[${i}].name`, `expected an interface name of 1..15 characters [A-Za-z0-9_.-] other than 'lo', found '${ifc.name}'`);
    }
    if (seen.has(ifc.name)) throw new InputError(file, `interfaces[${i}].name`, `duplicate interface name '${ifc.name}'`);
    seen.add(ifc.name);
    if (!Number.isInteger(ifc.mtu) || ifc.mtu < 68 || ifc.mtu > 65535) {
      throw new InputError(file, `interfaces[${i}].mtu`, `expected an MTU in 68..65535, found ${ifc.mtu}`);
    }
    parseMac(ifc.mac, file, `interfaces[${i}].mac`);
    if (ifc.peerMac !== undefined) parseMac(ifc.peerMac, file, `interfaces[${i}].peerMac`);
  });
}

/** A fresh prefix no namespace or state file uses yet (ids are random: 36^5). */
function unusedPrefix(): string {
  const taken = listNetns();
  const states = new Set(readStates().map((s) => s.state?.prefix));
  for (;;) {
    const p = newPrefix();
    if (!states.has(p) && !taken.some((n) => n.startsWith(p))) return p;
  }
}

export class Topology {
  readonly prefix: string;
  readonly dutNs: string;
  readonly ifaces: TopologyIface[];
  private readonly state: RunState;
  private destroyed = false;
  /** Namespaces this process actually created: destroy() deletes only these. */
  private readonly created = new Set<string>();
  /** What the sweep before creation removed. */
  readonly swept: SweepResult;
  /** Named NICs instead of veths. */
  readonly realNics: boolean;
  /** Notes on what could not be pinned on named NICs (fixed offloads). */
  readonly notes: string[] = [];

  private constructor(prefix: string, ifaces: TopologyIface[], state: RunState, swept: SweepResult, realNics: boolean) {
    this.prefix = prefix;
    this.dutNs = `${prefix}dut`;
    this.ifaces = ifaces;
    this.state = state;
    this.swept = swept;
    this.realNics = realNics;
  }

  /** Sweeps dead runs, then builds the namespaces and veths. On any failure, what was
   *  built is removed before the error propagates. */
  static create(spec: TopologySpec): Topology {
    requireRoot();
    tool("ip");
    tool("ethtool");
    tool("sysctl");
    validateTopology(spec);
    const nics = spec.nics;
    if (nics !== undefined && (nics.length !== spec.interfaces.length || nics.some((p, i) => p.iface !== spec.interfaces[i]!.name))) {
      throw new Error("Topology.create: nics must pair every interface, in order");
    }
    // Named NICs: refused in words before anything is created (exit 2).
    const nicInfo = nics === undefined ? null : inspectNics(nics);
    let origin = nics === undefined ? null : originNetns();
    const swept = sweep();
    const file = spec.file ?? "<topology>";
    const prefix = unusedPrefix();
    const dutNs = `${prefix}dut`;
    const ifaces: TopologyIface[] = spec.interfaces.map((ifc, i) => ({
      index: i,
      name: ifc.name,
      dut: { netns: dutNs, name: ifc.name, mac: parseMac(ifc.mac, file, `interfaces[${i}].mac`), mtu: ifc.mtu },
      peer: {
        netns: `${prefix}p${i}`,
        name: ifc.name,
        mac: ifc.peerMac === undefined ? Uint8Array.of(0x02, 0x58, 0x4c, 0xff, 0x00, i) : parseMac(ifc.peerMac, file, `interfaces[${i}].peerMac`),
        mtu: ifc.mtu,
      },
    }));
    if (nics !== undefined && nicInfo !== null) {
      // The far ends keep their own MACs; the DUT ends theirs unless --set-mac.
      ifaces.forEach((ifc, i) => {
        const p = nics[i]!;
        ifc.nic = p;
        ifc.peer.mac = parseMac(nicInfo.get(p.far)!.mac, "--far", p.iface);
        if (spec.setMac !== true) ifc.dut.mac = parseMac(nicInfo.get(p.dut)!.mac, "--iface", p.iface);
      });
    }
    const state: RunState = { version: 1, prefix, owner: selfOwner(), objects: [] };
    const topo = new Topology(prefix, ifaces, state, swept, nics !== undefined);
    active.add(topo);
    installHandlers();
    try {
      topo.record({ kind: "netns", name: dutNs });
      addNetns(dutNs);
      topo.created.add(dutNs);
      sysctl(dutNs, dutSysctls(spec.ipForward));
      loUp(dutNs);
      for (const ifc of ifaces) {
        topo.record({ kind: "netns", name: ifc.peer.netns });
        addNetns(ifc.peer.netns);
        topo.created.add(ifc.peer.netns);
        sysctl(ifc.peer.netns, peerSysctls());
      }
      if (nics !== undefined && origin === null) {
        // An unnamed origin (e.g. the initial namespace): named for the run, so the sweep
        // can move the NICs back; the name goes after them (namespaces come after NICs).
        const home = `${prefix}home`;
        topo.record({ kind: "netns", name: home });
        origin = nameOwnNetns(home);
        topo.created.add(home);
      }
      for (const ifc of ifaces) {
        if (ifc.nic !== undefined && nicInfo !== null && origin !== null) {
          // Recorded (with everything needed to put it back) before it is moved.
          for (const [role, end, nic] of [["dut", ifc.dut, ifc.nic.dut], ["far", ifc.peer, ifc.nic.far]] as const) {
            const rec = nicRecord(nicInfo.get(nic)!, role, origin, end.netns, end.name);
            topo.record({ kind: "nic", name: nic, netns: end.netns, nic: rec });
            topo.notes.push(...moveIn(rec, { mtu: end.mtu, mac: role === "dut" && spec.setMac === true ? end.mac : null }));
          }
          continue;
        }
        topo.record({ kind: "veth", name: ifc.dut.name, netns: dutNs });
        addVethPair(ifc.dut, ifc.peer);
        pinAndUp(ifc.dut, "dut", false);
        pinAndUp(ifc.peer, "peer", spec.farSideGro === true);
      }
    } catch (err) {
      topo.destroy();
      throw err;
    }
    return topo;
  }

  private record(o: RunState["objects"][number]): void {
    this.state.objects.push(o);
    writeState(this.state);
  }

  /** Records an object a layer above the topology creates (pinned bpffs directory,
   *  helper process, tracing instance) *before* it is created; destroy() and the sweep
   *  remove it (live/state.ts removeExtraObject). */
  track(o: LabObject): void {
    if (this.destroyed) throw new Error("topology already destroyed");
    this.record(o);
  }

  get alive(): boolean {
    return !this.destroyed;
  }

  /** Waits (bounded) for carrier on every named NIC of the lab: a physical link renegotiates
   *  after the move and after an XDP attach. No-op on veths. Throws when one stays down. */
  async waitCarrier(timeoutMs = 15_000): Promise<void> {
    if (!this.realNics) return;
    const devs = this.ifaces.flatMap((i) => [i.dut, i.peer]);
    const down = await waitCarrier(devs, timeoutMs);
    if (down.length > 0) {
      throw new EnvironmentError(`no carrier after ${timeoutMs / 1000} s on ${down.join(", ")}: check that each --iface NIC is cabled to its --far NIC and the link comes up`);
    }
  }

  /** All namespaces of this run (DUT first). */
  namespaces(): string[] {
    return [this.dutNs, ...this.ifaces.map((i) => i.peer.netns)];
  }

  /** Removes every namespace (and with them the veths) and the state file. Idempotent;
   *  never throws, so it is safe in exit and signal paths. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const o of removalOrder(this.state.objects)) {
      if (o.kind === "pid" || o.kind === "bpffs" || o.kind === "tracefs" || o.kind === "nic") {
        removeExtraObject(o, this.prefix);
        continue;
      }
      if (o.kind !== "netns" || !this.created.has(o.name)) continue;
      try {
        delNetns(o.name);
      } catch {
        // never created, or already gone
      }
    }
    try {
      removeState(this.prefix);
    } catch {
      // the sweep of a later run will find nothing to do for it
    }
    active.delete(this);
    if (active.size === 0) uninstallHandlers();
  }
}
