/**
 * JSON Schema (draft-07, as ajv's default build runs it) of
 * `.github/newsletter.yml`, and the types derived from it with
 * json-schema-to-ts. The schema is the single source: ajv enforces it at
 * runtime, `FromSchema` types it, and its `default`s are the defaults.
 *
 * Only `sender.from` and `approvals.stages` are required; everything else has
 * a safe default or is optional (README.md). Every object refuses keys it does
 * not know (`additionalProperties: false`), so a misspelt `max_failure_rte`
 * is an error rather than a silently ignored safety setting.
 *
 * Checks JSON Schema cannot express (addresses, the https unsubscribe URL and
 * its token, unique stage names, stages that no set of distinct people could
 * approve) are in src/load/config.ts.
 */
import type { FromSchema } from "json-schema-to-ts";
import { InternalError } from "../../errors.ts";
import { createAjv, type PatternTexts } from "../schema-findings.ts";

/**
 * A GitHub login as GitHub accepts new ones today: letters, digits and single
 * hyphens, not starting or ending with a hyphen, at most 39 characters.
 * (A few accounts from before these rules have other logins; they cannot be
 * configured here and must be reached through a team.)
 */
export const LOGIN_PATTERN = "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$";
/** `@login` or `@org/team-slug`, as in CODEOWNERS. */
export const OWNER_PATTERN = "^@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$";
/** Stage names appear in reports and status checks: short lowercase identifiers. */
export const STAGE_NAME_PATTERN = "^[a-z][a-z0-9_-]{0,39}$";
/**
 * RFC 2919 §2 list-id: `list-label "." list-id-namespace`, where the label is
 * a dot-atom-text and the namespace a domain name (at least two labels) or
 * `localhost`. E.g. `product-news.corp.example`.
 */
export const LIST_ID_PATTERN =
  "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\\.(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)$";
/**
 * Only https, no spaces except inside a `{{ ... }}` placeholder. Written so
 * that no input can make it backtrack (a `{{` can only start a placeholder).
 * The URL is checked in full, with the token substituted, in config.ts.
 */
export const HTTPS_URL_PATTERN = "^https://(?:[^\\s{]|\\{(?!\\{)|\\{\\{[^{}]*\\}\\})+$";
/** A domain of at least two labels, letters, digits and hyphens (IDN written as xn--). */
export const DOMAIN_PATTERN = "^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$";
/** A git branch name without the forms git refuses or that confuse: no "..", no leading "-" or "/". */
export const BRANCH_PATTERN = "^(?!-)(?!/)(?!.*\\.\\.)(?!.*//)(?!.*\\.lock$)(?!.*/$)[A-Za-z0-9._/-]{1,100}$";
/** A layout file lives under .github/, which newsletter pull requests may not change. */
export const LAYOUT_FILE_PATTERN = "^\\.github/(?!.*\\.\\.)[A-Za-z0-9._/-]+\\.html$";
/** A CSS hex colour. */
export const BRAND_COLOR_PATTERN = "^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$";
/** One line of text: no line breaks or control characters (header injection). */
export const ONE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$";

export const CONFIG_PATTERN_TEXT: PatternTexts = {
  [LOGIN_PATTERN]:
    "a GitHub login: letters, digits and single hyphens, not starting or ending with a hyphen, at most 39 characters (e.g. alice)",
  [OWNER_PATTERN]: 'an owner written "@login" or "@org/team" (e.g. "@carol" or "@corp/privacy-office"), in quotes because @ cannot start a plain YAML value',
  [STAGE_NAME_PATTERN]:
    "a stage name: a lowercase letter, then lowercase letters, digits, - or _, at most 40 characters (e.g. content, privacy, release)",
  [LIST_ID_PATTERN]: "a List-Id (RFC 2919): a label, a dot and a domain you control, e.g. product-news.corp.example",
  [HTTPS_URL_PATTERN]: "an https:// URL without spaces (http and other schemes are refused)",
  [DOMAIN_PATTERN]: "a domain name such as corp.example (letters, digits, hyphens; at least two labels; IDN as xn--)",
  [BRANCH_PATTERN]: 'a git branch name such as newsletter-state (letters, digits, ".", "_", "-", "/"; no "..")',
  [ONE_LINE_PATTERN]: "a single line of text (no line breaks or control characters)",
  [LAYOUT_FILE_PATTERN]: "an .html file under .github/, e.g. .github/newsletter-layout.html (a folder the admins own)",
  [BRAND_COLOR_PATTERN]: 'a CSS hex colour in quotes, e.g. "#0b5cad"',
};

