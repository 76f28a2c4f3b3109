/**
 * The result of `check` over one or more newsletter folders: what every
 * output format (text, json, sarif, github) renders. Holds no address in full.
 */
import type { Finding } from "./finding.ts";

export interface NewsletterSummary {
  /** Folder relative to the root, e.g. `newsletters/2026-12-01-winter`. */
  dir: string;
  id: string;
  subject?: string;
  list?: string;
  /** Rows in the list that will be mailed (after suppressions). */
  recipients?: number;
  /** Of the list's recipients, how many recipients/suppressions.csv removes. */
  suppressed?: number;
  /** How many more the suppression store removes (as the send applies it); absent when it was not read. */
  storeSuppressed?: number;
  /** Store entries by fingerprint under another key than this run's: only the send's key matches them. */
  storeUnmatched?: number;
  /** Distinct addresses found in the content after decoding and normalising. */
  contentAddresses?: number;
}

export interface CheckReport {
  ok: boolean;
  findings: Finding[];
  newsletters: NewsletterSummary[];
}
