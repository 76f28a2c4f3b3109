/**
 * Sticky pull request comments: one comment per purpose, found again by a
 * hidden marker and updated in place, never duplicated by a re-run.
 *
 * Only comments written by this tool's identity count as "ours" (logins in
 * NEWSLETTER_COMMENT_AUTHORS, `github-actions[bot]` by default, and of type
 * Bot when the login is a bot's): anyone can post a comment carrying the
 * marker, and such a comment is neither updated (it is not ours to edit)
 * nor believed when a later step reads a record back from it.
 *
 * Issue comments of a pull request: REST "List issue comments"
 * (GET /repos/{owner}/{repo}/issues/{issue_number}/comments, paginated to
 * the end), "Create an issue comment", "Update an issue comment".
 */
import type { GitHubClient } from "../github/client.ts";
import { StepApiError } from "./errors.ts";

/** GitHub refuses comment bodies over 65,536 characters. */
export const COMMENT_MAX = 65_536;

export interface IssueComment {
  readonly id: number;
  readonly body: string;
  readonly login: string;
  readonly type: string;
  readonly url: string;
}

interface RestComment {
  id: number;
  body?: string | null;
  html_url: string;
  user: { login: string; type: string } | null;
}

function apiFailure(what: string, e: unknown): StepApiError {
  const why = e instanceof Error ? e.message : String(e);
  return new StepApiError(`${what}: ${why}`, { cause: e });
}

/** Every comment of the pull request (all pages), oldest first. */
export async function listComments(client: GitHubClient, issue: number): Promise<IssueComment[]> {
  let list: RestComment[];
  try {
    list = await client.paginate<RestComment>("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...client.repoParams, issue_number: issue });
  } catch (e) {
    throw apiFailure(`could not list the comments of pull request #${issue}`, e);
  }
  return list.map((c) => ({ id: c.id, body: c.body ?? "", login: c.user?.login ?? "", type: c.user?.type ?? "", url: c.html_url }));
}

/** Whether `c` was written by one of `authors` (a bot login must also be a Bot account). */
export function isOurs(c: IssueComment, authors: readonly string[]): boolean {
  const login = c.login.toLowerCase();
  if (!authors.some((a) => a.toLowerCase() === login)) return false;
  return login.endsWith("[bot]") ? c.type === "Bot" : true;
}

/** Clips a body to GitHub's limit, saying so at the end. */
export function clipComment(body: string): string {
  if (body.length <= COMMENT_MAX) return body;
  const note = "\n\n_(cut to GitHub's comment size limit; the full record is on the state branch)_\n";
  return body.slice(0, COMMENT_MAX - note.length) + note;
}

export interface UpsertResult {
  readonly action: "created" | "updated" | "unchanged";
  readonly id: number;
  readonly url: string;
}

/**
 * Updates our comment carrying `marker` (the oldest, if a race made two), or
 * creates one. `body` must contain the marker. Comments by others carrying
 * the marker are left alone.
 */
export async function upsertComment(
  client: GitHubClient,
  issue: number,
  marker: string,
  body: string,
  authors: readonly string[],
): Promise<UpsertResult> {
  if (!body.includes(marker)) throw new Error("upsertComment: the body must carry its marker");
  const text = clipComment(body);
  const ours = (await listComments(client, issue)).find((c) => c.body.includes(marker) && isOurs(c, authors));
  if (ours) {
    if (ours.body === text) return { action: "unchanged", id: ours.id, url: ours.url };
    try {
      // Replacing a body with the same text twice is harmless: safe to retry after a 5xx.
      const r = await client.octokit.rest.issues.updateComment({ ...client.repoParams, comment_id: ours.id, body: text, request: { idempotent: true } });
      return { action: "updated", id: r.data.id, url: r.data.html_url };
    } catch (e) {
      throw apiFailure(`could not update comment ${ours.id} on pull request #${issue}`, e);
    }
  }
  try {
    const r = await client.octokit.rest.issues.createComment({ ...client.repoParams, issue_number: issue, body: text });
    return { action: "created", id: r.data.id, url: r.data.html_url };
  } catch (e) {
    throw apiFailure(`could not comment on pull request #${issue}`, e);
  }
}
