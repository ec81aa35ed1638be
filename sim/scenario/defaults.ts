// Every default of the scenario format in one place; docs/scenario.md lists the same
// values (a test checks the parser applies them).
import type { DataplaneCfg, TimingCfg } from "./types.js";

export const DEFAULT_SEED = 1;

export const IFACE_DEFAULTS = {
  queues: 1,
  mtu: 1500,
  linkBps: 10e9,
  /** MAC when none is given: 02:00:00:00:NN:01, NN = interface position + 1 (locally administered). */
  macPrefix: [0x02, 0x00, 0x00, 0x00] as const,
} as const;

export const MAX_QUEUES = 64;

export const DATAPLANE_DEFAULTS: DataplaneCfg = {
  armed: true,
  driver: "veth",
  attach: "native",
  bindMode: "copy",
  strict: true,
  abiVersion: 1,
  heartbeatTimeoutNs: 1_000_000_000,
  rings: { rx: 1024, tx: 1024, fill: 4096, comp: 4096 },
  frames: 4096,
  frameSize: 4096,
  headroom: 256,
  batch: 64,
  maxPendingTx: 2048,
  txBudget: 32, // the kernel's default max_tx_budget
  neighHoldNs: 3_000_000_000, // Linux: mcast_solicit 3 × retrans_time 1 s before giving up
  neighHoldMax: 101, // Linux: default unres_qlen (packets held per unresolved neighbour)
  icmpErrors: true,
};

export const TIMING_DEFAULTS: TimingCfg = {
  pollNs: 2000,
  perPacketNs: 150,
  seriesNs: 1_000_000,
  drainNs: 50_000_000,
  kickNs: 1000,
  reapEvery: 1,
  respondNs: 10_000,
  timerNs: 1_000_000,
};

export const SNAT_PORT_RANGE: [number, number] = [1024, 65535];

export const GENERATOR_DEFAULTS = {
  flows: 1,
  packets: 100,
  pps: 1000,
  sizes: [64],
  proto: "udp" as const,
  family: 4 as const,
  startNs: 0,
  dstPort: 9, // discard
};

/** Source MAC given to frames from cooked/raw captures that carry none (locally administered). */
export const SUPPLIED_SRC_MAC = Uint8Array.of(0x02, 0x00, 0x5e, 0x00, 0x00, 0x01);

/** Kernel limits the validator enforces (net/xdp/xdp_umem.c). */
export const XDP_UMEM_MIN_CHUNK_SIZE = 2048;
export const XDP_PACKET_HEADROOM = 256;
export const PAGE_SIZE = 4096;
