// Parse error codes of the packet decoder. One numeric list shared with bpf/ (the C
// parser returns the same codes negated). decode() returns 0 or one of these; the
// per-header parse functions return the next protocol (>= 0) or the negated code.
// Append only; never renumber (codes appear in traces and metadata).

export const PE_OK = 0;
export const PE_UNKNOWN_LINKTYPE = 1;
export const PE_TRUNC_ETH = 2;
export const PE_TRUNC_VLAN = 3;
export const PE_VLAN_LIMIT = 4;
export const PE_TRUNC_SLL = 5;
export const PE_TRUNC_ARP = 6;
export const PE_TRUNC_IP4 = 7;
export const PE_BAD_IP_VERSION = 8;
export const PE_BAD_IHL = 9;
export const PE_BAD_IP_LEN = 10;
export const PE_TRUNC_IP6 = 11;
export const PE_TRUNC_IP6_EXT = 12;
export const PE_IP6_EXT_LIMIT = 13;
export const PE_BAD_IP6_EXT = 14;
export const PE_TRUNC_TCP = 15;
export const PE_BAD_TCP_DOFF = 16;
export const PE_TRUNC_UDP = 17;
export const PE_BAD_UDP_LEN = 18;
export const PE_TRUNC_ICMP = 19;

export const PARSE_ERROR_NAMES: readonly string[] = [
  "ok",
  "unknown_linktype",
  "trunc_eth",
  "trunc_vlan",
  "vlan_limit",
  "trunc_sll",
  "trunc_arp",
  "trunc_ip4",
  "bad_ip_version",
  "bad_ihl",
  "bad_ip_len",
  "trunc_ip6",
  "trunc_ip6_ext",
  "ip6_ext_limit",
  "bad_ip6_ext",
  "trunc_tcp",
  "bad_tcp_doff",
  "trunc_udp",
  "bad_udp_len",
  "trunc_icmp",
];

export const PARSE_ERROR_DOCS: readonly string[] = [
  "decoded",
  "the link type is not one the decoder understands",
  "shorter than an Ethernet header (14 bytes)",
  "a VLAN tag is cut off",
  "more than two VLAN tags",
  "shorter than the Linux cooked (SLL/SLL2) header",
  "the ARP header is cut off",
  "the IPv4 header is cut off (fixed part or options)",
  "the IP version nibble does not match the link type or EtherType",
  "IPv4 IHL below 5",
  "IP total length smaller than the IP header",
  "the IPv6 fixed header is cut off",
  "an IPv6 extension header is cut off",
  "more IPv6 extension headers than the walk allows (8)",
  "an IPv6 extension header's length runs past the IPv6 payload",
  "the TCP header is cut off",
  "TCP data offset below 5",
  "the UDP header is cut off",
  "UDP length field below 8",
  "the ICMP/ICMPv6 header is cut off",
];

export function parseErrorName(code: number): string {
  const c = code < 0 ? -code : code;
  return PARSE_ERROR_NAMES[c] ?? `parse_error_${c}`;
}
