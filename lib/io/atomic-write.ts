/**
 * Atomic file replacement: write a temp file beside the target, fsync it, rename it over the
 * target, fsync the folder. A failure at any step (including a chunk producer that throws)
 * removes the temp file and leaves the previous file untouched.
 */
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";

import { DeepgenError } from "../core/errors.js";

/** Largest slice handed to one write call (the syscall takes at most 2 GiB). */
const MAX_WRITE = 1 << 30;

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

function ioError(action: string, path: string, e: unknown): DeepgenError {
  if (e instanceof DeepgenError) return e;
  return new DeepgenError("E_IO", `cannot ${action} ${path}: ${(e as Error).message}`, { cause: e });
}

export async function atomicWriteFile(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const tmp = tempPathFor(path);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, "wx", 0o644);
    for (const chunk of chunks) {
      // write() may write less than asked (and takes at most 2 GiB): loop over slices.
      for (let off = 0; off < chunk.length; ) {
        const { bytesWritten } = await handle.write(chunk, off, Math.min(chunk.length - off, MAX_WRITE));
        off += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw ioError("write", path, e);
  }
  await syncDirectory(dirname(path));
}

/** Synchronous twin, for saving from signal handlers and scripts. */
export function atomicWriteFileSync(path: string, chunks: Iterable<Uint8Array>): void {
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", 0o644);
    for (const chunk of chunks) {
      for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off, Math.min(chunk.length - off, MAX_WRITE));
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    // Cleanup must not replace the original error.
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    } catch {
      // the temp file may be left behind; the target is untouched either way
    }
    throw ioError("write", path, e);
  }
  try {
    const dfd = fs.openSync(dirname(path), "r");
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on folders; the rename itself already happened.
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const h = await fsp.open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Some file systems refuse fsync on folders; the rename itself already happened.
  }
}
