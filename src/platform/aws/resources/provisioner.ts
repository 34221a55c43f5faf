/**
 * The contract between the CloudFormation-subset evaluator (`resources.Resources` of
 * serverless.yml) and the services that own each resource type. The evaluator resolves
 * intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...) in the resources and in the rest of the
 * definition, orders resources by their references, and calls the provisioners with the
 * deployment; each service registers one provisioner per type it owns (AWS::S3::Bucket,
 * AWS::DynamoDB::Table, AWS::SQS::Queue, AWS::SNS::Topic, AWS::Cognito::UserPool, ...).
 *
 * Attributes must be computable from the properties alone (`attributes`), so that references
 * resolve before anything is created and a deployment's definition hashes the same every time.
 */

import { NimbusError } from '../../../errors/nimbus-error.js';

/** Where a resource lives: the service stage that declared it. */
export interface ResourceScope {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  /** The platform's base URL as functions and clients reach it (queue URLs, issuer URLs). */
  platformUrl: string;
}

/** One declared resource after intrinsic resolution. */
export interface ResourceDeclaration {
  logicalId: string;
  type: string;
  /** Properties with every intrinsic resolved to plain JSON. */
  properties: Record<string, unknown>;
}

/** What `Ref` and `Fn::GetAtt` give for one resource. */
export interface ResourceAttributes {
  /** The value of `{ Ref: logicalId }` (bucket name, queue URL, table name, topic ARN...). */
  ref: string;
  /** `Fn::GetAtt: [logicalId, Name]` values (Arn, StreamArn, QueueUrl, ProviderURL...). */
  attributes: Record<string, string>;
  /** The name the service knows the resource by (bucket / table / queue name, pool id). */
  physicalId: string;
}

/** A resource as the platform recorded it after creating it. */
export interface ProvisionedResource extends ResourceAttributes {
  logicalId: string;
  type: string;
  properties: Record<string, unknown>;
}

/**
 * A property error, reported with the path under the resource (e.g. `Properties.KeySchema`).
 * A NimbusError (deploy refused, 400) like every server-side error; the constructor is as fixed.
 */
export class ResourcePropertyError extends NimbusError {
  constructor(
    readonly logicalId: string,
    readonly property: string,
    message: string,
  ) {
    super('NIMBUS_DEPLOY_BAD_REQUEST', message);
  }
}

export interface ResourceProvisioner {
  /** The CloudFormation type, e.g. `AWS::SQS::Queue`. */
  readonly type: string;
  /**
   * Checks the properties and computes Ref/GetAtt values without side effects; throws
   * ResourcePropertyError for properties it cannot honour (never ignores them silently).
   */
  attributes(scope: ResourceScope, declaration: ResourceDeclaration): ResourceAttributes;
  /**
   * Creates the resource, or brings an existing one (`previous`, from an earlier deployment of
   * the same stage) to the declared properties. Idempotent: applying the same declaration
   * twice changes nothing.
   */
  apply(
    scope: ResourceScope,
    declaration: ResourceDeclaration,
    previous: ProvisionedResource | undefined,
  ): Promise<ProvisionedResource>;
  /**
   * Deletes a resource the stage no longer declares (or on `nimbus remove`). Returns
   * `{ removed: false, reason }` when it must stay (a bucket that is not empty), so the caller
   * can say so.
   */
  remove(
    scope: ResourceScope,
    resource: ProvisionedResource,
  ): Promise<{ removed: true } | { removed: false; reason: string }>;
}
