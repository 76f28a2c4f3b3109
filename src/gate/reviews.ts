/**
 * Reviews grouped per reviewer, in submission order, with each reviewer's
 * latest decisive review.
 *
 * GitHub decides a reviewer's standing by their most recent review that is not
 * a comment: "Pull request reviews that are only comments do not count
 * towards" an approval or a request for changes, and a later review replaces
 * an earlier one (GitHub Docs, "About pull request reviews"). A dismissed
 * review reports state DISMISSED ("Dismissing a pull request review"), so a
 * DISMISSED latest review leaves the reviewer with no standing approval.
 * Pure.
 */
import { loginKey, timeOf } from "./identity.ts";
import type { Review } from "./port.ts";

export interface TimedReview extends Review {
  /** `submittedAt` in milliseconds; +Infinity for a PENDING review (never submitted). */
  readonly at: number;
}

export interface ReviewerHistory {
  readonly key: string;
  /** The login as GitHub spelled it on the reviewer's latest review. */
  readonly login: string;
  /** Every review by this person, oldest first. */
  readonly reviews: readonly TimedReview[];
  /** The latest APPROVED, CHANGES_REQUESTED or DISMISSED review, if any. */
  readonly decisive: TimedReview | undefined;
}

const DECISIVE = new Set<Review["state"]>(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/** Oldest first by server submission time, then by review id (ids grow with creation). */
export function sortReviews(reviews: readonly Review[]): TimedReview[] {
  const timed = reviews.map((r): TimedReview => {
    const at = r.submittedAt === null ? Number.POSITIVE_INFINITY : timeOf(r.submittedAt, `review ${r.id} submitted_at`);
    return { ...r, at };
  });
  return timed.sort((a, b) => (a.at === b.at ? a.id - b.id : a.at < b.at ? -1 : 1));
}

/** One history per person (logins compared case-insensitively), in order of their first review. */
export function reviewerHistories(reviews: readonly Review[]): ReviewerHistory[] {
  const byKey = new Map<string, TimedReview[]>();
  for (const r of sortReviews(reviews)) {
    const key = loginKey(r.login);
    const list = byKey.get(key);
    if (list) list.push(r);
    else byKey.set(key, [r]);
  }
  return [...byKey.entries()].map(([key, list]) => {
    const decisive = [...list].reverse().find((r) => r.state !== "PENDING" && DECISIVE.has(r.state));
    return { key, login: list[list.length - 1]!.login, reviews: list, decisive };
  });
}
