/**
 * The manifest of a newsletter (README.md, "The manifest and its digest"): what approvers
 * compare between the approval copy and the pull request. Holds counts and
 * hashes only, never an address.
 */
import type { CheckedNewsletter } from "../check/check-newsletters.ts";
import type { ColumnStats } from "../check/list-fields.ts";
import { DIGEST_VERSION } from "../digest/digest.ts";

export interface Manifest {
  id: string;
  subject: string;
  /**
   * `count`: who the send will mail, less the CSV suppressions (`suppressed`) and, when the
   * suppression store was read, its entries (`suppressed_by_store`) as the send applies them;
   * `store_unmatched`: its fingerprint entries only the send's key can match (docs/design.md,
   * "Recipient data and suppressions").
   */
  recipients: {
    list: string; file: string; count: number; suppressed: number; suppressed_by_store?: number; store_unmatched?: number; rows: number; sha256: string;
  };
  inputs: Array<{ role: string; path: string; sha256: string | null }>;
  digest: string;
  digest_version: string;
  /**
   * Per list column a placeholder uses: the longest value (length and row),
   * the character classes seen, and how many values look like an address or
   * a URL. Counts only, no value.
   */
  placeholder_columns: ColumnStats[];
  /** Whether the checks passed; a manifest of a failing newsletter is for information only. */
  checks_ok: boolean;
}

/** Null when an input needed for the digest is missing or unreadable. */
export function buildManifest(n: CheckedNewsletter): Manifest | null {
  if (!n.meta || !n.list || !n.digest) return null;
  return {
    id: n.id,
    subject: n.meta.subject,
    recipients: {
      list: n.meta.recipients,
      file: n.list.file,
      count: n.list.sendCount - (n.storeCounts?.suppressed ?? 0),
      suppressed: n.list.suppressed,
      ...(n.storeCounts ? { suppressed_by_store: n.storeCounts.suppressed, store_unmatched: n.storeCounts.unmatched } : {}),
      rows: n.list.rows,
      sha256: n.list.sha256,
    },
    inputs: n.inputs.map((i) => ({ role: i.role, path: i.path, sha256: i.sha256 })),
    digest: n.digest,
    digest_version: DIGEST_VERSION,
    placeholder_columns: n.list.header.flatMap((h, k) => {
      const c = n.list!.columns[k];
      return c !== undefined && n.placeholderColumns.includes(h) ? [c.stats] : [];
    }),
    checks_ok: n.ok,
  };
}
