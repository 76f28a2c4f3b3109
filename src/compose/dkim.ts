/**
 * DKIM signing (RFC 6376) of a composed message: rsa-sha256, relaxed/relaxed.
 * Synchronous and deterministic — no `t=`/`x=` tags, and RSASSA-PKCS1-v1_5
 * signatures are a function of key and data — so a signed message is as
 * reproducible as the composed one.
 *
 * Implemented with node:crypto rather than nodemailer's signer, which is a
 * stream transform (asynchronous, per-message stream setup): here the whole
 * message is already one Buffer.
 *
 * Signed fields (`h=`, §5.4): from, reply-to, to, subject, date, message-id,
 * list-id, list-unsubscribe, list-unsubscribe-post, mime-version,
 * content-type — those present in the message, in that order. Reply-To is
 * signed too (§5.4.1 recommends it: a changed Reply-To redirects replies),
 * and List-Unsubscribe-Post with List-Unsubscribe as RFC 8058 §4 requires.
 *
 * Over-signed (docs/design.md, "Sending and relay pushback"; RFC 6376 §8.15
 * and §5.4.2): From, To, Subject, Date, Message-ID and the List-* fields are
 * listed in `h=` once more than they occur. The extra entry signs "no such
 * field", so a second From (or Subject...) added anywhere later — a reader
 * may show the first one — breaks the signature instead of riding on it.
 */
import { createPrivateKey, createHash, sign as rsaSign, type KeyObject } from "node:crypto";
import { composeFail, isLdhDomain } from "./syntax.ts";

export const DEFAULT_SIGNED_FIELDS: readonly string[] = [
  "from",
  "reply-to",
  "to",
  "subject",
  "date",
  "message-id",
  "list-id",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "mime-version",
  "content-type",
];

/** Fields whose extra instances must break the signature (what a reader shows as the sender, the list, the subject). */
export const OVERSIGNED_FIELDS: ReadonlySet<string> = new Set([
  "from",
  "to",
  "subject",
  "date",
  "message-id",
  "list-id",
  "list-unsubscribe",
  "list-unsubscribe-post",
]);

export interface DkimOptions {
  /** PEM (PKCS#1 or PKCS#8) RSA private key, or a KeyObject. */
  privateKey: string | Buffer | KeyObject;
  /** `s=` (§3.5): sub-domain labels. */
  selector: string;
  /** `d=` (§3.5): the signing domain. */
  domain: string;
  /** Lowercase field names to sign when present; defaults to DEFAULT_SIGNED_FIELDS. */
  signedFields?: readonly string[];
}

export type DkimSigner = (raw: Buffer) => Buffer;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const SELECTOR = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** §3.4.4 relaxed body: WSP runs → one SP, no WSP at line ends, no empty lines at the end, CRLF-terminated if non-empty. */
export function relaxedBody(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length + 2);
  let o = 0;
  let pendingLines = 0;
  let wsp = false;
  const n = body.length;
  for (let i = 0; i < n; i++) {
    const b = body[i]!;
    if (b === CR && i + 1 < n && body[i + 1] === LF) {
      wsp = false;
      pendingLines++;
      i++;
    } else if (b === SP || b === TAB) {
      wsp = true;
    } else {
      for (; pendingLines > 0; pendingLines--) {
        out[o++] = CR;
        out[o++] = LF;
      }
      if (wsp) {
        out[o++] = SP;
        wsp = false;
      }
      out[o++] = b;
    }
  }
  // The pending line ends were at most one per written line, so there is room for the final CRLF.
  if (o > 0) {
    out[o++] = CR;
    out[o++] = LF;
  }
  return out.subarray(0, o);
}

/** §3.4.2 relaxed header: lowercase name, unfolded value, WSP runs → SP, no WSP around the colon or at the end. */
export function relaxedHeader(fieldText: string): string {
  const colon = fieldText.indexOf(":");
  const name = fieldText.slice(0, colon).replace(/[ \t]+$/, "").toLowerCase();
  const value = fieldText
    .slice(colon + 1)
    .replace(/\r\n/g, "")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
  return `${name}:${value}`;
}

