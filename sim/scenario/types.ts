// The scenario schema after validation: everything needed to run the same thing twice
// (DESIGN §4.1). Names are resolved to indices, addresses to bytes, durations to integer ns;
// the model reads only these types, never the raw JSON/YAML.

export type Family = 4 | 6;

export interface IfAddr {
  family: Family;
  bytes: Uint8Array;
  prefixLen: number;
  text: string;
}

export interface IfaceCfg {
  index: number; // position in interfaces[]
  name: string;
  ifindex: number; // model ifindex = index + 2 (1 is lo)
  mac: Uint8Array;
  macText: string;
  addrs: IfAddr[];
  queues: number;
  mtu: number;
  linkBps: number; // from timing.linkBps[name], default 10e9
}

export interface NeighborCfg {
  family: Family;
  ip: Uint8Array;
  ipText: string;
  mac: Uint8Array;
  iface: number; // index
  atNs: number; // 0 = known from the start; >0 = resolves at that time (cold neighbour)
}

// Connected routes of every interface address are added by the loader.
export interface RouteCfg {
  family: Family;
  prefix: Uint8Array;
  prefixLen: number;
  via: Uint8Array | null;
  viaText: string | null;
  iface: number;
  metric: number;
  connected: boolean;
}

export interface SnatRule {
  from: IfAddr | null;
  egress: number; // iface index
  to: "interface" | { pool: IfAddr[] /* /32 or ranges */ };
  portRange: [number, number];
}

export interface DnatRule {
  ingress: number;
  proto: 6 | 17 | 1 | 58 | 0;
  dst: { family: Family; bytes: Uint8Array };
  port: number | null;
  to: { family: Family; bytes: Uint8Array };
  toPort: number | null;
}

export interface PolicyRule {
  action: "permit" | "deny";
  proto: number | null;
  src: IfAddr | null;
  dst: IfAddr | null;
  dport: [number, number] | null;
  ingress: number | null;
  egress: number | null;
}

export interface DataplaneCfg {
  armed: boolean;
  driver: "veth" | "generic" | "zerocopy";
  attach: "native" | "generic";
  bindMode: "copy" | "zerocopy";
  strict: boolean;
  abiVersion: number;
  heartbeatTimeoutNs: number;
  rings: { rx: number; tx: number; fill: number; comp: number };
  frames: number;
  frameSize: number;
  headroom: number;
  batch: number;
  maxPendingTx: number;
  txBudget: number;
  neighHoldNs: number;
  neighHoldMax: number;
  icmpErrors: boolean; // generate ICMP time exceeded / frag needed
}

export interface TimingCfg {
  pollNs: number;
  perPacketNs: number;
  seriesNs: number;
  drainNs: number;
  kickNs: number; // cost of a sendto
  reapEvery: number;
  respondNs: number; // delay of a responder reply after the request left the wire
  timerNs: number; // period of the worker's session-timer pass
}

export type FaultKind =
  | "tx_stall"
  | "completion_delay"
  | "link_cycle"
  | "fill_starve"
  | "bindings_zeroed"
  | "generation_bump"
  | "worker_pause"
  | "neighbor_flush";

export const FAULT_KINDS: readonly FaultKind[] = [
  "tx_stall",
  "completion_delay",
  "link_cycle",
  "fill_starve",
  "bindings_zeroed",
  "generation_bump",
  "worker_pause",
  "neighbor_flush",
];

export interface FaultCfg {
  kind: FaultKind;
  atNs: number; // from the first packet
  forNs: number;
  iface: number | null;
  queue: number | null;
  delayNs: number;
  index: number;
}

