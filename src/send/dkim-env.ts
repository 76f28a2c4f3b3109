/**
 * DKIM settings from the environment (secrets, never the repository):
 * NEWSLETTER_DKIM_PRIVATE_KEY (PEM), NEWSLETTER_DKIM_SELECTOR, and
 * NEWSLETTER_DKIM_DOMAIN (default: the From address's domain). Without a key,
 * messages are not signed (the relay may sign instead).
 */
import { UsageError } from "../errors.ts";

export function dkimFromEnv(env: Readonly<Record<string, string | undefined>>, fromDomain: string): { privateKey: string; selector: string; domain: string } | undefined {
  const key = env.NEWSLETTER_DKIM_PRIVATE_KEY;
  if (!key) return undefined;
  const selector = env.NEWSLETTER_DKIM_SELECTOR;
  if (!selector) throw new UsageError("NEWSLETTER_DKIM_PRIVATE_KEY is set but NEWSLETTER_DKIM_SELECTOR is not: the selector names the DNS record <selector>._domainkey.<domain>");
  return { privateKey: key, selector, domain: env.NEWSLETTER_DKIM_DOMAIN || fromDomain };
}

/** The domain of `sender.from` ("Name <news@corp.example>" → "corp.example"). */
export function senderDomain(from: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(from);
  return (m?.[1] ?? "").toLowerCase();
}
