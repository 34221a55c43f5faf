/**
 * Nimbus has no AWS accounts; wherever AWS shows an account id (Lambda ARNs, gateway events,
 * `${aws:accountId}`) Nimbus shows these twelve zeros, so they all agree.
 */
export const NIMBUS_ACCOUNT_ID = '000000000000';