/** Header fields (with their folds, without the final CRLF), in order, and where the body starts. */
function splitMessage(raw: Buffer): { fields: string[]; body: Buffer } {
  let end = raw.indexOf("\r\n\r\n", 0, "latin1");
  const bodyStart = end < 0 ? raw.length : end + 4;
  if (end < 0) end = raw.length;
  const fields: string[] = [];
  for (const line of raw.toString("latin1", 0, end).split("\r\n")) {
    const first = line.charCodeAt(0);
    if ((first === SP || first === TAB) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  return { fields, body: raw.subarray(bodyStart) };
}

function foldTags(tags: readonly string[]): { text: string; col: number } {
  let text = "DKIM-Signature:";
  let col = text.length;
  for (const tag of tags) {
    if (col + 1 + tag.length > 78) {
      text += "\r\n";
      col = 0;
    }
    text += ` ${tag}`;
    col += 1 + tag.length;
  }
  return { text, col };
}

/** Prepares the key once; the returned function signs one message and returns it with DKIM-Signature prepended (§5.6). */
export function createDkimSigner(opts: DkimOptions): DkimSigner {
  const key = typeof opts.privateKey === "object" && !Buffer.isBuffer(opts.privateKey)
    ? opts.privateKey
    : createPrivateKey(opts.privateKey);
  if (key.asymmetricKeyType !== "rsa") composeFail("the DKIM key is not an RSA private key");
  if (!SELECTOR.test(opts.selector)) composeFail(`DKIM selector ${JSON.stringify(opts.selector)} is not a DNS label sequence`);
  if (!isLdhDomain(opts.domain)) composeFail(`DKIM domain ${JSON.stringify(opts.domain)} is not a host name`);
  const wanted = (opts.signedFields ?? DEFAULT_SIGNED_FIELDS).map((f) => f.toLowerCase());
  for (const f of wanted) if (!FIELD_NAME.test(f)) composeFail(`DKIM field name ${JSON.stringify(f)} is not ftext`);

  return (raw: Buffer): Buffer => {
    const { fields, body } = splitMessage(raw);
    const bh = createHash("sha256").update(relaxedBody(body)).digest("base64");

    // §5.4.2: for a name listed once, the last instance in the header is signed.
    const byName = new Map<string, string>();
    for (const f of fields) byName.set(f.slice(0, Math.max(0, f.indexOf(":"))).trim().toLowerCase(), f);
    const present = wanted.filter((n) => byName.has(n));
    if (!present.includes("from")) composeFail("cannot DKIM-sign a message without From (RFC 6376 §5.4)");
    // The over-signing entry adds nothing to the signed data (§5.4.2: a name listed more often
    // than it occurs stands for a null string); it only appears in h=.
    const names = present.flatMap((n) => (OVERSIGNED_FIELDS.has(n) ? [n, n] : [n]));
    let canonical = "";
    for (const n of present) canonical += `${relaxedHeader(byName.get(n)!)}\r\n`;

    // h= folds after a colon ([FWS] is allowed there, §3.5 sig-h-tag); b= comes last, empty while signing (§3.7).
    const hParts = names.map((n, i) => (i === 0 ? `h=${n}` : n) + (i < names.length - 1 ? ":" : ";"));
    const tags = ["v=1;", "a=rsa-sha256;", "c=relaxed/relaxed;", `d=${opts.domain};`, `s=${opts.selector};`];
    const head = foldTags([...tags, ...hParts, `bh=${bh};`, "b="]);
    canonical += relaxedHeader(head.text);
    const b = rsaSign("sha256", Buffer.from(canonical, "latin1"), key).toString("base64");

    // Fold b= (FWS is allowed between its characters, §3.5) to 78-character lines.
    let field = head.text;
    let at = Math.max(0, 78 - head.col);
    field += b.slice(0, at);
    for (; at < b.length; at += 77) field += `\r\n ${b.slice(at, at + 77)}`;
    return Buffer.concat([Buffer.from(`${field}\r\n`, "latin1"), raw]);
  };
}

/** One-off signing; prefer createDkimSigner for many messages (the key is parsed once). */
export function signDkim(raw: Buffer, opts: DkimOptions): Buffer {
  return createDkimSigner(opts)(raw);
}
