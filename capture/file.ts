// File-backed ByteSink: the I/O half of the capture writers (the encoders are pure,
// in encode.ts). Small chunks are gathered in one buffer and written with writeSync, so
// a writer emitting one block per packet costs one syscall per ~1 MiB, not per packet.
import { openSync, writeSync, closeSync } from "node:fs";
import type { ByteSink } from "./encode.js";

const BUFFER_BYTES = 1 << 20;

export function fileSink(path: string): ByteSink {
  const fd = openSync(path, "w");
  const buf = new Uint8Array(BUFFER_BYTES);
  let len = 0;
  let closed = false;
  const flush = (): void => {
    let done = 0;
    while (done < len) done += writeSync(fd, buf, done, len - done);
    len = 0;
  };
  return {
    write(chunk: Uint8Array): void {
      if (closed) throw new Error(`fileSink ${path}: write after close`);
      if (len + chunk.length > buf.length) flush();
      if (chunk.length >= buf.length) {
        let done = 0;
        while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
        return;
      }
      buf.set(chunk, len);
      len += chunk.length;
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        flush();
      } finally {
        closeSync(fd);
      }
    },
  };
}
