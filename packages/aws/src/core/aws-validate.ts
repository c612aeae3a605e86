/**
 * Validators for values only AWS has rules for. The generic ones (integers,
 * ranges, e-mail, S3 bucket names) come from the platform's shared
 * `validate.generated.ts`, so both packages answer a bad prop the same way.
 */
import { Token } from 'aws-cdk-lib';
import { PropValidationError } from './validate.generated';

const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/[^\s/]+(\/[^\s/]+)*$/;
const KEY_PREFIX = /^([a-z0-9][a-z0-9_.-]*\/)+$/;

/**
 * Runs a check unless the value is a token: a deploy-time value (a reference,
 * a parameter) is only known to CloudFormation, so it cannot be checked here.
 */
export function unlessToken<T>(value: T, check: (v: T) => unknown): T {
  if (!Token.isUnresolved(value)) check(value);
  return value;
}

/** AWS tag values: up to 256 letters, digits, spaces and `_ . : / = + - @`. */
export function validateTagValue(prop: string, value: string): string {
  if (value.length === 0 || !TAG_VALUE.test(value) || value.startsWith('aws:')) {
    throw new PropValidationError(prop, value, "an AWS tag value: 1 to 256 letters, digits, spaces and _ . : / = + - @, not starting with 'aws:'");
  }
  return value;
}

/** The ARN IAM gives an OIDC identity provider, e.g. an EKS cluster's. */
export function validateOidcProviderArn(prop: string, value: string): string {
  if (!OIDC_PROVIDER_ARN.test(value)) {
    throw new PropValidationError(prop, value, "an IAM OIDC provider ARN such as 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'");
  }
  return value;
}

/**
 * Backup key prefixes (`database/`, `database/daily/`): no leading slash, one
 * trailing slash, no wildcards, because they become IAM resource patterns and
 * lifecycle-rule filters.
 */
export function validateKeyPrefixes(prop: string, prefixes: readonly string[]): string[] {
  if (prefixes.length === 0 || new Set(prefixes).size !== prefixes.length || !prefixes.every(p => KEY_PREFIX.test(p))) {
    throw new PropValidationError(prop, prefixes, "a non-empty list of distinct key prefixes such as 'database/': lower-case letters, digits, '_', '.' and '-', ending with one '/'");
  }
  return [...prefixes];
}
