/** One problem with a caller's input, naming the field. */
export interface Issue {
  field: string;
  message: string;
}

/** A refusal of activation's stores (campaigns, destinations, syncs, coupon pools) the API turns into 400, 404 or 409. */
export class ActivationError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not_found' | 'conflict',
    readonly field: string,
    message: string,
    readonly issues: readonly Issue[] = [],
  ) {
    super(message);
  }
}

/** Throw the first issue (there must be one), carrying all of them. */
export function refuse(issues: readonly Issue[]): never {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more, listed in issues)` : '';
  throw new ActivationError('invalid', first.field, `${first.message}${more}`, issues);
}
