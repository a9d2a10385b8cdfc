/**
 * Safe file replacement. For a regular file (or a new one): write a temp file beside the
 * target, fsync it, give it the mode of the file it replaces, rename it over the target, fsync
 * the folder; a failure at any step (including a chunk producer that throws) removes the temp
 * file and leaves the previous file untouched.
 *
 * What the path points at is respected: a symbolic link is followed and its target replaced
 * (the link stays a link), and a path that is not a regular file (a FIFO, a device such as
 * /dev/null) is written in place, since renaming over it would replace the device node
 * itself. A directory is refused. Errors name the caller's path, never the temp file.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { promises as fsp } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

import { DeepgenError } from "../core/errors.js";

/** Largest slice handed to one write call (the syscall takes at most 2 GiB). */
const MAX_WRITE = 1 << 30;
/** Mode of a newly created file (before the umask). */
const NEW_FILE_MODE = 0o644;
/** Link hops followed before giving up, as the kernel's ELOOP limit. */
const MAX_LINK_HOPS = 40;

/** Where and how a write lands. */
interface WritePlan {
  /** The file that is written or replaced: the path with every symbolic link followed. */
  target: string;
  /** true: write the target in place (FIFO, device); false: temp file + rename. */
  inPlace: boolean;
  /** The mode the new file gets: that of the file it replaces, or NEW_FILE_MODE (less the umask). */
  mode: number;
  /** An existing regular file is replaced: its mode is set exactly, whatever the umask. */
  replaces: boolean;
}

function ioError(path: string, message: string, cause?: unknown): DeepgenError {
  return new DeepgenError("E_IO", `cannot write ${path}: ${message}`, cause === undefined ? undefined : { cause });
}

/** An fs error as text that names the user's path (the syscall may have named the temp file). */
function describe(e: unknown, path: string, tmp: string | undefined): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case "ENOENT":
      return `the folder ${dirname(resolve(path))} does not exist`;
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOSPC":
      return "no space left on the device";
    case "EROFS":
      return "the file system is read-only";
    case "EISDIR":
      return "it is a directory";
    case "ENOTDIR":
      return "a part of the path is not a directory";
  }
  const message = String(err.message ?? e);
  return tmp === undefined ? message : message.split(tmp).join(path);
}

/** Follows symbolic links by hand, so a dangling link resolves to the file it will create. */
function planWrite(path: string): WritePlan {
  if (typeof path !== "string" || path === "") throw new DeepgenError("E_IO", "cannot write: the output path is empty");
  let target = path;
  for (let hops = 0; ; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return { target, inPlace: false, mode: NEW_FILE_MODE, replaces: false };
      throw ioError(path, describe(e, path, undefined), e);
    }
    if (st.isSymbolicLink()) {
      if (hops >= MAX_LINK_HOPS) throw ioError(path, "too many levels of symbolic links");
      try {
        target = resolve(dirname(target), fs.readlinkSync(target));
      } catch (e) {
        throw ioError(path, describe(e, path, undefined), e);
      }
      continue;
    }
    if (st.isDirectory()) throw ioError(path, "it is a directory");
    if (st.isFile()) return { target, inPlace: false, mode: st.mode & 0o7777, replaces: true };
    return { target, inPlace: true, mode: NEW_FILE_MODE, replaces: false };
  }
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

async function writeChunks(handle: fsp.FileHandle, chunks: Iterable<Uint8Array>): Promise<void> {
  for (const chunk of chunks) {
    // write() may write less than asked (and takes at most 2 GiB): loop over slices.
    for (let off = 0; off < chunk.length; ) {
      const { bytesWritten } = await handle.write(chunk, off, Math.min(chunk.length - off, MAX_WRITE));
      off += bytesWritten;
    }
  }
}

function writeChunksSync(fd: number, chunks: Iterable<Uint8Array>): void {
  for (const chunk of chunks) {
    for (let off = 0; off < chunk.length; ) off += fs.writeSync(fd, chunk, off, Math.min(chunk.length - off, MAX_WRITE));
  }
}

export async function atomicWriteFile(path: string, chunks: Iterable<Uint8Array>): Promise<void> {
  const plan = planWrite(path);
  if (plan.inPlace) {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(plan.target, "w");
      await writeChunks(handle, chunks);
    } catch (e) {
      throw e instanceof DeepgenError ? e : ioError(path, describe(e, path, undefined), e);
    } finally {
      await handle?.close().catch(() => undefined);
    }
    return;
  }
  const tmp = tempPathFor(plan.target);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, "wx", plan.mode);
    await writeChunks(handle, chunks);
    // The umask narrowed the open's mode: a replaced file keeps its mode exactly (a new one
    // keeps what the umask made of NEW_FILE_MODE).
    if (plan.replaces) await handle.chmod(plan.mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, plan.target);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw e instanceof DeepgenError ? e : ioError(path, describe(e, path, tmp), e);
  }
  await syncDirectory(dirname(plan.target));
}

/** Synchronous twin, for saving from signal handlers and scripts. */
export function atomicWriteFileSync(path: string, chunks: Iterable<Uint8Array>): void {
  const plan = planWrite(path);
  if (plan.inPlace) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(plan.target, "w");
      writeChunksSync(fd, chunks);
    } catch (e) {
      throw e instanceof DeepgenError ? e : ioError(path, describe(e, path, undefined), e);
    } finally {
      try {
        if (fd !== undefined) fs.closeSync(fd);
      } catch {
        // a failed close must not hide the write's own error
      }
    }
    return;
  }
  const tmp = tempPathFor(plan.target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx", plan.mode);
    writeChunksSync(fd, chunks);
    if (plan.replaces) fs.fchmodSync(fd, plan.mode);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, plan.target);
  } catch (e) {
    // Cleanup must not replace the original error.
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    } catch {
      // the temp file may be left behind; the target is untouched either way
    }
    throw e instanceof DeepgenError ? e : ioError(path, describe(e, path, tmp), e);
  }
  try {
    const dfd = fs.openSync(dirname(plan.target), "r");
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Some file systems refuse fsync on folders; the rename itself already happened.
  }
}

/**
 * Checks, before a long job, that `path` can be written the way atomicWriteFile will write it:
 * not a directory, its folder there and writable (a probe file is created in it and removed).
 * E_IO names the path; nothing is left behind.
 */
export function checkWritable(path: string): void {
  const plan = planWrite(path);
  if (plan.inPlace) {
    try {
      fs.accessSync(plan.target, fs.constants.W_OK);
    } catch (e) {
      throw ioError(path, describe(e, path, undefined), e);
    }
    return;
  }
  const probe = tempPathFor(plan.target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(probe, "wx", plan.mode);
  } catch (e) {
    throw ioError(path, describe(e, path, probe), e);
  } finally {
    if (fd !== undefined) {
      fs.closeSync(fd);
      fs.rmSync(probe, { force: true });
    }
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
