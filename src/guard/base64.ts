/**
 * Strict base64 (RFC 4648 §4, as used by RFC 2045 §6.8 and RFC 2047 §4.1).
 * The shared decoder (src/detect/mime.ts) skips anything outside the
 * alphabet, as RFC 2045 §6.8 asks of mail readers; the guard instead refuses
 * such input, because readers differ on it (padding in the middle ends the
 * data for Node's decoder and not for others): what one reader shows and
 * another hides must not pass unread.
 */
import { decodeBase64 } from "../detect/mime.ts";
import { unparseable } from "./refusal.ts";

const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const LINE_BREAKS = /\r?\n/g;

/** Decodes base64 text whose only extra characters are line breaks; refuses anything else. */
export function decodeBase64Strict(text: string, where: string): Buffer {
  const compact = text.includes("\n") ? text.replace(LINE_BREAKS, "") : text;
  if (!STRICT.test(compact)) unparseable(where, "malformed base64 (RFC 4648 §4)");
  return decodeBase64(compact);
}
