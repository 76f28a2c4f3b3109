/**
 * What the composer accepts in the fields it emits verbatim. Everything that
 * reaches a header unencoded is checked here first, so no value can add a
 * header line or a second recipient (docs/design.md, "One recipient per message").
 *
 * Errors name the field and mask any address (src/address/mask.ts).
 */
import { mask } from "../address/mask.ts";
import { redact } from "../address/redact.ts";
import { FindingsError } from "../errors.ts";

/** RFC 5322 §3.2.3 atext, as a character class body. */
const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
/** RFC 5322 §3.2.3 dot-atom-text. */
const DOT_ATOM_TEXT = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`);
/** An LDH host name of at least two labels (RFC 1035 §2.3.1; IDN already in A-labels). */
const LDH_DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * RFC 5322 §3.6.8 ftext: printable US-ASCII except ":". A header name of
 * anything else (a space, CR, LF) could start a new header or the body.
 */
const FTEXT_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * URI characters (RFC 3986 §2: unreserved, reserved, "%") minus ",":
 * RFC 2369 §2 requires literal commas in a List-* URL to be encoded, and a
 * comma in a mailto: URL would name a second recipient (RFC 6068 §2).
 */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+;=%]+$/;
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#]|$)/;

/** Header values: CR and LF would end the field (RFC 5322 §2.2), NUL is never allowed. */
const BREAKS_HEADER = /[\r\n\0]/;

/** Every message passes through redact() as well: a value quoted in it may hold an address. */
function fail(message: string): never {
  throw new FindingsError(redact(`cannot compose: ${message}`));
}

/**
 * An addr-spec emitted exactly as given: ASCII dot-atom local part and an LDH
 * domain (RFC 5322 §3.4.1 without quoted local parts or domain literals,
 * which our lists never hold), at most 254 octets (RFC 5321 §4.5.3.1.3).
 */
export function checkAddress(field: string, address: string): string {
  const at = address.lastIndexOf("@");
  if (
    at <= 0 ||
    address.length > 254 ||
    at > 64 ||
    !DOT_ATOM_TEXT.test(address.slice(0, at)) ||
    !LDH_DOMAIN.test(address.slice(at + 1))
  ) {
    fail(`${field} address ${JSON.stringify(mask(address))} is not a plain ASCII addr-spec (RFC 5322 §3.4.1)`);
  }
  return address;
}

/** RFC 5322 §3.6.4 msg-id without the brackets: dot-atom-text "@" dot-atom-text. */
export function checkMessageId(id: string): string {
  const at = id.lastIndexOf("@");
  if (at <= 0 || id.length > 250 || !DOT_ATOM_TEXT.test(id.slice(0, at)) || !DOT_ATOM_TEXT.test(id.slice(at + 1))) {
    fail(`Message-ID ${JSON.stringify(mask(id))} is not id-left@id-right (RFC 5322 §3.6.4), without angle brackets`);
  }
  return id;
}

/** RFC 2919 §2: list-label "." list-id-namespace, a dot-atom-text of at most 255 octets. */
export function checkListId(id: string): string {
  if (id.length > 255 || !id.includes(".") || !DOT_ATOM_TEXT.test(id)) {
    fail(`List-Id ${JSON.stringify(mask(id))} is not list-label.namespace (RFC 2919 §2), without angle brackets`);
  }
  return id;
}

/** A dot-atom-text piece (Message-ID parts built by ids.ts). */
export function isDotAtomText(s: string): boolean {
  return DOT_ATOM_TEXT.test(s);
}

export function isLdhDomain(s: string): boolean {
  return LDH_DOMAIN.test(s);
}

/** RFC 8058 §3.1: the one-click URL must be https. */
export function checkUnsubscribeUrl(url: string): string {
  if (!HTTPS_URL.test(url) || !URI_CHARS.test(url)) {
    fail(
      `List-Unsubscribe URL ${JSON.stringify(mask(url))} must be an https URL of URI characters without "," ` +
        "(RFC 8058 §3.1, RFC 2369 §2)",
    );
  }
  return url;
}

/** `mailto:` URL (RFC 6068); a bare address gets the scheme prepended. */
export function checkUnsubscribeMailto(value: string): string {
  const url = /^mailto:/i.test(value) ? value : `mailto:${value}`;
  const q = url.indexOf("?");
  const to = url.slice("mailto:".length, q < 0 ? undefined : q);
  if (!URI_CHARS.test(url) || to.includes("%")) fail(`List-Unsubscribe mailto ${JSON.stringify(mask(value))} is not a mailto: URL without "," (RFC 6068, RFC 2369 §2)`);
  checkAddress("List-Unsubscribe mailto", to);
  return url;
}

export function checkHeaderName(name: string): string {
  if (!FTEXT_NAME.test(name)) fail(`header name ${JSON.stringify(name)} is not RFC 5322 §3.6.8 ftext`);
  return name;
}

/** Refuse any value that could end a header field: header injection. */
export function checkHeaderValue(field: string, value: string): string {
  if (BREAKS_HEADER.test(value)) fail(`${field} holds CR, LF or NUL (header injection, RFC 5322 §2.2)`);
  return value;
}

/**
 * Header names a caller's extra headers may not use: those the composer
 * writes itself (one of each, RFC 5322 §3.6), every field that names
 * recipients or senders (§3.6.2, §3.6.3, §3.6.6: no Cc/Bcc ever,
 * "One recipient per message"), trace fields (§3.6.7) and the MIME structure (RFC 2045).
 */
const RESERVED = new Set([
  "date",
  "from",
  "sender",
  "reply-to",
  "to",
  "cc",
  "bcc",
  "subject",
  "message-id",
  "in-reply-to",
  "references",
  "list-id",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "mime-version",
  "return-path",
  "received",
  "dkim-signature",
  "delivered-to",
  "disposition-notification-to",
  "return-receipt-to",
  "apparently-to",
  "envelope-to",
  "x-original-to",
]);

export function checkExtraHeaderName(name: string): string {
  checkHeaderName(name);
  const lower = name.toLowerCase();
  if (RESERVED.has(lower) || lower.startsWith("resent-") || lower.startsWith("content-")) {
    fail(`extra header ${JSON.stringify(name)} is written by the composer or names recipients; it cannot be added`);
  }
  return name;
}

export { fail as composeFail };
