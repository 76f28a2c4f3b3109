/**
 * A sample repository with a generated list of `n` recipients and a config
 * whose sending limits suit loopback tests (rate high, canary off).
 */
import { makeRepo, sampleText, SAMPLE_DIR } from "./repo.ts";

const DOMAINS = ["example.com", "example.net", "example.org", "shop.example", "mail.test"];

export function recipientAddress(i: number): string {
  return `user${i}@${DOMAINS[i % DOMAINS.length]}`;
}

export function generatedList(n: number, nameOf: (i: number) => string = (i) => (i % 7 === 0 ? `太郎${i}` : `Name${i}`)): string {
  const rows = ["email,first_name,plan"];
  for (let i = 0; i < n; i++) rows.push(`${recipientAddress(i)},${nameOf(i)},${i % 3 === 0 ? "Business" : "Free"}`);
  return `${rows.join("\n")}\n`;
}

export function fastConfig(extra = ""): string {
  return sampleText(".github/newsletter.yml").replace(
    /sending:[\s\S]*$/,
    `sending:\n  rate_per_second: 10000\n  connections: 5\n  max_failure_rate: 0.05\n${extra}`,
  );
}

export function sendRepo(n: number, changes: Record<string, string | null> = {}): string {
  return makeRepo({
    ".github/newsletter.yml": fastConfig(),
    "recipients/customers.csv": generatedList(n),
    "recipients/suppressions.csv": `email\n${recipientAddress(3)}\n`,
    ...changes,
  });
}

export { SAMPLE_DIR };
