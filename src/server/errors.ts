import { Type } from '@sinclair/typebox';

/**
 * Every error code the API can answer with, in one place (docs/errors.md lists
 * them for users). `reason` is Segment's snake_case word where Segment has one.
 */
export const ERROR_CODES = {
  CUSTODIAN_UNAUTHORIZED: { status: 401, reason: 'unauthorized' },
  CUSTODIAN_FORBIDDEN: { status: 403, reason: 'forbidden' },
  CUSTODIAN_INVALID_JSON: { status: 400, reason: 'invalid_json' },
  CUSTODIAN_INVALID_BODY: { status: 400, reason: 'invalid_body' },
  CUSTODIAN_MESSAGE_TOO_LARGE: { status: 400, reason: 'message_too_large' },
  CUSTODIAN_BATCH_TOO_LARGE: { status: 400, reason: 'batch_too_large' },
  CUSTODIAN_BATCH_TOO_MANY: { status: 400, reason: 'batch_too_many' },
  CUSTODIAN_INVALID_TYPE: { status: 400, reason: 'invalid_type' },
  CUSTODIAN_MISSING_FIELD: { status: 400, reason: 'missing_field' },
  CUSTODIAN_INVALID_FIELD: { status: 400, reason: 'invalid_field' },
  CUSTODIAN_NO_USER_ANON_ID: { status: 400, reason: 'no_user_anon_id' },
  CUSTODIAN_BLOCKED_BY_TRACKING_PLAN: { status: 400, reason: 'blocked_by_tracking_plan' },
  CUSTODIAN_UNSUPPORTED_ENCODING: { status: 415, reason: 'unsupported_encoding' },
  CUSTODIAN_NOT_FOUND: { status: 404, reason: 'not_found' },
  CUSTODIAN_CONFLICT: { status: 409, reason: 'conflict' },
  CUSTODIAN_RATE_LIMITED: { status: 429, reason: 'rate_limited' },
  CUSTODIAN_UNAVAILABLE: { status: 503, reason: 'unavailable' },
  CUSTODIAN_INTERNAL: { status: 500, reason: 'internal' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorReason = (typeof ERROR_CODES)[ErrorCode]['reason'];

const BY_REASON = new Map<string, ErrorCode>(Object.entries(ERROR_CODES).map(([code, { reason }]) => [reason, code as ErrorCode]));

export function codeForReason(reason: string): ErrorCode {
  return BY_REASON.get(reason) ?? 'CUSTODIAN_INVALID_FIELD';
}

/** An error the API answers with; anything else thrown is a 500 and a bug. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: ErrorReason;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.status = ERROR_CODES[code].status;
    this.reason = ERROR_CODES[code].reason;
  }

  toBody(): ErrorBody {
    return { success: false, code: this.code, reason: this.reason, message: this.message, ...(this.field ? { field: this.field } : {}), ...this.extra };
  }
}

/** A store's refusal (SegmentError, ActivationError): invalid input, a missing thing, or a clash with the current state. */
interface Refusal extends Error {
  kind: 'invalid' | 'not_found' | 'conflict';
  field: string;
  issues: readonly unknown[];
}

const REFUSAL_CODES = { invalid: 'CUSTODIAN_INVALID_FIELD', not_found: 'CUSTODIAN_NOT_FOUND', conflict: 'CUSTODIAN_CONFLICT' } as const satisfies Record<Refusal['kind'], ErrorCode>;

/** `guarded(work)` for a store whose refusals are `refusal`s: each is answered as the ApiError it stands for, with all its issues when there are several. */
export function refusalGuard(refusal: abstract new (...args: never[]) => Refusal): <T>(work: Promise<T>) => Promise<T> {
  return async (work) => {
    try {
      return await work;
    } catch (error) {
      if (error instanceof refusal) throw new ApiError(REFUSAL_CODES[error.kind], error.message, error.field, error.issues.length > 1 ? { issues: error.issues } : undefined);
      throw error;
    }
  };
}

export interface ErrorBody {
  success: false;
  code: ErrorCode;
  reason: string;
  message: string;
  field?: string;
  [extra: string]: unknown;
}

export const ErrorSchema = Type.Object(
  {
    success: Type.Literal(false),
    code: Type.String({ description: 'stable error code, see docs/errors.md' }),
    reason: Type.String(),
    message: Type.String({ description: 'what is wrong, naming the field' }),
    field: Type.Optional(Type.String()),
  },
  { $id: 'Error', additionalProperties: true },
);
