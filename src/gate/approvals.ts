/**
 * Which reviews are eligible approvals, and why every other review does not
 * count (DESIGN.md, "The approval gate", second and third bullets):
 *
 * - only a reviewer's latest non-comment review stands, and it must be
 *   APPROVED (a later CHANGES_REQUESTED or DISMISSED cancels an approval);
 * - from a person (no bots), not the PR author, who authored or committed no
 *   commit of the PR;
 * - on the final head commit AND submitted after the last push to it: GitHub
 *   can carry an approval forward to a new head (when "Dismiss stale pull
 *   request approvals" is off, or the push did not change the diff), so
 *   `commit_id` alone is not enough;
 * - by an owner of at least one stage, who still has write access (GitHub
 *   counts approvals "from people with write permissions" toward required
 *   reviews: GitHub Docs, "About protected branches").
 *
 * Checks run cheapest first (no API call until the review passed every local
 * rule), and each review gets one reason: the first rule it fails.
 */
import { at, isBot, loginKey, shortSha } from "./identity.ts";
import { canWrite, type OwnerResolver } from "./ownership.ts";
import type { ReasonCode, NotCounted } from "./result.ts";
import type { ReviewerHistory, TimedReview } from "./reviews.ts";

export interface StageOwners {
  readonly name: string;
  readonly owners: readonly string[];
}

/** An approval that passed every per-review rule: it may count for `stages`. */
export interface EligibleApproval {
  readonly login: string;
  readonly review: TimedReview;
  /** Stage indexes this person owns. */
  readonly stages: ReadonlySet<number>;
}

export interface ApprovalContext {
  readonly authorLogin: string;
  readonly headSha: string;
  /** Server time (ms) of the last push to the head. */
  readonly lastPushAt: number;
  readonly lastPushIso: string;
  /** Login keys of every commit author and committer of the PR. */
  readonly commitPeople: ReadonlySet<string>;
  readonly stages: readonly StageOwners[];
  readonly resolver: OwnerResolver;
}

export interface ApprovalClassification {
  readonly eligible: readonly EligibleApproval[];
  readonly notCounted: readonly NotCounted[];
}

function stageList(stages: readonly StageOwners[]): string {
  return stages.map((s) => `${s.name} (${s.owners.join(", ")})`).join("; ");
}

/** A non-standing review's reason: it is not this person's latest decisive review, or not an approval. */
function inactiveReason(r: TimedReview, decisive: TimedReview | undefined): { reason: ReasonCode; text: string } {
  switch (r.state) {
    case "COMMENTED":
      return { reason: "comment-only", text: "a comment, not an approval" };
    case "PENDING":
      return { reason: "pending", text: "a pending review that was never submitted" };
    case "DISMISSED":
      return { reason: "dismissed", text: "dismissed" };
    case "CHANGES_REQUESTED":
      return r === decisive
        ? { reason: "changes-requested", text: "requests changes" }
        : { reason: "changes-requested", text: "requested changes (later replaced by another review)" };
    case "APPROVED":
      if (decisive !== undefined && decisive !== r && decisive.state === "APPROVED") {
        return { reason: "superseded", text: `replaced by the same person's later approval (review ${decisive.id})` };
      }
      return {
        reason: "cancelled-by-later-review",
        text: `cancelled by the same person's later ${decisive?.state === "DISMISSED" ? "dismissed review" : "request for changes"}${
          decisive ? ` (review ${decisive.id})` : ""
        }`,
      };
  }
}

export async function classifyApprovals(histories: readonly ReviewerHistory[], ctx: ApprovalContext): Promise<ApprovalClassification> {
  const eligible: EligibleApproval[] = [];
  const notCounted: NotCounted[] = [];
  const skip = (login: string, r: TimedReview, reason: ReasonCode, text: string) => notCounted.push({ login, reviewId: r.id, reason, text });

  for (const h of histories) {
    for (const r of h.reviews) {
      if (r !== h.decisive || r.state !== "APPROVED") {
        const { reason, text } = inactiveReason(r, h.decisive);
        skip(r.login, r, reason, text);
        continue;
      }
      const login = r.login;
      if (isBot(login, r.userType)) {
        skip(login, r, "bot", `${at(login)} is not a person (account type ${r.userType}); bots never approve a send`);
        continue;
      }
      if (loginKey(login) === loginKey(ctx.authorLogin)) {
        skip(login, r, "pr-author", `${at(login)} opened the pull request; an author cannot approve their own newsletter`);
        continue;
      }
      if (ctx.commitPeople.has(loginKey(login))) {
        skip(login, r, "commit-author", `${at(login)} is the author or committer of a commit of the pull request`);
        continue;
      }
      if (r.commitId !== ctx.headSha) {
        skip(login, r, "older-commit", `on an older commit ${shortSha(r.commitId)}, not the final head ${shortSha(ctx.headSha)}`);
        continue;
      }
      if (r.at <= ctx.lastPushAt) {
        skip(
          login,
          r,
          "before-last-push",
          `submitted ${r.submittedAt ?? "?"}, before the last push to the head at ${ctx.lastPushIso}; ` +
            `an approval's commit can be carried forward to a new head, so the head must be approved again after its last push`,
        );
        continue;
      }
      const stages = new Set<number>();
      const pending: string[] = [];
      for (let i = 0; i < ctx.stages.length; i++) {
        const check = await ctx.resolver.check(ctx.stages[i]!.owners, login);
        if (check.via !== undefined) stages.add(i);
        else pending.push(...check.pending);
      }
      if (stages.size === 0) {
        if (pending.length > 0) {
          skip(
            login,
            r,
            "team-membership-pending",
            `${at(login)}'s membership of ${[...new Set(pending)].join(", ")} is pending (invitation not accepted); only active members count`,
          );
        } else {
          skip(login, r, "not-owner", `${at(login)} is not an owner of any stage: ${stageList(ctx.stages)}`);
        }
        continue;
      }
      const permission = await ctx.resolver.permission(login);
      if (!canWrite(permission)) {
        skip(login, r, "no-write-permission", `${at(login)} now has ${permission} access to the repository; an approver needs write or higher`);
        continue;
      }
      eligible.push({ login, review: r, stages });
    }
  }
  return { eligible, notCounted };
}
