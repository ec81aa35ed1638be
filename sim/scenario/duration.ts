// Durations in a scenario: an integer count of ns, or a string with a unit ("150ns",
// "5us", "10ms", "2s"). The result is always an integer number of ns.

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9 };

/** Returns integer ns, or a problem sentence for the validator. */
export function parseDuration(v: unknown): number | string {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) return `expected a non-negative integer number of ns or a string like "10ms", found ${v}`;
    return v;
  }
  if (typeof v !== "string") return `expected a duration (integer ns or a string like "10ms"), found ${typeName(v)}`;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)\s*$/.exec(v);
  if (m === null) return `expected a duration like "150ns", "5us", "10ms" or "2s", found "${v}"`;
  const ns = Number(m[1]) * UNIT_NS[m[2]!]!;
  const r = Math.round(ns);
  // Reject fractions of a nanosecond rather than rounding silently ("1.5ns").
  if (Math.abs(ns - r) > 1e-6 * Math.max(1, ns) || !Number.isSafeInteger(r)) return `duration "${v}" is not a whole number of ns`;
  return r;
}

export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}
