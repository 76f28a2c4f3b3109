/**
 * A real S3 REST server in process (s3rver) on 127.0.0.1 and a random port,
 * with one bucket, and the standard AWS environment a command reads to reach
 * it (s3rver's credentials are S3RVER/S3RVER). `object` reads and writes
 * behind the tool's back through the real SDK.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";

export interface TestS3 {
  bucket: string;
  /** AWS_REGION, AWS_ENDPOINT_URL_S3 and the credentials. */
  env: Record<string, string>;
  put(key: string, body: string | Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  del(key: string): Promise<void>;
  /** Every key in the bucket (up to 1,000: tests keep few). */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startTestS3(bucket = "newsletter-lists"): Promise<TestS3> {
  // The SDK's default credential chain would otherwise probe the EC2 metadata service when no key is set.
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  const directory = mkdtempSync(path.join(tmpdir(), "nl-s3-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", directory, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as { port: number };
  const env = {
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
  };
  const client = new S3Client({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_S3,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  return {
    bucket,
    env,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === "string" ? Buffer.from(body) : body }));
    },
    async get(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch {
        return null;
      }
    },
    async del(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async keys() {
      const r = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (r.Contents ?? []).map((o) => o.Key!).sort();
    },
    async close() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
