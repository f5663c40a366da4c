/**
 * A failure shown to the user: `message` says what failed and `action` what to do
 * next. `code` keeps the platform error code or SIP status for logs and support.
 */
export interface UserFacingError {
  code: string;
  message: string;
  action: string;
}

/** Returns the message of a thrown value, which need not be an `Error`. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