export type BugName =
  | "fallbackDrops"
  | "missingBindingPasses"
  | "ignoreSessionMap"
  | "staleXskSlot"
  | "abiDrift"
  | "armBeforeBound"
  | "circularGate"
  | "skipFillOnBackpressure"
  | "unboundedPendingTx"
  | "lazyCompletionReap"
  | "leakOnDrop"
  | "noTxKick"
  | "wakeTxForRx"
  | "lostWakeup"
  | "allOrNothingReserve"
  | "nonPow2Rings"
  | "emptyFillAtBind"
  | "noRebindAfterCycle"
  | "armedAcrossRebind"
  | "stopWithoutRebind"
  // C, D, D′ (next issue)
  | "tupleFromMutatedFrame"
  | "portsFromStaleFrame"
  | "noReverseIndex"
  | "reverseIndexOverwrite"
  | "replyMissGoesToKernel"
  | "embeddedIcmpNoSwap"
  | "rstTearsDown"
  | "sessionAfterNeighbor"
  | "snatPortCollision"
  | "signFlippedDelta"
  | "partialCsumAsFull"
  | "portOnlyNatNoCsum"
  | "ignoreMtu"
  | "fragmentsLoseSession";

export const BUG_NAMES: readonly BugName[] = [
  "fallbackDrops",
  "missingBindingPasses",
  "ignoreSessionMap",
  "staleXskSlot",
  "abiDrift",
  "armBeforeBound",
  "circularGate",
  "skipFillOnBackpressure",
  "unboundedPendingTx",
  "lazyCompletionReap",
  "leakOnDrop",
  "noTxKick",
  "wakeTxForRx",
  "lostWakeup",
  "allOrNothingReserve",
  "nonPow2Rings",
  "emptyFillAtBind",
  "noRebindAfterCycle",
  "armedAcrossRebind",
  "stopWithoutRebind",
  "tupleFromMutatedFrame",
  "portsFromStaleFrame",
  "noReverseIndex",
  "reverseIndexOverwrite",
  "replyMissGoesToKernel",
  "embeddedIcmpNoSwap",
  "rstTearsDown",
  "sessionAfterNeighbor",
  "snatPortCollision",
  "signFlippedDelta",
  "partialCsumAsFull",
  "portOnlyNatNoCsum",
  "ignoreMtu",
  "fragmentsLoseSession",
];

export interface GeneratorCfg {
  flows: number;
  packets: number; // total packets over all flows
  ppsPerFlow?: number;
  pps: number; // aggregate rate
  sizes: number[]; // frame sizes (bytes on the wire, without FCS), cycled per packet
  proto: "udp" | "tcp" | "icmp" | "mix";
  iface: number;
  family: Family;
  src: string; // CIDR the flow sources are drawn from (default: the iface's first address of `family`)
  dst: string; // destination address
  startNs: number;
  dstPort?: number; // UDP/TCP destination port (default 9)
}

export interface TrafficCfg {
  pcap: string | null; // absolute path, resolved relative to the scenario file
  iface: number | null; // whole file on one iface
  ifindex: Map<number, number>; // capture ifindex → iface index (SLL/SLL2)
  respond: "none" | "reflect";
  /** Ingress interfaces whose frames arrive CHECKSUM_PARTIAL (generic XDP; 1 = partial), by iface index. */
  csumPartial: Uint8Array;
  generator: GeneratorCfg | null;
  macs: "capture" | "supply";
}

export interface Scenario {
  file: string;
  dir: string;
  name: string;
  seed: number;
  description: string;
  interfaces: IfaceCfg[];
  neighbors: NeighborCfg[];
  routes: RouteCfg[];
  nat: { snat: SnatRule[]; dnat: DnatRule[] };
  policy: PolicyRule[];
  defaultPolicy: "permit" | "deny";
  dataplane: DataplaneCfg;
  timing: TimingCfg;
  bugs: Record<BugName, boolean>;
  faults: FaultCfg[];
  traffic: TrafficCfg;
}

export function ifaceByName(s: Scenario, name: string): IfaceCfg | undefined {
  for (const ifc of s.interfaces) if (ifc.name === name) return ifc;
  return undefined;
}
