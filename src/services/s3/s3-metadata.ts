/**
 * Buckets, objects and multipart uploads in the Store's database (migration 007), on SQLite and
 * PostgreSQL alike. Object bytes are elsewhere (ObjectFiles); rows name them by blob id.
 */
import type { Kysely, Transaction } from 'kysely';
import { StoreConflictError } from '../../store/errors.js';
import type { CorsRule } from './cors-config.js';
import type { BucketNotification } from './notification-config.js';

interface S3Tables {
  /** `cors`: JSON CorsRule[] (migration 033), null without a configuration. */
  s3_buckets: {
    name: string;
    region: string;
    created_at: number;
    cors: string | null;
    /** JSON BucketNotification (migration 046), null without a configuration. */
    notification: string | null;
    /** The owning service stage (migration 034); null for a shared bucket. */
    owner_service: string | null;
    owner_stage: string | null;
  };
  s3_objects: {
    bucket: string;
    /** UTF-8 bytes of the key (migration 007). */
    key: Buffer;
    blob_id: string;
    size: number;
    etag: string;
    last_modified: number;
    headers: string;
    user_metadata: string;
    checksum: string | null;
    tags: string | null;
  };
  s3_uploads: {
    id: string;
    bucket: string;
    key: Buffer;
    initiated_at: number;
    headers: string;
    user_metadata: string;
  };
  s3_parts: {
    upload_id: string;
    part_number: number;
    blob_id: string;
    size: number;
    etag: string;
    last_modified: number;
  };
}

export interface BucketRow {
  name: string;
  region: string;
  createdAt: number;
  /**
   * The service stage the bucket belongs to (its deploy created it, or that stage's session
   * credentials did); absent for a bucket shared by every caller (docs/s3.md).
   */
  owner?: BucketOwner;
}

export interface BucketOwner {
  service: string;
  stage: string;
}

export interface Tag {
  Key: string;
  Value: string;
}

export interface ObjectRow {
  bucket: string;
  key: string;
  blobId: string;
  size: number;
  /** Quoted, as sent in the ETag header. */
  etag: string;
  lastModified: number;
  /** Stored response headers (content-type, cache-control, ...), lower-case names. */
  headers: Record<string, string>;
  /** x-amz-meta-* without the prefix, lower-case names. */
  userMetadata: Record<string, string>;
  checksum?: { name: string; value: string };
  tags?: Tag[];
}

export interface UploadRow {
  id: string;
  bucket: string;
  key: string;
  initiatedAt: number;
  headers: Record<string, string>;
  userMetadata: Record<string, string>;
}

export interface PartRow {
  uploadId: string;
  partNumber: number;
  blobId: string;
  size: number;
  etag: string;
  lastModified: number;
}

type Db = Kysely<S3Tables> | Transaction<S3Tables>;

function toBucket(row: S3Tables['s3_buckets']): BucketRow {
  const bucket: BucketRow = {
    name: row.name,
    region: row.region,
    createdAt: Number(row.created_at),
  };
  if (row.owner_service !== null && row.owner_stage !== null) {
    bucket.owner = { service: row.owner_service, stage: row.owner_stage };
  }
  return bucket;
}

export class S3Metadata {
  readonly #db: Kysely<S3Tables>;

  /** Takes the platform's database handle (whatever tables it types); it never closes it. */
  constructor(db: unknown) {
    this.#db = db as unknown as Kysely<S3Tables>;
  }

