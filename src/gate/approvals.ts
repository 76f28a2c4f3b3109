/**
 * Which reviews are eligible approvals, and why every other review does not
 * count (docs/design.md, "The approval gate"):
 *
 * - only a reviewer's latest non-comment review stands, and it must be
 *   APPROVED (a later CHANGES_REQUESTED or DISMISSED cancels an approval);
 * - from a person (no bots), not the PR author, who authored or committed no
 *   commit of the PR and never pushed to its branch (repository activity names
 *   the pusher; git author and committer are whatever the pusher typed);
 * - on the final head commit AND submitted after the last push to it: GitHub
 *   can carry an approval forward to a new head (when "Dismiss stale pull
 *   request approvals" is off, or the push did not change the diff), so
 *   `commit_id` alone is not enough;
 * - by an owner of at least one stage, who still has write access (GitHub
 *   counts approvals "from people with write permissions" toward required
 *   reviews: GitHub Docs, "About protected branches").
 *
 * Checks run cheapest first (no API call until the review passed every local
 * rule), and each review gets one reason: the first rule it fails. Questions to
 * GitHub are batched: one for the permissions of every approver, one per team.
 */
import { at, isBot, loginKey, shortSha } from "./identity.ts";
import { canWrite, type OwnerResolver } from "./ownership.ts";
import type { Permission } from "./port.ts";
import { assignStages } from "./stages.ts";
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
  /** Login keys of everyone who pushed to the PR's head branch (repository activity). */
  readonly pushers: ReadonlySet<string>;
  readonly stages: readonly StageOwners[];
  /** `approvals.ordered`. */
  readonly ordered: boolean;
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

interface Survivor {
  readonly login: string;
  readonly review: TimedReview;
}

/**
 * Per-review rules, cheapest first: every local rule (no API call), then
 * ownership, then permission.
 *
 * Ownership is resolved in two steps, so a typical run asks GitHub nothing
 * about teams. First, `@user` tokens only (no API call): when every approval
 * that passed the local rules belongs to an owner named as a user, and those
 * with write access already approve every stage, the verdict cannot change by
 * learning more (team memberships only add stages people may approve: more
 * edges can only keep a complete assignment complete), so team memberships
 * are not asked. Otherwise every membership that matters is asked, one
 * question per team, and every review gets its exact reason.
 */
export async function classifyApprovals(histories: readonly ReviewerHistory[], ctx: ApprovalContext): Promise<ApprovalClassification> {
  const notCounted: NotCounted[] = [];
  const skip = (login: string, r: TimedReview, reason: ReasonCode, text: string) => notCounted.push({ login, reviewId: r.id, reason, text });
  const survivors: Survivor[] = [];

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
      if (ctx.pushers.has(loginKey(login))) {
        skip(login, r, "pusher", `${at(login)} pushed to the pull request's branch; whoever touched a pull request cannot approve it`);
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
      survivors.push({ login, review: r });
    }
  }

  const { resolver, stages } = ctx;
  const noWrite = (s: Survivor, permission: Permission) =>
    skip(s.login, s.review, "no-write-permission", `${at(s.login)} now has ${permission} access to the repository; an approver needs write or higher`);

  // Step 1: owners named as users.
  const userStages = survivors.map((s) => {
    const owned = new Set<number>();
    stages.forEach((stage, i) => {
      if (resolver.userVia(stage.owners, s.login) !== undefined) owned.add(i);
    });
    return owned;
  });
  if (survivors.length > 0 && userStages.every((owned) => owned.size > 0)) {
    await resolver.prefetchPermissions(survivors.map((s) => s.login));
    const eligible: EligibleApproval[] = [];
    const denied: { s: Survivor; permission: Permission }[] = [];
    for (let i = 0; i < survivors.length; i++) {
      const s = survivors[i]!;
      const permission = await resolver.permission(s.login);
      if (canWrite(permission)) eligible.push({ login: s.login, review: s.review, stages: userStages[i]! });
      else denied.push({ s, permission });
    }
    if (assignStages(stages, eligible, ctx.ordered).stages.every((st) => st.approval !== undefined)) {
      for (const d of denied) noWrite(d.s, d.permission);
      return { eligible, notCounted };
    }
  }

  // Step 2: every membership that matters, one question per team.
  for (const stage of stages) await resolver.prefetchTeams(stage.owners, survivors.map((s) => s.login));
  const owners: { s: Survivor; owned: Set<number> }[] = [];
  for (const s of survivors) {
    const owned = new Set<number>();
    const inactive: string[] = [];
    for (let i = 0; i < stages.length; i++) {
      const check = await resolver.check(stages[i]!.owners, s.login);
      if (check.via !== undefined) owned.add(i);
      else inactive.push(...check.inactiveTeams);
    }
    if (owned.size > 0) {
      owners.push({ s, owned });
      continue;
    }
    const pending = await resolver.pendingTeams([...new Set(inactive)], s.login);
    if (pending.length > 0) {
      skip(
        s.login,
        s.review,
        "team-membership-pending",
        `${at(s.login)}'s membership of ${pending.join(", ")} is pending (invitation not accepted); only active members count`,
      );
    } else {
      skip(s.login, s.review, "not-owner", `${at(s.login)} is not an owner of any stage: ${stageList(stages)}`);
    }
  }
  await resolver.prefetchPermissions(owners.map((o) => o.s.login));
  const eligible: EligibleApproval[] = [];
  for (const { s, owned } of owners) {
    const permission = await resolver.permission(s.login);
    if (!canWrite(permission)) {
      noWrite(s, permission);
      continue;
    }
    eligible.push({ login: s.login, review: s.review, stages: owned });
  }
  return { eligible, notCounted };
}
