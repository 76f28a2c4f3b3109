/** What every step receives: the environment read once, the output streams, and the GitHub client when it needs one. */
import type { GitHubClient } from "../github/client.ts";
import type { Io } from "../runtime/io.ts";
import { clientFromEnv } from "../wiring/github.ts";
import type { ActionsEnv } from "./env.ts";
import { need } from "./env.ts";

export interface StepContext {
  readonly env: ActionsEnv;
  readonly io: Io;
}

/** The REST client for GITHUB_REPOSITORY with GITHUB_TOKEN, at GITHUB_API_URL. */
export function githubClient(ctx: StepContext, why: string): GitHubClient {
  need(ctx.env.token, "GITHUB_TOKEN", why);
  need(ctx.env.repository, "GITHUB_REPOSITORY", why);
  return clientFromEnv(ctx.env.raw);
}

/** Markdown-safe one-line text: no HTML, no table breaks, no emphasis, no mentions. */
export function mdText(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_[\]|#~])/g, "\\$1")
    .replace(/@/g, "&#64;")
    .replace(/\s+/g, " ")
    .trim();
}

/** A code span. */
export function mdCode(s: string): string {
  return `\`${s.replace(/`/g, "'").replace(/\s+/g, " ")}\``;
}
