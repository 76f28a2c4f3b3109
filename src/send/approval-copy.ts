/**
 * The approval copy as a picture shows it (docs/design.md, "Layout and
 * pictures"): the production message with the approval banner, composed for
 * an approver, with a specimen row in place of a customer's: every column
 * holds its own name (`‹first_name›`). A stored picture is kept on a branch
 * for as long as the repository lives, so no customer's row is ever rendered
 * into one; the banner's samples and domains are masked, as in the mail.
 */
import { approvalBanner, type BannerInput } from "./approval-banner.ts";
import { makePlan, type Plan } from "./plan.ts";
import type { Prepared } from "./prepare.ts";
import { listRows, type ListRow } from "./recipients.ts";
import { suppressionFilter } from "../suppress/apply.ts";

export interface ApprovalSpecimen {
  plan: Plan;
  /** The approver's address the copy is composed for. */
  approver: string;
  row: Record<string, string>;
}

/** Each column's value is its name in angle quotes; the list's `email` column is the approver's address. */
export function specimenRow(columns: Iterable<string>, approver: string): Record<string, string> {
  const row: Record<string, string> = {};
  for (const c of columns) row[c] = c.toLowerCase() === "email" ? approver : `‹${c}›`;
  return row;
}

export function approvalSpecimen(prepared: Prepared, approver: string, secret: string, at: Date): ApprovalSpecimen {
  const { checked } = prepared;
  const addresses: string[] = [];
  let columns: string[] = [];
  for (const r of mailedRows(prepared)) {
    if (addresses.length === 0) columns = Object.keys(r.row);
    addresses.push(r.address);
  }
  const banner = approvalBanner({
    id: checked.id, list: checked.meta.recipients, ...bannerCounts(checked),
    digest: checked.digest, addresses, locale: checked.config.sender.locale,
  });
  const plan = makePlan({
    id: checked.id, config: checked.config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: at,
    approvalCopy: { banner }, layout: checked.layout,
  });
  return { plan, approver, row: specimenRow(columns, approver) };
}

/**
 * The rows the send would mail, in list order: less the CSV suppressions and the suppression
 * store's entries, through the send's own filter (suppress/apply.ts). The approval copy's sample
 * row, domains and samples come from these, so no suppressed person is shown as a recipient.
 */
export function mailedRows(prepared: Prepared): Generator<ListRow> {
  const { checked } = prepared;
  const csv = checked.suppressions?.addresses ?? new Set<string>();
  const filter = checked.storeSuppressions ? suppressionFilter(checked.storeSuppressions, csv) : csv;
  return listRows(prepared.listBytes, checked.list.file, filter);
}

/** The banner's counts, the checks' (check-newsletters.ts): the store's part already out of `count`. */
export function bannerCounts(checked: Prepared["checked"]): Pick<BannerInput, "count" | "suppressed" | "store"> {
  return { count: checked.list.sendCount - (checked.storeCounts?.suppressed ?? 0), suppressed: checked.list.suppressed, store: checked.storeCounts };
}
