/**
 * `step pr-pictures`: the pull request shows the email (docs/design.md,
 * "Layout and pictures"). Composes the approval copy for the first approver,
 * with a specimen row (each column's name, never a customer's row), guards
 * it like any message, takes a desktop and a phone picture of its HTML part
 * in headless Chromium, commits both to the previews branch, and writes one
 * sticky comment (and the job summary) linking them by that commit, with the
 * text part collapsed. Every push makes a new commit and updates the comment.
 *
 * Needs: NEWSLETTER_DIR, the pull request (event or NEWSLETTER_PR) and its
 * head (event), GITHUB_TOKEN, GITHUB_REPOSITORY, a browser (NEWSLETTER_CHROMIUM
 * or the system's). Optional: NEWSLETTER_PREVIEWS_BRANCH, NEWSLETTER_PREVIEWS_REMOTE.
 * The job needs `contents: write` (the previews branch) and `pull-requests: write`.
 * Outputs: comment_id, comment_url, previews_sha, desktop_url, phone_url.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { normaliseAddress } from "../../address/normalise.ts";
import { commandDeps, visibilityOf } from "../../wiring/deps.ts";
import { GuardAbortError, RefusedError } from "../../errors.ts";
import { guardMessage } from "../../guard/guard.ts";
import { findBrowser, openPictureTaker } from "../../picture/chromium.ts";
import { htmlPartOf, textPartOf } from "../../picture/html-part.ts";
import { renderSubject } from "../../render/body.ts";
import { approvalSpecimen } from "../../send/approval-copy.ts";
import { prepareNewsletter } from "../../send/prepare.ts";
import { resolveSecret } from "../../keys/secret.ts";
import { openStateBranch } from "../../state/git-branch.ts";
import { runGit, urlSecrets } from "../../state/git-run.ts";
import { STATE_BOT } from "../../state/from-env.ts";
import { upsertComment } from "../comments.ts";
import { githubClient, type StepContext } from "../context.ts";
import { need, type ActionsEnv } from "../env.ts";
import { PICTURES_MARKER, renderPicturesComment } from "../pictures-comment.ts";
import { appendSummary, setOutputs } from "../runner.ts";

export const DESKTOP_WIDTH = 600;
export const PHONE_WIDTH = 375;

export async function runPrPictures(ctx: StepContext): Promise<number> {
  const { env, io } = ctx;
  const dir = need(env.inputs.dir, "NEWSLETTER_DIR", "pr-pictures shows one newsletter");
  const pr = need(env.inputs.pr, "NEWSLETTER_PR", "pr-pictures needs the pull request to comment on");
  const head = need(env.event?.pull_request?.head.sha ?? null, "GITHUB_EVENT_PATH", "pr-pictures runs on a pull_request event (it pictures the head commit)");
  const client = githubClient(ctx, "pr-pictures writes a comment on the pull request");
  const browser = findBrowser(env.raw);

  const prepared = await prepareNewsletter(commandDeps(env.workspace, io, visibilityOf(env.event)), dir);
  const { checked } = prepared;
  const approver = Object.values(checked.config.approvers).map((a) => normaliseAddress(a)).find((a): a is string => Boolean(a));
  if (!approver) throw new RefusedError("no approvers: the pictures show the approval copy, composed for an approver; add `approvers:` to .github/newsletter.yml");
  // The approval copies' own key when set (never the production send's); the pictures job holds none: the development key.
  const { secret } = resolveSecret(env.raw, false, "NEWSLETTER_APPROVAL_SECRET");
  const spec = approvalSpecimen(prepared, approver, secret, new Date());
  const out = spec.plan.messageFor(approver, spec.row);
  const verdict = guardMessage(out.raw, out.envelope, out.guard);
  if (!verdict.ok) throw new GuardAbortError(`guard: ${verdict.reason} in ${verdict.where} (${verdict.masked}): no picture is taken of a message that would abort the send`);

  const taker = await openPictureTaker(browser);
  let shots;
  try {
    shots = await taker.take(htmlPartOf(out.raw), [{ width: DESKTOP_WIDTH }, { width: PHONE_WIDTH }]);
  } finally {
    await taker.close();
  }
  const [desktop, phone] = [shots[0]!, shots[1]!];

  const stored = await storePictures(env, pr, head, { "desktop.png": desktop.png, "phone.png": phone.png });
  const body = renderPicturesComment({
    id: checked.id, subject: renderSubject(checked.meta.subject, spec.row), headSha: head, digest: checked.digest, text: textPartOf(out.raw),
    desktop: { url: stored.urls["desktop.png"]!, width: DESKTOP_WIDTH },
    phone: { url: stored.urls["phone.png"]!, width: PHONE_WIDTH },
    ms: [desktop.ms, phone.ms],
  });
  const r = await upsertComment(client, pr, PICTURES_MARKER, body, env.inputs.commentAuthors);
  io.out(`Pictures comment ${r.action} on #${pr}: ${r.url} (previews commit ${stored.sha.slice(0, 12)})\n`);
  setOutputs({
    comment_id: r.id, comment_url: r.url, previews_sha: stored.sha,
    desktop_url: stored.urls["desktop.png"]!, phone_url: stored.urls["phone.png"]!,
  });
  await appendSummary(body.replace(PICTURES_MARKER, "").trim());
  return 0;
}

/**
 * Commits the pictures to the previews branch under `pr-<n>/<head>/` and
 * pushes (the state branch's adapter: lost races retried, credentials never
 * printed); returns the commit and each file's link by that commit.
 */
async function storePictures(
  env: ActionsEnv,
  pr: number,
  head: string,
  files: Record<string, Buffer>,
): Promise<{ sha: string; urls: Record<string, string> }> {
  const repository = need(env.repository, "GITHUB_REPOSITORY", "pr-pictures links the pictures in the repository");
  const remote = env.inputs.previewsRemote ?? httpsRemote(env, repository);
  const dir = mkdtempSync(path.join(env.runnerTemp ?? tmpdir(), "newsletter-previews-"));
  const branch = await openStateBranch({ remote, branch: env.inputs.previewsBranch, dir, author: STATE_BOT });
  const folder = `pr-${pr}/${head}`;
  for (const [name, bytes] of Object.entries(files)) await branch.write(`${folder}/${name}`, bytes);
  await branch.commitAndPush(`Pictures of pull request #${pr} at ${head.slice(0, 12)}`);
  const sha = (await runGit(["rev-parse", "HEAD"], { cwd: branch.dir, secrets: urlSecrets(remote) })).stdout.trim();
  const urls: Record<string, string> = {};
  for (const name of Object.keys(files)) urls[name] = `${env.serverUrl}/${repository}/raw/${sha}/${folder}/${name}`;
  return { sha, urls };
}

/** The repository over https with GITHUB_TOKEN (GitHub's documented `x-access-token` user for installation tokens). */
function httpsRemote(env: ActionsEnv, repository: string): string {
  const token = need(env.token, "GITHUB_TOKEN", "pr-pictures pushes the pictures to the previews branch");
  const server = new URL(env.serverUrl);
  return `${server.protocol}//x-access-token:${encodeURIComponent(token)}@${server.host}/${repository}.git`;
}
