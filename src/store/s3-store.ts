/**
 * ObjectStore on any S3-compatible object store (AWS S3, Cloudflare R2,
 * MinIO, Google Cloud Storage's S3 interface) through `@aws-sdk/client-s3`.
 * Configured by the AWS SDK's standard environment only: AWS_REGION (or
 * AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) and the
 * credentials the SDK's default chain finds (AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN as aws-actions/configure-aws-credentials
 * sets them from OIDC, a web-identity token file, a profile). The values are
 * read from the command's environment, which a test hands in. The SDK is
 * loaded on first use: commands on a list in git do not pay its start-up.
 */
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { parseS3Location, StoreError, type ObjectStore } from "./port.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export class S3ObjectStore implements ObjectStore {
  private client: S3Client | null = null;
  private sdk: Sdk | null = null;
  constructor(private readonly env: Env) {}

  private async s3(location: string): Promise<{ client: S3Client; sdk: Sdk }> {
    if (this.client && this.sdk) return { client: this.client, sdk: this.sdk };
    const region = this.env.AWS_REGION || this.env.AWS_DEFAULT_REGION;
    if (!region) {
      throw new StoreError("credentials", location, `${location}: AWS_REGION is not set (the object store's region; "auto" for Cloudflare R2)`);
    }
    const endpoint = this.env.AWS_ENDPOINT_URL_S3 || this.env.AWS_ENDPOINT_URL;
    const id = this.env.AWS_ACCESS_KEY_ID;
    const key = this.env.AWS_SECRET_ACCESS_KEY;
    const config: S3ClientConfig = {
      region,
      ...(endpoint ? { endpoint } : {}),
      // Explicit keys from the environment handed in; otherwise the SDK's own default chain.
      ...(id && key
        ? { credentials: { accessKeyId: id, secretAccessKey: key, ...(this.env.AWS_SESSION_TOKEN ? { sessionToken: this.env.AWS_SESSION_TOKEN } : {}) } }
        : {}),
      maxAttempts: 3,
    };
    this.sdk = await loadSdk();
    this.client = new this.sdk.S3Client(config);
    return { client: this.client, sdk: this.sdk };
  }

  async get(location: string): Promise<Uint8Array> {
    const { bucket, key } = parts(location);
    try {
      const { client, sdk } = await this.s3(location);
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!r.Body) throw new StoreError("missing", location, `${location}: the object has no body`);
      return await r.Body.transformToByteArray();
    } catch (e) {
      throw storeError(location, "read", e);
    }
  }

  async put(location: string, bytes: Uint8Array): Promise<void> {
    const { bucket, key } = parts(location);
    try {
      const { client, sdk } = await this.s3(location);
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType(key) }));
    } catch (e) {
      throw storeError(location, "write", e);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { bucket, key } = parts(prefix);
    const out: string[] = [];
    let token: string | undefined;
    try {
      const { client, sdk } = await this.s3(prefix);
      do {
        const r = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: key, ...(token ? { ContinuationToken: token } : {}) }));
        for (const o of r.Contents ?? []) if (o.Key) out.push(`s3://${bucket}/${o.Key}`);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw storeError(prefix, "list", e);
    }
    return out.sort();
  }

  async remove(location: string): Promise<void> {
    const { bucket, key } = parts(location);
    try {
      const { client, sdk } = await this.s3(location);
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      throw storeError(location, "delete", e);
    }
  }
}

type Sdk = typeof import("@aws-sdk/client-s3");

/**
 * The SDK's module. Bundled (scripts/build.js), esbuild turns its CommonJS build into a
 * namespace whose exports sit under `default`; from the sources they are at the top.
 */
async function loadSdk(): Promise<Sdk> {
  const mod = (await import("@aws-sdk/client-s3")) as Sdk & { default?: Sdk };
  return typeof mod.S3Client === "function" ? mod : mod.default!;
}

function parts(location: string): { bucket: string; key: string } {
  const p = parseS3Location(location);
  if (!p) throw new StoreError("missing", location, `${location}: not an s3://bucket/key location`);
  return p;
}

function contentType(key: string): string {
  return key.endsWith(".csv") ? "text/csv; charset=utf-8" : key.endsWith(".jsonl") ? "application/jsonl" : "application/octet-stream";
}

/** The SDK's errors as one StoreError each, with what to do; the cause keeps the original. */
function storeError(location: string, verb: "read" | "write" | "list" | "delete", e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.name ?? "";
  const status = err.$metadata?.httpStatusCode;
  if (name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket")) {
    return new StoreError("missing", location, `${location}: no such object`, { cause: e });
  }
  if (name === "NoSuchBucket") return new StoreError("missing", location, `${location}: no such bucket`, { cause: e });
  if (name === "CredentialsProviderError" || /credential/i.test(err.message ?? "") && status === undefined) {
    return new StoreError(
      "credentials",
      location,
      `${location}: no AWS credentials found — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or in GitHub Actions assume a role through OIDC (aws-actions/configure-aws-credentials)`,
      { cause: e },
    );
  }
  if (name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch" || name === "ExpiredToken") {
    return new StoreError("credentials", location, `${location}: the object store refused the credentials (${name})`, { cause: e });
  }
  if (name === "AccessDenied" || status === 403) {
    return new StoreError("access", location, `${location}: access denied — the role needs s3:GetObject, s3:PutObject and s3:ListBucket here`, { cause: e });
  }
  return new StoreError("access", location, `${location}: cannot ${verb} (${name || err.code || "error"}: ${err.message ?? ""})`, { cause: e });
}
