// Doubling storage for the model's typed-array columns (event heap, link queues): a new
// array of the same type, old contents copied. Growth is amortised and rare, so the one
// allocation here is the only one those structures make after construction.

type Column = Float64Array | Int32Array | Uint32Array | Uint8Array;

function like<T extends Column>(a: T, cap: number): T {
  return new (a.constructor as new (n: number) => T)(cap);
}

/** `a` copied into the front of a new array of `cap` elements (cap ≥ a.length). */
export function grown<T extends Column>(a: T, cap: number): T {
  const out = like(a, cap);
  out.set(a);
  return out;
}

/**
 * The `count` elements of ring `a` starting at `head` (wrapping at a.length), in order,
 * at the front of a new array of `cap` elements: the ring restarts at head 0.
 */
export function unrolled<T extends Column>(a: T, head: number, count: number, cap: number): T {
  const out = like(a, cap);
  const first = Math.min(count, a.length - head);
  out.set(a.subarray(head, head + first));
  if (count > first) out.set(a.subarray(0, count - first), first);
  return out;
}
