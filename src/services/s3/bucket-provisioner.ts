/**
 * AWS::S3::Bucket from serverless.yml (`resources`, `provider.s3`, `s3` events): creates the
 * bucket in the S3 service's own metadata; removes it only when empty, as CloudFormation does.
 */
import type { Clock } from '../../model/clock.js';
import {
  checkKnownProperties,
  generatedName,
  optionalString,
  platformHost,
} from '../../platform/aws/resources/property-checks.js';
import {
  type ProvisionedResource,
  type ResourceAttributes,
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceProvisioner,
  type ResourceScope,
} from '../../platform/aws/resources/provisioner.js';
import { isValidBucketName } from './bucket-name.js';
import type { ObjectFiles } from './object-files.js';
import type { S3Metadata } from './s3-metadata.js';

/** Settings that change nothing on Nimbus (no ACLs, encryption at rest is the disk's). */
const NO_EFFECT = [
  'Tags',
  'AccessControl',
  'PublicAccessBlockConfiguration',
  'BucketEncryption',
  'OwnershipControls',
];

export class BucketProvisioner implements ResourceProvisioner {
  readonly type = 'AWS::S3::Bucket';
  readonly #meta: S3Metadata;
  readonly #files: ObjectFiles;
  readonly #clock: Clock;

  constructor(deps: { meta: S3Metadata; files: ObjectFiles; clock: Clock }) {
    this.#meta = deps.meta;
    this.#files = deps.files;
    this.#clock = deps.clock;
  }

  attributes(scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes {
    checkKnownProperties(d, ['BucketName'], NO_EFFECT);
    const name =
      optionalString(d, 'BucketName') ??
      generatedName(scope, d.logicalId, { maxLength: 63, lowerCase: true });
    if (!isValidBucketName(name)) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.BucketName',
        `"${name}" is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`,
      );
    }
    const port = new URL(scope.platformUrl || 'http://localhost').port;
    const domain = `${name}.s3.localhost${port ? `:${port}` : ''}`;
    return {
      ref: name,
      physicalId: name,
      attributes: {
        Arn: `arn:aws:s3:::${name}`,
        DomainName: domain,
        RegionalDomainName: domain,
        DualStackDomainName: domain,
        WebsiteURL: `http://${platformHost(scope)}/${name}`,
      },
    };
  }

  async apply(
    scope: ResourceScope,
    d: ResourceDeclaration,
    previous: ProvisionedResource | undefined,
  ): Promise<ProvisionedResource> {
    const attributes = this.attributes(scope, d);
    const created = await this.#meta.createBucket({
      name: attributes.physicalId,
      region: scope.region,
      createdAt: this.#clock.now(),
    });
    // Never take over a bucket this stage did not create: `nimbus remove` would delete it.
    if (!created && previous?.physicalId !== attributes.physicalId) {
      throw new Error(
        `bucket ${attributes.physicalId} already exists (it was not created by this stage; use another BucketName, or \`existing: true\` on the s3 event)`,
      );
    }
    return { logicalId: d.logicalId, type: this.type, properties: d.properties, ...attributes };
  }

  async remove(
    _scope: ResourceScope,
    resource: ProvisionedResource,
  ): Promise<{ removed: true } | { removed: false; reason: string }> {
    const { outcome, blobIds } = await this.#meta.deleteBucket(resource.physicalId);
    if (outcome === 'not-empty') {
      return {
        removed: false,
        reason: 'the bucket is not empty (delete its objects, then remove again)',
      };
    }
    await Promise.all(blobIds.map((id) => this.#files.remove(id)));
    return { removed: true };
  }
}
