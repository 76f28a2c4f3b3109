/**
 * The embedded default transport: one `.eml` file per message (RFC 5322
 * bytes exactly as composed, which any mail client opens), in a folder.
 *
 * File name: the Message-ID (RFC 5322 §3.6.4) of the message, reduced to
 * [A-Za-z0-9._-]; a message without one gets `msg-<time>-<n>`. A Message-ID
 * that holds the recipient's address is hashed instead, so a file listing
 * never shows an address. Names are never reused: a second message with the
 * same Message-ID (a resend) becomes `<stem>-1.eml`.
 *
 * Atomic: written to a dot-named temp file, fsynced, then linked into place
 * (link(2) fails with EEXIST instead of overwriting) and the directory
 * fsynced. A reader never sees a half-written `.eml`.
 *
 * Never InDoubt (mail/port.ts): the write either completed (linked into place) or
 * it did not, and a failed one left no `.eml` behind — safe to retry.
 */
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, open, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { redact } from "../address/redact.ts";
import type { DeliveryResult, MailTransport } from "../mail/port.ts";

const MAX_STEM = 120;
const MAX_SUFFIX = 10_000;

export function createOutboxTransport(dir: string): MailTransport {
  const root = path.resolve(dir);
  let seq = 0;
  let ready: Promise<unknown> | undefined;
  let closed = false;

  return {
    name: `outbox ${dir}`,

    async deliver(envelope, raw): Promise<DeliveryResult> {
      if (closed) return { ok: false, permanent: false, message: "transport is closed" };
      try {
        ready ??= mkdir(root, { recursive: true });
        await ready;
        const stem = fileStem(raw, envelope.to) ?? `msg-${Date.now()}-${++seq}`;
        const file = await writeAtomically(root, stem, raw);
        return { ok: true, response: file };
      } catch (err) {
        ready = undefined;
        const e = err as NodeJS.ErrnoException;
        return { ok: false, permanent: false, message: redact(`${e.code ?? "ERROR"}: ${e.message ?? String(err)}`) };
      }
    },

    async close() {
      closed = true;
    },
  };
}

/** The sanitised Message-ID of `raw`, or undefined when it has none. */
export function fileStem(raw: Buffer, recipient: string): string | undefined {
  const id = messageIdOf(raw);
  if (id === undefined) return undefined;
  if (recipient && id.toLowerCase().includes(recipient.toLowerCase())) {
    return `id-${createHash("sha256").update(id).digest("hex").slice(0, 32)}`;
  }
  const stem = id
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^[._-]+/, "") // no hidden files, no "..", no option-looking names
    .slice(0, MAX_STEM)
    .replace(/[._-]+$/, "");
  return stem || undefined;
}

/** The Message-ID header's value without angle brackets (RFC 5322 §3.6.4 msg-id). */
export function messageIdOf(raw: Buffer): string | undefined {
  const text = raw.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  const header = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, " "); // unfold, RFC 5322 §2.2.3
  const m = /^message-id[ \t]*:[ \t]*(.*)$/im.exec(header);
  if (!m) return undefined;
  const value = (m[1] ?? "").trim();
  const bracketed = /<([^<>]*)>/.exec(value);
  const id = (bracketed ? bracketed[1] ?? "" : value).trim();
  return id || undefined;
}

async function writeAtomically(dir: string, stem: string, raw: Buffer): Promise<string> {
  const tmp = path.join(dir, `.${stem}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx");
  try {
    await fh.writeFile(raw);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    for (let i = 0; i < MAX_SUFFIX; i++) {
      const name = i === 0 ? `${stem}.eml` : `${stem}-${i}.eml`;
      if (await place(tmp, path.join(dir, name))) {
        await syncDir(dir);
        return name;
      }
    }
    throw Object.assign(new Error(`no free file name for ${stem}.eml`), { code: "EEXIST" });
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Puts `tmp` at `target` unless `target` exists. true when placed. */
async function place(tmp: string, target: string): Promise<boolean> {
  try {
    await link(tmp, target);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") throw err;
  }
  // A file system without hard links: check, then rename (atomic, but may race another writer).
  if (await stat(target).then(() => true, () => false)) return false;
  await rename(tmp, target);
  return true;
}

/** fsync the directory so the new entry survives a crash (POSIX); not possible everywhere. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Windows cannot open a directory for fsync; the rename is still atomic.
  }
}