  /** False when the bucket already exists. */
  async createBucket(row: BucketRow): Promise<boolean> {
    const result = await this.#db
      .insertInto('s3_buckets')
      .values({
        name: row.name,
        region: row.region,
        created_at: row.createdAt,
        cors: null,
        notification: null,
        owner_service: row.owner?.service ?? null,
        owner_stage: row.owner?.stage ?? null,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async findBucket(name: string): Promise<BucketRow | undefined> {
    const row = await this.#db
      .selectFrom('s3_buckets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toBucket(row);
  }

  /**
   * Records the owner of a bucket that has none (one its stage created before buckets had
   * owners); false when the bucket is gone or already someone's.
   */
  async claimBucket(name: string, owner: BucketOwner): Promise<boolean> {
    const result = await this.#db
      .updateTable('s3_buckets')
      .set({ owner_service: owner.service, owner_stage: owner.stage })
      .where('name', '=', name)
      .where('owner_service', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The bucket's CORS rules: `missing` without the bucket, undefined without a configuration. */
  async bucketCors(name: string): Promise<CorsRule[] | undefined | 'missing'> {
    const row = await this.#db
      .selectFrom('s3_buckets')
      .select('cors')
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return 'missing';
    return row.cors === null ? undefined : (JSON.parse(row.cors) as CorsRule[]);
  }

  /** Replaces (or, with undefined, deletes) the CORS rules; false when the bucket is gone. */
  async setBucketCors(name: string, rules: CorsRule[] | undefined): Promise<boolean> {
    const result = await this.#db
      .updateTable('s3_buckets')
      .set({ cors: rules === undefined ? null : JSON.stringify(rules) })
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The bucket's notification configuration: `missing` without the bucket. */
  async bucketNotification(name: string): Promise<BucketNotification | undefined | 'missing'> {
    const row = await this.#db
      .selectFrom('s3_buckets')
      .select('notification')
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row) return 'missing';
    return row.notification === null
      ? undefined
      : (JSON.parse(row.notification) as BucketNotification);
  }

  /** Replaces (or, with undefined, deletes) the configuration; false when the bucket is gone. */
  async setBucketNotification(name: string, config: BucketNotification | undefined) {
    const empty = config === undefined || (config.targets.length === 0 && !config.eventBridge);
    const result = await this.#db
      .updateTable('s3_buckets')
      .set({ notification: empty ? null : JSON.stringify(config) })
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listBuckets(): Promise<BucketRow[]> {
    const rows = await this.#db.selectFrom('s3_buckets').selectAll().orderBy('name').execute();
    return rows.map(toBucket);
  }

  /**
   * Deletes an empty bucket with its unfinished uploads, whose part blob ids are returned for
   * removal. `not-empty` while any object is left.
   */
  async deleteBucket(
    name: string,
  ): Promise<{ outcome: 'deleted' | 'missing' | 'not-empty'; blobIds: string[] }> {
    return this.#db.transaction().execute(async (tx) => {
      const any = await tx
        .selectFrom('s3_objects')
        .select('key')
        .where('bucket', '=', name)
        .limit(1)
        .executeTakeFirst();
      if (any) return { outcome: 'not-empty' as const, blobIds: [] };
      const parts = await tx
        .selectFrom('s3_parts')
        .innerJoin('s3_uploads', 's3_uploads.id', 's3_parts.upload_id')
        .select('s3_parts.blob_id')
        .where('s3_uploads.bucket', '=', name)
        .execute();
      const uploads = tx.selectFrom('s3_uploads').select('id').where('bucket', '=', name);
      await tx.deleteFrom('s3_parts').where('upload_id', 'in', uploads).execute();
      await tx.deleteFrom('s3_uploads').where('bucket', '=', name).execute();
      const result = await tx.deleteFrom('s3_buckets').where('name', '=', name).executeTakeFirst();
      const deleted = Number(result.numDeletedRows) > 0;
      return {
        outcome: deleted ? ('deleted' as const) : ('missing' as const),
        blobIds: parts.map((p) => p.blob_id),
      };
    });
  }

  async findObject(bucket: string, key: string): Promise<ObjectRow | undefined> {
    const row = await this.#db
      .selectFrom('s3_objects')
      .selectAll()
      .where('bucket', '=', bucket)
      .where('key', '=', bytes(key))
      .executeTakeFirst();
    return row && toObject(row);
  }

  /**
   * Inserts or replaces the object; resolves with the blob id it replaced (to be removed once
   * no reader needs it), or undefined. Refuses (false) when the bucket is gone.
   */
  async putObject(row: ObjectRow): Promise<{ stored: boolean; replaced?: string }> {
    return this.#db.transaction().execute(async (tx) => {
      if (!(await bucketExists(tx, row.bucket))) return { stored: false };
      const old = await blobIdIn(tx, row.bucket, row.key);
      const values = fromObject(row);
      await tx
        .insertInto('s3_objects')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['bucket', 'key']).doUpdateSet({
            blob_id: values.blob_id,
            size: values.size,
            etag: values.etag,
            last_modified: values.last_modified,
            headers: values.headers,
            user_metadata: values.user_metadata,
            checksum: values.checksum,
            tags: values.tags,
          }),
        )
        .execute();
      return old ? { stored: true, replaced: old } : { stored: true };
    });
  }

  async setTags(bucket: string, key: string, tags: Tag[] | undefined): Promise<boolean> {
    const result = await this.#db
      .updateTable('s3_objects')
      .set({ tags: tags === undefined ? null : JSON.stringify(tags) })
      .where('bucket', '=', bucket)
      .where('key', '=', bytes(key))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The removed object's blob id, or undefined when there was none. */
  async deleteObject(bucket: string, key: string): Promise<string | undefined> {
    const row = await this.#db
      .deleteFrom('s3_objects')
      .where('bucket', '=', bucket)
      .where('key', '=', bytes(key))
      .returning('blob_id')
      .executeTakeFirst();
    return row?.blob_id;
  }

  /** Objects with key > after and key >= from, in byte order of their keys. */
  async listObjects(
    bucket: string,
    opts: { after?: string; from?: string; limit: number },
  ): Promise<ObjectRow[]> {
    let query = this.#db.selectFrom('s3_objects').selectAll().where('bucket', '=', bucket);
    if (opts.after !== undefined) query = query.where('key', '>', bytes(opts.after));
    if (opts.from !== undefined && opts.from !== '')
      query = query.where('key', '>=', bytes(opts.from));
    const rows = await query.orderBy('key').limit(opts.limit).execute();
    return rows.map(toObject);
  }

  async createUpload(row: UploadRow): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      if (!(await bucketExists(tx, row.bucket))) return false;
      await tx
        .insertInto('s3_uploads')
        .values({
          id: row.id,
          bucket: row.bucket,
          key: bytes(row.key),
          initiated_at: row.initiatedAt,
          headers: JSON.stringify(row.headers),
          user_metadata: JSON.stringify(row.userMetadata),
        })
        .execute();
      return true;
    });
  }

  async findUpload(id: string): Promise<UploadRow | undefined> {
    const row = await this.#db
      .selectFrom('s3_uploads')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toUpload(row);
  }

  /** Uploads of keys starting with `prefix`, by key, then oldest first. */
  async listUploads(bucket: string, prefix: string, limit: number): Promise<UploadRow[]> {
    const from = bytes(prefix);
    // No UTF-8 sequence contains the byte 0xFF, so prefix + 0xFF bounds every key with that prefix.
    const to = Buffer.concat([from, Buffer.from([0xff])]);
    const rows = await this.#db
      .selectFrom('s3_uploads')
      .selectAll()
      .where('bucket', '=', bucket)
      .where('key', '>=', from)
      .where('key', '<', to)
      .orderBy('key')
      .orderBy('initiated_at')
      .limit(limit)
      .execute();
    return rows.map(toUpload);
  }

  /** Stores a part; the blob id of a part it replaced, if any. False: the upload is gone. */
  async putPart(row: PartRow): Promise<{ stored: boolean; replaced?: string }> {
    return this.#db.transaction().execute(async (tx) => {
      const upload = await tx
        .selectFrom('s3_uploads')
        .select('id')
        .where('id', '=', row.uploadId)
        .executeTakeFirst();
      if (!upload) return { stored: false };
      const old = await tx
        .selectFrom('s3_parts')
        .select('blob_id')
        .where('upload_id', '=', row.uploadId)
        .where('part_number', '=', row.partNumber)
        .executeTakeFirst();
      await tx
        .deleteFrom('s3_parts')
        .where('upload_id', '=', row.uploadId)
        .where('part_number', '=', row.partNumber)
        .execute();
      await tx
        .insertInto('s3_parts')
        .values({
          upload_id: row.uploadId,
          part_number: row.partNumber,
          blob_id: row.blobId,
          size: row.size,
          etag: row.etag,
          last_modified: row.lastModified,
        })
        .execute();
      return old ? { stored: true, replaced: old.blob_id } : { stored: true };
    });
  }

  async listParts(uploadId: string): Promise<PartRow[]> {
    const rows = await this.#db
      .selectFrom('s3_parts')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .orderBy('part_number')
      .execute();
    return rows.map((r) => ({
      uploadId: r.upload_id,
      partNumber: Number(r.part_number),
      blobId: r.blob_id,
      size: Number(r.size),
      etag: r.etag,
      lastModified: Number(r.last_modified),
    }));
  }

  /** Removes the upload and its parts; their blob ids, or undefined when it was not there. */
  async deleteUpload(id: string): Promise<string[] | undefined> {
    return this.#db.transaction().execute(async (tx) => deleteUploadIn(tx, id));
  }

  /**
   * Completes an upload in one transaction: the object row replaces any older object and the
   * upload disappears. Returns the blob ids no longer referenced (parts, replaced object), but
   * not `keptParts`: the part blobs a composed object (ObjectStorage.compose) is made of.
   */
  async completeUpload(
    id: string,
    row: ObjectRow,
    keptParts: readonly string[] = [],
  ): Promise<{ stored: boolean; partsChanged?: boolean; unreferenced: string[] }> {
    return this.#db
      .transaction()
      .execute(async (tx) => {
        const parts = await deleteUploadIn(tx, id);
        if (parts === undefined) return { stored: false, unreferenced: [] };
        // An object composed of part blobs references them: a part uploaded again since it was
        // composed has had its old blob removed, so the object must not be stored (rolled back).
        const current = new Set(parts);
        if (keptParts.some((blobId) => !current.has(blobId))) throw new PartsChanged();
        const old = await blobIdIn(tx, row.bucket, row.key);
        await tx
          .deleteFrom('s3_objects')
          .where('bucket', '=', row.bucket)
          .where('key', '=', bytes(row.key))
          .execute();
        await tx.insertInto('s3_objects').values(fromObject(row)).execute();
        const kept = new Set(keptParts);
        const unreferenced = parts.filter((blobId) => !kept.has(blobId));
        return { stored: true, unreferenced: old ? [...unreferenced, old] : unreferenced };
      })
      .catch((error: unknown) => {
        if (error instanceof PartsChanged)
          return { stored: false, partsChanged: true, unreferenced: [] };
        throw error;
      });
  }
}

