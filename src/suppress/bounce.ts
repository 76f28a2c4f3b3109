/**
 * Which refusals say "this address does not exist" (docs/design.md,
 * "Recipient data and suppressions"). Only those are suppressed: a 5.7.x
 * policy or content refusal says nothing about the address, and suppressing
 * on it would silently drop customers after one bad newsletter.
 * RFC 3463 §3.2: X.1.Y are addressing status codes.
 */
export function isAddressFailure(code: number | undefined, text: string): boolean {
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text);
  if (enhanced) return enhanced[1] === "5" && enhanced[2] === "1";
  return code === 550 || code === 551 || code === 553;
}
