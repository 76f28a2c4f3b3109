/**
 * The approval copy as a picture shows it (docs/design.md, "Layout and
 * pictures"): the production message with the approval banner, composed for
 * an approver, with a specimen row in place of a customer's: every column
 * holds its own name (`‹first_name›`). A stored picture is kept on a branch
 * for as long as the repository lives, so no customer's row is ever rendered
 * into one; the banner's samples and domains are masked, as in the mail.
 */
import { approvalBanner } from "./approval-banner.ts";
import { makePlan, type Plan } from "./plan.ts";
import type { Prepared } from "./prepare.ts";
import { listRows } from "./recipients.ts";

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
  const suppressions = checked.suppressions?.addresses ?? new Set<string>();
  const addresses: string[] = [];
  let columns: string[] = [];
  for (const r of listRows(prepared.listBytes, checked.list.file, suppressions)) {
    if (addresses.length === 0) columns = Object.keys(r.row);
    addresses.push(r.address);
  }
  const banner = approvalBanner({
    id: checked.id, list: checked.meta.recipients, count: checked.list.sendCount, suppressed: checked.list.suppressed,
    digest: checked.digest, addresses, locale: checked.config.sender.locale,
  });
  const plan = makePlan({
    id: checked.id, config: checked.config, meta: checked.meta, body: checked.body, digest: checked.digest, secret, date: at,
    approvalCopy: { banner }, layout: checked.layout,
  });
  return { plan, approver, row: specimenRow(columns, approver) };
}