const addressString = { type: "string", minLength: 3, maxLength: 254, pattern: ONE_LINE_PATTERN } as const;
const mailboxString = { type: "string", minLength: 3, maxLength: 320, pattern: ONE_LINE_PATTERN } as const;

export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://gitops-newsletter.invalid/schema/config.json",
  title: ".github/newsletter.yml",
  type: "object",
  additionalProperties: false,
  required: ["sender", "approvals"],
  properties: {
    sender: {
      type: "object",
      additionalProperties: false,
      required: ["from"],
      properties: {
        from: { ...mailboxString, description: 'The From mailbox: "Name <address>" or a bare address.' },
        reply_to: { ...mailboxString, description: "Reply-To mailbox, same forms as from." },
        list_id: { type: "string", maxLength: 255, pattern: LIST_ID_PATTERN, description: "List-Id header (RFC 2919)." },
        unsubscribe: {
          type: "object",
          additionalProperties: false,
          properties: {
            url: {
              type: "string",
              maxLength: 2000,
              pattern: HTTPS_URL_PATTERN,
              description: "One-click unsubscribe URL (RFC 8058); must contain {{ unsubscribe_token }}.",
            },
            mailto: { ...addressString, description: "Address for List-Unsubscribe mailto:." },
          },
        },
        postal_address: { type: "string", minLength: 1, maxLength: 500, description: "Sender's postal address for the footer." },
        locale: {
          type: "string",
          enum: ["en", "ja"],
          default: "en",
          description: "Language of the footer and the approval banner (docs/design.md, \"Layout and pictures\").",
        },
      },
    },
    layout: {
      type: "object",
      default: {},
      additionalProperties: false,
      description: "The HTML layout messages are wrapped in (docs/design.md, \"Layout and pictures\").",
      properties: {
        file: {
          type: "string",
          maxLength: 200,
          pattern: LAYOUT_FILE_PATTERN,
          description: "The repository's own layout, a file under .github/ (owned by the admins); the built-in one without.",
        },
        brand_color: { type: "string", default: "#0b5cad", pattern: BRAND_COLOR_PATTERN },
        logo_url: { type: "string", maxLength: 2000, pattern: HTTPS_URL_PATTERN, description: "https URL of the logo image." },
      },
    },
    approvals: {
      type: "object",
      additionalProperties: false,
      required: ["stages"],
      properties: {
        ordered: { type: "boolean", default: false, description: "true: stages must approve in the listed order." },
        stages: {
          type: "array",
          minItems: 3,
          maxItems: 10,
          description: "Review stages (at least three: the product's remedy is three stages of review).",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "owners"],
            properties: {
              name: { type: "string", pattern: STAGE_NAME_PATTERN },
              owners: {
                type: "array",
                minItems: 1,
                maxItems: 50,
                uniqueItems: true,
                items: { type: "string", pattern: OWNER_PATTERN },
              },
            },
          },
        },
      },
    },
    approvers: {
      type: "object",
      default: {},
      description: "GitHub login → address the approval copy is sent to.",
      propertyNames: { pattern: LOGIN_PATTERN },
      additionalProperties: addressString,
    },
    leakage: {
      type: "object",
      default: {},
      additionalProperties: false,
      properties: {
        allow_addresses: { type: "array", default: [], maxItems: 1000, items: addressString },
        allow_domains: {
          type: "array",
          default: [],
          maxItems: 1000,
          items: { type: "string", maxLength: 253, pattern: DOMAIN_PATTERN },
        },
        max_body_bytes: { type: "integer", default: 102400, minimum: 1024, maximum: 10485760 },
      },
    },
    sending: {
      type: "object",
      default: {},
      additionalProperties: false,
      properties: {
        rate_per_second: { type: "number", default: 100, exclusiveMinimum: 0, maximum: 10000 },
        connections: { type: "integer", default: 5, minimum: 1, maximum: 50 },
        canary: {
          type: "object",
          additionalProperties: false,
          required: ["size"],
          properties: {
            size: { type: "integer", minimum: 1, maximum: 100000 },
            pause_seconds: { type: "integer", default: 300, minimum: 0, maximum: 21600 },
            monitors: { type: "array", default: [], maxItems: 100, items: addressString },
          },
        },
        max_failure_rate: { type: "number", default: 0.05, minimum: 0, maximum: 1 },
        shards: {
          type: "integer",
          minimum: 1,
          maximum: 1000,
          description: "Send in this many shards, one job each (send --shard I/N); the send workflow builds its matrix from it.",
        },
        return_path: {
          ...addressString,
          description: "Bounce address: each message's envelope sender becomes local+<token>@domain (VERP), so a bounce names its recipient verifiably.",
        },
      },
    },
    recipient_data: {
      type: "object",
      default: {},
      additionalProperties: false,
      description: "Where recipient data lives outside git (docs/design.md, \"Recipient data and suppressions\").",
      properties: {
        lists_in_git: {
          enum: ["warning", "error"],
          default: "warning",
          description: "A recipients/*.csv list in git: a warning, or (\"error\") refused.",
        },
        suppression_store: {
          type: "string",
          minLength: 1,
          maxLength: 1024,
          pattern: ONE_LINE_PATTERN,
          description: "Where suppression entries are appended: s3://bucket/prefix/ or a path (default: suppressions/ in the state folder).",
        },
        suppress_permanent_failures: {
          type: "boolean",
          default: true,
          description: "A recipient whose address was refused permanently (5xx) is suppressed for later sends.",
        },
      },
    },
    state_branch: {
      type: "string",
      default: "newsletter-state",
      pattern: BRANCH_PATTERN,
      description: "Branch holding the ledger and the audit records.",
    },
  },
} as const;