/**
 * Thrown inside completeUpload's transaction to roll it back: a conflict in the store (a part
 * replaced under the composition), never answered as such (the caller answers InvalidPart).
 */
class PartsChanged extends StoreConflictError {
  constructor() {
    super('a part of the composed object was uploaded again');
  }
}

/** The blob of the object at `key`, if there is one. */
async function blobIdIn(tx: Db, bucket: string, key: string): Promise<string | undefined> {
  const row = await tx
    .selectFrom('s3_objects')
    .select('blob_id')
    .where('bucket', '=', bucket)
    .where('key', '=', bytes(key))
    .executeTakeFirst();
  return row?.blob_id;
}

async function deleteUploadIn(tx: Db, id: string): Promise<string[] | undefined> {
  const parts = await tx
    .selectFrom('s3_parts')
    .select('blob_id')
    .where('upload_id', '=', id)
    .execute();
  await tx.deleteFrom('s3_parts').where('upload_id', '=', id).execute();
  const result = await tx.deleteFrom('s3_uploads').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) return undefined;
  return parts.map((p) => p.blob_id);
}

async function bucketExists(db: Db, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('s3_buckets')
    .select('name')
    .where('name', '=', name)
    .executeTakeFirst();
  return row !== undefined;
}

function toObject(row: S3Tables['s3_objects']): ObjectRow {
  return {
    bucket: row.bucket,
    key: row.key.toString('utf8'),
    blobId: row.blob_id,
    size: Number(row.size),
    etag: row.etag,
    lastModified: Number(row.last_modified),
    headers: JSON.parse(row.headers) as Record<string, string>,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
    ...(row.checksum ? { checksum: JSON.parse(row.checksum) as ObjectRow['checksum'] } : {}),
    ...(row.tags ? { tags: JSON.parse(row.tags) as Tag[] } : {}),
  };
}

function fromObject(row: ObjectRow): S3Tables['s3_objects'] {
  return {
    bucket: row.bucket,
    key: bytes(row.key),
    blob_id: row.blobId,
    size: row.size,
    etag: row.etag,
    last_modified: row.lastModified,
    headers: JSON.stringify(row.headers),
    user_metadata: JSON.stringify(row.userMetadata),
    checksum: row.checksum ? JSON.stringify(row.checksum) : null,
    tags: row.tags ? JSON.stringify(row.tags) : null,
  };
}

function toUpload(row: S3Tables['s3_uploads']): UploadRow {
  return {
    id: row.id,
    bucket: row.bucket,
    key: row.key.toString('utf8'),
    initiatedAt: Number(row.initiated_at),
    headers: JSON.parse(row.headers) as Record<string, string>,
    userMetadata: JSON.parse(row.user_metadata) as Record<string, string>,
  };
}

function bytes(key: string): Buffer {
  return Buffer.from(key, 'utf8');
}
