/**
 * What the per-message guard (docs/design.md, "The per-message guard") is told about a message.
 * The guard is pure: bytes and this context in, a verdict out.
 */
import type { Envelope } from "../mail/port.ts";

export interface GuardContext {
  /** The one recipient of this message, normalised (src/address/normalise.ts). */
  recipient: string;
  /** leakage.allow_addresses, normalised. */
  allowAddresses: ReadonlySet<string>;
  /** leakage.allow_domains, lowercase ASCII: the domain and its subdomains. */
  allowDomains: readonly string[];
  /**
   * Addresses our own composition puts into every message (From, Reply-To,
   * the List-Unsubscribe mailto, the Message-ID), normalised. Allowed.
   */
  ownAddresses: ReadonlySet<string>;
  /**
   * Is this normalised address a member of the list being sent, or
   * suppressed? Answered from the send's fingerprints (listed.ts), never
   * from addresses. Any address that folds to one, in any spelling, and is
   * not `recipient` aborts the send, even one that is ours or allowlisted
   * (docs/design.md, "The per-message guard"). Absent: no list is known
   * (a preview), and only the strict reading is held against the allowlist.
   */
  listed?: (normalisedAddr: string) => boolean;
}

export type GuardVerdict =
  | { ok: true }
  | {
      ok: false;
      /** Stable reason code for branching and the audit line. */
      reason: "envelope" | "recipient-header" | "foreign-address" | "unparseable";
      /** Where it was found: a header name or `body/text`, `body/html`. */
      where: string;
      /** The offending address, masked. Never the address in full. */
      masked: string;
      detail: string;
    };

export type Guard = (raw: Buffer, envelope: Envelope, ctx: GuardContext) => GuardVerdict;