/** The configuration with every default applied (what `parseConfig` returns). */
export type Config = FromSchema<typeof configSchema>;
/** The same, named for what it is; FromSchema makes defaulted keys required. */
export type ResolvedConfig = Config;
/** The configuration as written: defaulted keys optional. */
export type ConfigInput = FromSchema<typeof configSchema, { keepDefaultedPropertiesOptional: true }>;

export type ApprovalStage = ResolvedConfig["approvals"]["stages"][number];

let validator: ReturnType<typeof compile> | undefined;
function compile() {
  return createAjv().compile<ResolvedConfig>(configSchema);
}

/**
 * The compiled validator. It applies defaults to the object it validates
 * (ajv `useDefaults`), so validate a copy.
 */
export function configValidator(): ReturnType<typeof compile> {
  validator ??= compile();
  return validator;
}

/**
 * Defaults applied to a copy of `input`. Throws when `input` does not match
 * the schema (use `parseConfig` for text from a user; this is for
 * configurations built in code).
 */
export function applyConfigDefaults(input: ConfigInput): ResolvedConfig {
  const copy: unknown = structuredClone(input);
  const validate = configValidator();
  if (!validate(copy)) {
    throw new InternalError(`configuration does not match its schema: ${validate.errors?.map((e) => `${e.instancePath} ${e.message}`).join("; ")}`);
  }
  return copy;
}
