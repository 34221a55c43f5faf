/**
 * A bucket's CORS configuration: its rules, checked as S3 checks them, whether they come from
 * PutBucketCors or from `CorsConfiguration` in serverless.yml. The checks throw CorsConfigError
 * (S3's code and message); each caller shapes it for its own edge.
 */
import { NimbusError } from '../../errors/nimbus-error.js';
import {
  childElement,
  childElements,
  textNode,
  type XmlElement,
  type XmlNode,
} from '../../platform/aws/protocols/xml.js';
import { s3Namespace } from './s3-call.js';

export interface CorsRule {
  id?: string;
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** The methods a rule may allow (OPTIONS is the preflight itself, never allowed by a rule). */
export const corsMethods = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
/** S3's limits: 100 rules per bucket, 255 characters of rule ID. */
export const maxCorsRules = 100;
const maxIdLength = 255;

export class CorsConfigError extends NimbusError {
  constructor(
    /** What S3 answers PutBucketCors with. */
    readonly awsCode: 'MalformedXML' | 'InvalidRequest',
    message: string,
  ) {
    super('NIMBUS_S3_BAD_CORS', message);
  }
}

const malformed = () =>
  new CorsConfigError(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

/** Checks every rule; returns them as given (S3 keeps the case of what it was sent). */
export function validateCorsRules(rules: CorsRule[]): CorsRule[] {
  if (rules.length === 0 || rules.length > maxCorsRules) throw malformed();
  for (const rule of rules) {
    if (rule.allowedMethods.length === 0 || rule.allowedOrigins.length === 0) throw malformed();
    if (rule.id !== undefined && rule.id.length > maxIdLength) throw malformed();
    for (const method of rule.allowedMethods) {
      if (!corsMethods.includes(method)) {
        throw new CorsConfigError(
          'InvalidRequest',
          `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
        );
      }
    }
    for (const origin of rule.allowedOrigins) {
      if (wildcards(origin) > 1) {
        throw new CorsConfigError(
          'InvalidRequest',
          `AllowedOrigin "${origin}" can not have more than one wildcard.`,
        );
      }
    }
    for (const header of rule.allowedHeaders) {
      if (wildcards(header) > 1) {
        throw new CorsConfigError(
          'InvalidRequest',
          `AllowedHeader "${header}" can not have more than one wildcard.`,
        );
      }
    }
    if (
      rule.maxAgeSeconds !== undefined &&
      (!Number.isSafeInteger(rule.maxAgeSeconds) || rule.maxAgeSeconds < 0)
    ) {
      throw malformed();
    }
  }
  return rules;
}

/** `<CORSConfiguration><CORSRule>...` as PutBucketCors sends it. */
export function corsRulesFromXml(doc: XmlElement | undefined): CorsRule[] {
  if (doc?.name !== 'CORSConfiguration') throw malformed();
  const texts = (rule: XmlElement, name: string) =>
    childElements(rule, name).map((e) => e.text.trim());
  const rules = childElements(doc, 'CORSRule').map((rule): CorsRule => {
    const id = childElement(rule, 'ID')?.text.trim();
    const maxAge = childElement(rule, 'MaxAgeSeconds')?.text.trim();
    if (maxAge !== undefined && !/^\d{1,15}$/.test(maxAge)) throw malformed();
    return {
      ...(id === undefined ? {} : { id }),
      allowedMethods: texts(rule, 'AllowedMethod'),
      allowedOrigins: texts(rule, 'AllowedOrigin'),
      allowedHeaders: texts(rule, 'AllowedHeader'),
      exposeHeaders: texts(rule, 'ExposeHeader'),
      ...(maxAge === undefined ? {} : { maxAgeSeconds: Number(maxAge) }),
    };
  });
  return validateCorsRules(rules);
}

export function corsRulesToXml(rules: CorsRule[]): XmlNode {
  return {
    name: 'CORSConfiguration',
    attrs: { xmlns: s3Namespace },
    children: rules.map((rule) => ({
      name: 'CORSRule',
      children: [
        textNode('ID', rule.id),
        ...rule.allowedHeaders.map((h) => textNode('AllowedHeader', h)),
        ...rule.allowedMethods.map((m) => textNode('AllowedMethod', m)),
        ...rule.allowedOrigins.map((o) => textNode('AllowedOrigin', o)),
        ...rule.exposeHeaders.map((h) => textNode('ExposeHeader', h)),
        textNode('MaxAgeSeconds', rule.maxAgeSeconds),
      ],
    })),
  };
}

function wildcards(text: string): number {
  return text.split('*').length - 1;
}
