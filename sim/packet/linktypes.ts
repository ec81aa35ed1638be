// Link-layer header types (tcpdump.org LINKTYPE_* values) the lab decodes.
// Other link types are read and counted but reported as undecodable.
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const LINKTYPE_NAMES: Readonly<Record<number, string>> = {
  0: "NULL",
  1: "EN10MB",
  101: "RAW",
  108: "LOOP",
  113: "LINUX_SLL",
  228: "IPV4",
  229: "IPV6",
  276: "LINUX_SLL2",
};

export function linkTypeName(lt: number): string {
  return LINKTYPE_NAMES[lt] ?? `LINKTYPE_${lt}`;
}

/** Link types whose frames the packet decoder understands. */
export function isDecodableLinkType(lt: number): boolean {
  return lt === LINKTYPE_ETHERNET || lt === LINKTYPE_RAW || lt === LINKTYPE_IPV4 || lt === LINKTYPE_IPV6 || lt === LINKTYPE_LINUX_SLL || lt === LINKTYPE_LINUX_SLL2;
}
