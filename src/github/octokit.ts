/**
 * The Octokit the GitHub client uses: @octokit/rest with
 * @octokit/plugin-retry (5xx and no response) and
 * @octokit/plugin-throttling (primary and secondary rate limits), the
 * client's pacing (pacing.ts) innermost, and outermost one hook that runs
 * requests one at a time and maps every failure once (errors.ts,
 * `toGitHubError`). docs/design.md, "The GitHub client".
 *
 * Hook order, outermost first: serial + error mapping → throttling → retry →
 * pacing → octokit's own (request log, auth) → fetch.
 */
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { toGitHubError, type Describe } from "./errors.ts";
import type { HookOptions, RequestPacing } from "./pacing.ts";
import { DO_NOT_RETRY } from "./retry-policy.ts";
import { requestNames, type RequestNames } from "./route.ts";

export interface OctokitSettings {
  readonly token: string;
  /** The API base URL, without a trailing slash. */
  readonly apiUrl: string;
  readonly userAgent: string;
  readonly retries: number;
  readonly fetch?: typeof globalThis.fetch | undefined;
}

type Hook = (request: (options: HookOptions) => Promise<{ headers: object }>, options: HookOptions) => Promise<{ headers: object }>;

/** The names of a request as `octokit` would send it. */
export function namer(octokit: Pick<Octokit, "request">, api: URL): (options: HookOptions) => RequestNames {
  return (options) => requestNames(options, api, (o) => octokit.request.endpoint.parse(o as never));
}

/** "Make requests serially instead of concurrently" ("Best practices for using the REST API"): one at a time, its retries included. */
function serially(): <T>(run: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (run) => {
    const p = tail.then(run, run);
    tail = p.catch(() => undefined);
    return p;
  };
}

export function buildOctokit(settings: OctokitSettings, pacing: RequestPacing, describe: Describe): Octokit {
  const api = new URL(settings.apiUrl);
  const innermost = (octokit: Pick<Octokit, "hook" | "request">): void => {
    const names = namer(octokit, api);
    const hook: Hook = (request, options) => pacing.attempt(request, options, () => names(options));
    octokit.hook.wrap("request", hook as never);
  };
  const silent = (): void => undefined;
  const GitHubOctokit = Octokit.plugin(innermost, retry, throttling);
  const octokit: Octokit = new GitHubOctokit({
    auth: settings.token,
    baseUrl: settings.apiUrl,
    userAgent: settings.userAgent,
    // Silenced: octokit's request log prints request options at debug level.
    log: { debug: silent, info: silent, warn: silent, error: silent },
    request: settings.fetch ? { fetch: settings.fetch } : {},
    retry: { retries: settings.retries, doNotRetry: [...DO_NOT_RETRY], retryAfterBaseValue: 0 },
    throttle: {
      onRateLimit: pacing.rateLimitHandler("primary"),
      onSecondaryRateLimit: pacing.rateLimitHandler("secondary"),
      retryAfterBaseValue: 0,
      // GitHub's advice to wait a second between writes is about "a large number of" them; a
      // run makes a handful (a status, a comment, a check run), so they are not spaced out.
      write: new Bottleneck.Group(),
      notifications: new Bottleneck.Group(),
    },
  });
  const names = namer(octokit, api);
  const oneAtATime = serially();
  const outermost: Hook = (request, options) =>
    oneAtATime(async () => {
      try {
        return await request(options);
      } catch (e) {
        throw toGitHubError(e, { ...names(options), rateLimit: pacing.verdictOf(options) }, describe);
      }
    });
  octokit.hook.wrap("request", outermost as never);
  return octokit;
}
