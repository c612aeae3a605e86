/**
 * The trust of an IAM role for Kubernetes ServiceAccounts (IRSA), shared by
 * every role the platform's pods assume: the backup jobs and the
 * Elasticsearch snapshot repository.
 */
import { CfnJson, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { unlessToken, validateOidcProviderArn } from './aws-validate';
import { PropValidationError, validateDnsLabel, validateDnsSubdomain } from './validate.generated';

/** The audience EKS puts in projected ServiceAccount tokens for IRSA. */
export const STS_AUDIENCE = 'sts.amazonaws.com';

/** A role's IRSA principal and the `sub` values it trusts. */
export interface IrsaTrust {
  readonly principal: iam.IPrincipal;
  /** `system:serviceaccount:<namespace>:<name>` for each ServiceAccount. */
  readonly subjects: string[];
}

/**
 * Validates `oidcProviderArn`, `namespace` and `serviceAccountNames` (naming
 * the prop on bad input) and builds the principal: tokens of those
 * ServiceAccounts, audience sts.amazonaws.com, from that OIDC provider only.
 */
export function irsaTrust(scope: Construct, oidcProviderArn: string, namespace: string, serviceAccountNames: string[]): IrsaTrust {
  unlessToken(oidcProviderArn, v => validateOidcProviderArn('oidcProviderArn', v));
  unlessToken(namespace, v => validateDnsLabel('namespace', v));
  if (serviceAccountNames.length === 0 || new Set(serviceAccountNames).size !== serviceAccountNames.length) {
    throw new PropValidationError('serviceAccountNames', serviceAccountNames, 'a non-empty list of distinct ServiceAccount names');
  }
  serviceAccountNames.forEach((n, i) => unlessToken(n, v => validateDnsSubdomain(`serviceAccountNames[${i}]`, v)));

  const subjects = serviceAccountNames.map(n => `system:serviceaccount:${namespace}:${n}`);
  const provider = iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(scope, 'OidcProvider', oidcProviderArn);
  const conditionValues = {
    // A list under StringEquals matches any one of them.
    [`${provider.openIdConnectProviderIssuer}:sub`]: subjects.length === 1 ? subjects[0] : subjects,
    [`${provider.openIdConnectProviderIssuer}:aud`]: STS_AUDIENCE,
  };
  // Condition keys cannot hold a deploy-time reference; CfnJson resolves them at deploy time.
  const stringEquals = Token.isUnresolved(oidcProviderArn)
    ? new CfnJson(scope, 'TrustConditions', { value: conditionValues })
    : conditionValues;
  return { principal: new iam.OpenIdConnectPrincipal(provider, { StringEquals: stringEquals }), subjects };
}
