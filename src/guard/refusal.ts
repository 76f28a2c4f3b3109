/**
 * How the guard's steps say "no": they throw a `Refusal`, and guard.ts turns
 * the first one into the verdict. A refusal is rare (it aborts the whole
 * send), so an exception costs nothing on the path that matters, and every
 * step can stop at the first problem without threading results through.
 *
 * `where`, `masked` and `detail` end up in logs and the audit record: they
 * are built from constants, header names the parser has checked to be
 * letters, digits and hyphens, and `mask()`ed addresses. Never from message
 * text.
 */
import type { GuardVerdict } from "./port.ts";

export type Reason = Exclude<GuardVerdict, { ok: true }>["reason"];

export class Refusal extends Error {
  constructor(
    readonly reason: Reason,
    readonly where: string,
    readonly detail: string,
    readonly masked = "",
  ) {
    super(detail);
    this.name = "Refusal";
  }
}

export function refuse(reason: Reason, where: string, detail: string, masked = ""): never {
  throw new Refusal(reason, where, detail, masked);
}

/** Shorthand for the commonest refusal: a message we cannot read with certainty (fail closed). */
export function unparseable(where: string, detail: string): never {
  throw new Refusal("unparseable", where, detail);
}
