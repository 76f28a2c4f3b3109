/**
 * Which refusals say "this address does not exist" (docs/design.md,
 * "Recipient data and suppressions"). Only those are suppressed: a 5.7.x
 * policy or content refusal says nothing about the address, and suppressing
 * on it would silently drop customers after one bad newsletter.
 * RFC 3463 §3.2: X.1.Y are addressing status codes.
 */
import type { Dsn } from "./dsn.ts";

export function isAddressFailure(code: number | undefined, text: string): boolean {
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text);
  if (enhanced) return enhanced[1] === "5" && enhanced[2] === "1";
  return code === 550 || code === 551 || code === 553;
}

export type BounceDecision =
  | { kind: "suppress"; fps: string[]; by: "token" | "address" }
  | { kind: "skip"; why: string }
  | { kind: "refuse"; why: string };

export interface BounceContext {
  /** sending.return_path, when bounces come back to per-message addresses. */
  returnPath?: string | undefined;
  /** The bounce token's fingerprint when genuine (compose/ids.ts verifyBounceToken). */
  verifyToken(token: string): string | null;
  /** VERP token in an address made from returnPath (verp.ts). */
  tokenIn(address: string, returnPath: string): string | null;
  fingerprintOf(address: string): string | null;
}

/**
 * Whom one DSN lets us suppress. With `sending.return_path` set, only a bounce
 * that came back to a genuine per-message token counts: otherwise anyone who
 * can mail the bounce mailbox could suppress any customer by naming them in a
 * made-up report. Without it, the report's Final-Recipient addresses are used.
 */
export function decideBounce(dsn: Dsn | null, ctx: BounceContext): BounceDecision {
  if (dsn === null) return { kind: "refuse", why: "not a delivery status notification (no message/delivery-status part, RFC 3464)" };
  const failed = dsn.recipients.filter((r) => r.action === "failed" && isAddressFailure(undefined, r.status));
  if (failed.length === 0) return { kind: "skip", why: "no permanent address failure in it (a delay, or a refusal that is not about the address)" };
  const named = failed.map((r) => (r.address ? ctx.fingerprintOf(r.address) : null)).filter((x): x is string => x !== null);
  if (ctx.returnPath) {
    const tokens = dsn.deliveredTo.map((a) => ctx.tokenIn(a, ctx.returnPath!)).filter((t): t is string => t !== null);
    if (tokens.length === 0) return { kind: "refuse", why: "it did not come back to a per-message bounce address (sending.return_path is set)" };
    const fp = tokens.map((t) => ctx.verifyToken(t)).find((x) => x !== null);
    if (!fp) return { kind: "refuse", why: "its bounce token is not genuine" };
    if (named.length > 0 && !named.includes(fp)) return { kind: "refuse", why: "its bounce token names another recipient than the report" };
    return { kind: "suppress", fps: [fp], by: "token" };
  }
  if (named.length === 0) return { kind: "refuse", why: "it names no recipient address" };
  return { kind: "suppress", fps: [...new Set(named)], by: "address" };
}
