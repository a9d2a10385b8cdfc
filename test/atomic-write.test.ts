import { execFileSync } from "node:child_process";
import {
  chmodSync,
  createReadStream,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { atomicWriteFile, atomicWriteFileSync } from "../lib/io/atomic-write.js";

const bytes = (s: string): Uint8Array[] => [new TextEncoder().encode(s)];
const fresh = (): string => mkdtempSync(join(tmpdir(), "deepgen-write-"));
const posix = process.platform !== "win32";

for (const [name, write] of [
  ["atomicWriteFile", atomicWriteFile],
  ["atomicWriteFileSync", async (p: string, c: Iterable<Uint8Array>) => atomicWriteFileSync(p, c)],
] as const) {
  test(`${name}: a symbolic link is followed; its target is replaced and the link stays a link`, async (t) => {
    const dir = fresh();
    const real = join(dir, "real.png");
    writeFileSync(real, "old");
    const link = join(dir, "link.png");
    symlinkSync("real.png", link);
    await write(link, bytes("new"));
    t.true(lstatSync(link).isSymbolicLink());
    t.is(readlinkSync(link), "real.png");
    t.is(readFileSync(real, "utf8"), "new");
    t.deepEqual(readdirSync(dir).sort(), ["link.png", "real.png"]);
  });

  test(`${name}: a dangling link creates its target`, async (t) => {
    const dir = fresh();
    const link = join(dir, "link.png");
    symlinkSync("made.png", link);
    await write(link, bytes("x"));
    t.true(lstatSync(link).isSymbolicLink());
    t.is(readFileSync(join(dir, "made.png"), "utf8"), "x");
  });

  test(`${name}: a replaced file keeps its mode`, async (t) => {
    if (!posix) return t.pass("modes are POSIX");
    const dir = fresh();
    const path = join(dir, "secret.safetensors");
    writeFileSync(path, "old");
    chmodSync(path, 0o600);
    await write(path, bytes("new"));
    t.is(statSync(path).mode & 0o777, 0o600);
    t.is(readFileSync(path, "utf8"), "new");
  });

  // Serial: the umask is the whole process's.
  test.serial(`${name}: a new file's mode follows the umask (the replaced-mode rule applies to existing files only)`, async (t) => {
    if (!posix) return t.pass("modes are POSIX");
    const dir = fresh();
    const path = join(dir, "private.png");
    const old = process.umask(0o077);
    try {
      await write(path, bytes("x"));
    } finally {
      process.umask(old);
    }
    t.is(statSync(path).mode & 0o777, 0o600);
  });

  test(`${name}: errors name the caller's path, never the temp file`, async (t) => {
    const dir = fresh();
    const missing = join(dir, "no-such-folder", "out.png");
    const err = await t.throwsAsync(write(missing, bytes("x")), { instanceOf: DeepgenError });
    t.is((err as DeepgenError).code, "E_IO");
    t.true(err!.message.includes(missing), err!.message);
    t.false(err!.message.includes(".tmp"), err!.message);
    const empty = await t.throwsAsync(write("", bytes("x")), { instanceOf: DeepgenError });
    t.is((empty as DeepgenError).code, "E_IO");
    t.false(empty!.message.includes(".tmp"), empty!.message);
    t.regex(empty!.message, /empty/);
  });

  test(`${name}: a directory is refused with E_IO and left alone`, async (t) => {
    const dir = fresh();
    const sub = join(dir, "sub");
    mkdirSync(sub);
    const err = await t.throwsAsync(write(sub, bytes("x")), { instanceOf: DeepgenError });
    t.is((err as DeepgenError).code, "E_IO");
    t.regex(err!.message, /directory/);
    t.true(statSync(sub).isDirectory());
  });
}

test("a FIFO is written in place, not replaced by a regular file", async (t) => {
  if (!posix) return t.pass("FIFOs are POSIX");
  const dir = fresh();
  const fifo = join(dir, "pipe");
  execFileSync("mkfifo", [fifo]);
  const received = new Promise<string>((resolve, reject) => {
    let text = "";
    createReadStream(fifo, "utf8")
      .on("data", (d) => {
        text += d;
      })
      .on("end", () => resolve(text))
      .on("error", reject);
  });
  await atomicWriteFile(fifo, bytes("through the pipe"));
  t.is(await received, "through the pipe");
  t.true(lstatSync(fifo).isFIFO());
  t.deepEqual(readdirSync(dir), ["pipe"]);
});

test("a character device is written in place (/dev/null stays a device)", async (t) => {
  if (!posix) return t.pass("devices are POSIX");
  await atomicWriteFile("/dev/null", bytes("discarded"));
  atomicWriteFileSync("/dev/null", bytes("discarded"));
  t.true(statSync("/dev/null").isCharacterDevice());
});
