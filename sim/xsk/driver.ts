// Driver profiles: which kernel/driver behaviours apply to a binding. The model consults
// these booleans instead of branching on a driver name, so a scenario's `driver` picks a
// row and the behaviours stay visible in one table (DESIGN §6, CATALOGUE zero-copy rows).

export type DriverName = "veth" | "generic" | "zerocopy";

export interface DriverProfile {
  readonly name: DriverName;
  /** Copy mode (XDP_COPY): the kernel copies into UMEM frames and builds skbs for TX. */
  readonly copyMode: boolean;
  /** The driver samples the fill ring when the socket is bound; an empty fill ring then stalls RX until a wake. */
  readonly fillNeededAtBind: boolean;
  /** A link down/up tears down the driver's queue state; bound sockets stop receiving. */
  readonly linkCycleKillsSockets: boolean;
  /** The TX ring's NEED_WAKEUP flag stays set (copy mode: every TX needs sendto/poll). */
  readonly txNeedWakeupAlwaysSet: boolean;
  /** poll() also drives TX (xsk_poll calls xsk_generic_xmit in copy mode). */
  readonly pollKicksTx: boolean;
  /** RX needs an explicit wake (recvfrom/poll) after the driver set the fill ring's NEED_WAKEUP. */
  readonly rxNeedsWakeup: boolean;
  /** The driver pulls fill entries into its own pool ahead of RX (zero-copy NIC drivers). */
  readonly prefetchesFill: boolean;
  /** XDP_TX / devmap redirect into a veth whose peer has no XDP program and no GRO fails (sim/xsk/vethPeer.ts). */
  readonly vethPeerNeedsXdpOrGro: boolean;
}

export const DRIVER_PROFILES: Readonly<Record<DriverName, DriverProfile>> = Object.freeze({
  veth: Object.freeze({
    name: "veth",
    copyMode: true,
    fillNeededAtBind: false,
    linkCycleKillsSockets: false,
    txNeedWakeupAlwaysSet: true,
    pollKicksTx: true,
    rxNeedsWakeup: false,
    prefetchesFill: false,
    vethPeerNeedsXdpOrGro: true,
  }),
  generic: Object.freeze({
    name: "generic",
    copyMode: true,
    fillNeededAtBind: false,
    linkCycleKillsSockets: false,
    txNeedWakeupAlwaysSet: true,
    pollKicksTx: true,
    rxNeedsWakeup: false,
    prefetchesFill: false,
    vethPeerNeedsXdpOrGro: false,
  }),
  zerocopy: Object.freeze({
    name: "zerocopy",
    copyMode: false,
    fillNeededAtBind: true,
    linkCycleKillsSockets: true,
    txNeedWakeupAlwaysSet: false,
    pollKicksTx: true,
    rxNeedsWakeup: true,
    prefetchesFill: true,
    vethPeerNeedsXdpOrGro: false,
  }),
});

export function driverProfile(name: DriverName): DriverProfile {
  return DRIVER_PROFILES[name];
}
