/**
 * Before the first message: re-run every check (docs/design.md, "Checks before
 * sending"), verify the digest ("What was approved is what is sent"), read the list bytes once and
 * prove they are the bytes the checks hashed. Shared by send, test-send,
 * preview and status.
 */
import { checkNewsletters, type CheckedNewsletter, type CheckDeps } from "../check/check-newsletters.ts";
import type { CheckReport } from "../findings/report.ts";
import { RefusedError, FindingsError } from "../errors.ts";
import { canonicalSha256 } from "../digest/digest.ts";

export interface Prepared {
  checked: CheckedNewsletter & {
    meta: NonNullable<CheckedNewsletter["meta"]>;
    config: NonNullable<CheckedNewsletter["config"]>;
    list: NonNullable<CheckedNewsletter["list"]>;
    listSource: NonNullable<CheckedNewsletter["listSource"]>;
    body: string;
    digest: string;
  };
  report: CheckReport;
  listBytes: Uint8Array;
}

export class CheckFailedError extends FindingsError {
  constructor(readonly report: CheckReport, message: string) {
    super(message);
  }
}

export async function prepareNewsletter(
  deps: CheckDeps,
  dir: string,
  opts: { expectDigest?: string; /** preview only: findings do not stop it while every input could be read */ draft?: boolean } = {},
): Promise<Prepared> {
  const outcome = await checkNewsletters(deps, [dir]);
  const n = outcome.newsletters[0];
  const errors = outcome.report.findings.filter((f) => f.severity === "error");
  if (!n || !n.meta || !n.config || !n.list || !n.listSource || n.body === null || !n.digest || outcome.unreadable || (!outcome.report.ok && opts.draft !== true)) {
    const s = errors.length === 1 ? "" : "s";
    throw new CheckFailedError(
      outcome.report,
      opts.draft === true
        ? `cannot preview ${dir}: ${errors.length} check error${s}, and an input it needs could not be read (see above)`
        : `refused: ${errors.length} check error${s} in ${dir}; nothing was sent (run \`check ${dir}\` for details)`,
    );
  }
  // A begun send is judged by the digest it began with: lists, suppressions and config move on
  // after it (docs/design.md, "Sent at most once"); its own files cannot (edited-after-send).
  const approved = new Set([n.digest, ...n.begun.map((b) => b.digest)]);
  if (opts.expectDigest !== undefined && !approved.has(opts.expectDigest.toLowerCase())) {
    throw new RefusedError(
      `refused: the inputs digest to ${n.digest}, but ${opts.expectDigest} was approved; what was approved is not what would be sent`,
    );
  }
  // A list by reference is fetched again and verified against its pin (list-source.ts); held in memory only.
  const listBytes = await n.listSource.readBytes();
  if (canonicalSha256(listBytes) !== n.list.sha256) {
    throw new RefusedError(`refused: ${n.list.file} changed while it was being checked; nothing was sent`);
  }
  return { checked: n as Prepared["checked"], report: outcome.report, listBytes };
}
