/**
 * Deterministic identifiers derived from NEWSLETTER_SECRET with HMAC-SHA256
 * (RFC 2104), one domain-separation label per use so a value of one kind can
 * never be replayed as another.
 *
 * - Message-ID (RFC 5322 §3.6.4): `<32 hex>.<newsletterId>@<domain>`, the
 *   same for a (newsletter, recipient) pair on every run — a resend after a
 *   crash carries the same Message-ID, so receivers can de-duplicate — and,
 *   being keyed, it reveals nothing about the recipient's fingerprint.
 * - Unsubscribe token: `<fingerprint>.<16 hex>`, URL-safe, holding no
 *   address. The company's endpoint recomputes it:
 *     hex(HMAC-SHA256(secret, "gitops-newsletter/unsubscribe/v1" NUL listId NUL fingerprint))[0..16]
 *   and compares in constant time (verifyUnsubscribeToken).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { composeFail, isDotAtomText, isLdhDomain } from "./syntax.ts";

const MESSAGE_ID_LABEL = "gitops-newsletter/message-id/v1";
const UNSUBSCRIBE_LABEL = "gitops-newsletter/unsubscribe/v1";
/** A fingerprint is URL-safe and holds no "." (the token's separator). */
const FINGERPRINT = /^[A-Za-z0-9_-]{8,128}$/;

function checkSecret(secret: string | Buffer): void {
  if (secret.length === 0) composeFail("the secret is empty");
}

function checkFingerprint(fp: string): void {
  if (!FINGERPRINT.test(fp)) composeFail("the recipient fingerprint is not 8–128 URL-safe characters");
}

function hmacHex(secret: string | Buffer, ...parts: string[]): string {
  return createHmac("sha256", secret).update(parts.join("\0"), "utf8").digest("hex");
}

/** `<32 hex>.<newsletterId>@<domain>`, without angle brackets. */
export function messageIdFor(
  secret: string | Buffer,
  newsletterId: string,
  recipientFingerprint: string,
  domain: string,
): string {
  checkSecret(secret);
  checkFingerprint(recipientFingerprint);
  if (!isDotAtomText(newsletterId)) composeFail(`newsletter id ${JSON.stringify(newsletterId)} cannot be part of a Message-ID`);
  if (!isLdhDomain(domain)) composeFail(`Message-ID domain ${JSON.stringify(domain)} is not a host name`);
  const hex = hmacHex(secret, MESSAGE_ID_LABEL, newsletterId, recipientFingerprint).slice(0, 32);
  return `${hex}.${newsletterId}@${domain}`;
}

function signature(secret: string | Buffer, listId: string, fp: string): string {
  return hmacHex(secret, UNSUBSCRIBE_LABEL, listId, fp).slice(0, 16);
}

/** `<fingerprint>.<16 hex>`: goes into the unsubscribe URL in place of the address. */
export function unsubscribeToken(secret: string | Buffer, listId: string, recipientFingerprint: string): string {
  checkSecret(secret);
  checkFingerprint(recipientFingerprint);
  if (listId === "") composeFail("the list id is empty");
  return `${recipientFingerprint}.${signature(secret, listId, recipientFingerprint)}`;
}

/** The endpoint's side: the fingerprint when the token is genuine for this list, else null. */
export function verifyUnsubscribeToken(secret: string | Buffer, listId: string, token: string): string | null {
  const dot = token.lastIndexOf(".");
  if (dot < 0) return null;
  const fp = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!FINGERPRINT.test(fp) || !/^[0-9a-f]{16}$/.test(sig) || secret.length === 0) return null;
  const expected = Buffer.from(signature(secret, listId, fp), "latin1");
  return timingSafeEqual(expected, Buffer.from(sig, "latin1")) ? fp : null;
}

const BOUNCE_LABEL = "gitops-newsletter/bounce/v1";
/** A bounce token's signature: 12 hex, so `local+<fp>.<sig>` fits RFC 5321's 64-octet local part. */
const BOUNCE_SIG = /^[0-9a-f]{12}$/;

/**
 * `<fingerprint>.<12 hex>`: the VERP token in a per-message bounce address
 * (docs/design.md, "Recipient data and suppressions"). Its own label, so an
 * unsubscribe token is never a bounce token.
 */
export function bounceToken(secret: string | Buffer, recipientFingerprint: string): string {
  checkSecret(secret);
  checkFingerprint(recipientFingerprint);
  return `${recipientFingerprint}.${hmacHex(secret, BOUNCE_LABEL, recipientFingerprint).slice(0, 12)}`;
}

/** The fingerprint when `token` is a genuine bounce token, else null. */
export function verifyBounceToken(secret: string | Buffer, token: string): string | null {
  const dot = token.lastIndexOf(".");
  if (dot < 0 || secret.length === 0) return null;
  const fp = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (!FINGERPRINT.test(fp) || !BOUNCE_SIG.test(sig)) return null;
  const expected = Buffer.from(hmacHex(secret, BOUNCE_LABEL, fp).slice(0, 12), "latin1");
  return timingSafeEqual(expected, Buffer.from(sig, "latin1")) ? fp : null;
}
