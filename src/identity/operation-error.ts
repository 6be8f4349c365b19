/** Why a merge, split or review cannot be done, naming the field at fault; the API turns it into a 404 or 409. */
export class IdentityOperationError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict',
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
