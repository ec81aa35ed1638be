// One UMEM in aligned-chunk mode: `frames` chunks of `frameSize` bytes in one Uint8Array.
// Address arithmetic follows the kernel's buffer pool (net/xdp/xsk_buff_pool.c):
// - a fill-ring address is masked down to its chunk (xp_aligned_extract_addr), so any
//   address inside a chunk names that chunk;
// - on receive the packet data starts at chunk + headroom + XDP_PACKET_HEADROOM (256)
//   (xp_init_xskb_addr: data_hard_start = chunk + pool->headroom; xp_alloc: data =
//   data_hard_start + XDP_PACKET_HEADROOM), and the RX descriptor's addr is the UMEM
//   offset of that first data byte (xp_get_handle, aligned mode);
// - the metadata block the XDP program put in front of the packet is copied to the bytes
//   just before the data (__xsk_rcv: memcpy(data - meta_len, data_meta, meta_len + len));
// - the largest packet that fits is frameSize − headroom − 256
//   (xsk_pool_get_rx_frame_size without multi-buffer).
// The bytes may be a window of a larger buffer shared with C (the native worker reads
// and writes frames in place through koffi), so `data` is never reallocated.

export const XDP_PACKET_HEADROOM = 256;

export class Umem {
  readonly frames: number;
  readonly frameSize: number;
  /** The UMEM headroom configured at XDP_UMEM_REG (user headroom, not the 256 bytes). */
  readonly headroom: number;
  readonly data: Uint8Array;
  /** Total bytes (the pool's addrs_cnt). */
  readonly size: number;
  /** Offset from chunk start to the first packet byte of a received frame. */
  readonly rxDataOffset: number;
  /** Largest packet (bytes, without metadata) that fits a frame on receive. */
  readonly rxFrameSize: number;
  private readonly shift: number;

  /** `region`, when given, holds the frames (at least frames × frameSize bytes, contents kept). */
  constructor(frames: number, frameSize: number, headroom: number, region?: Uint8Array) {
    if (!Number.isInteger(frames) || frames <= 0) throw new RangeError(`UMEM frame count must be a positive integer, got ${frames}`);
    // XDP_UMEM_REG (xdp_umem_reg): chunk size between 2048 and PAGE_SIZE, power of two in aligned mode.
    if (!Number.isInteger(frameSize) || frameSize < 2048 || frameSize > 65536 || (frameSize & (frameSize - 1)) !== 0) {
      throw new RangeError(`UMEM frame size must be a power of two in [2048, 65536], got ${frameSize}`);
    }
    if (!Number.isInteger(headroom) || headroom < 0 || headroom >= frameSize - XDP_PACKET_HEADROOM - 128) {
      throw new RangeError(`UMEM headroom ${headroom} leaves no room in a ${frameSize}-byte frame`);
    }
    this.frames = frames;
    this.frameSize = frameSize;
    this.headroom = headroom;
    this.size = frames * frameSize;
    if (region !== undefined && region.byteLength < this.size) throw new RangeError(`UMEM needs ${this.size} bytes, region has ${region.byteLength}`);
    this.data = region === undefined ? new Uint8Array(this.size) : region.subarray(0, this.size);
    this.rxDataOffset = headroom + XDP_PACKET_HEADROOM;
    this.rxFrameSize = frameSize - headroom - XDP_PACKET_HEADROOM;
    this.shift = Math.log2(frameSize);
  }

  /** Chunk base address of frame i. */
  frameAddr(i: number): number {
    return i * this.frameSize;
  }

  /** Frame index of any address inside a chunk (addr must be < size). */
  frameIndex(addr: number): number {
    return Math.floor(addr / this.frameSize);
  }

  /** Chunk base of any address (xp_aligned_extract_addr). */
  chunkBase(addr: number): number {
    return addr - (addr % this.frameSize);
  }

  /** Address of the first packet byte after a copy-mode receive into the chunk at `base`. */
  rxDataAddr(base: number): number {
    return base + this.rxDataOffset;
  }

  /** Is `addr` inside the UMEM? (xp_check_aligned) */
  contains(addr: number): boolean {
    return addr >= 0 && addr < this.size;
  }

  /** xp_aligned_validate_desc for a TX descriptor: non-empty, within one chunk, inside the UMEM. */
  validTxDesc(addr: number, len: number, options: number): boolean {
    if (len === 0) return false;
    if (!(addr >= 0) || addr >= this.size) return false;
    if ((addr % this.frameSize) + len > this.frameSize) return false;
    // Only XDP_PKT_CONTD (bit 0) is a known option for a plain TX descriptor.
    return (options & ~1) === 0;
  }

  /** log2(frameSize), for callers that want shifts. */
  get frameShift(): number {
    return this.shift;
  }
}
