/** Structured context of one log line; passed through `redact()` before output. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Returns a logger for a sub-scope, written as `parent/child`. */
  child(scope: string): Logger;
}

/** Destination of log lines, such as `console`. */
export interface LogSink {
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
}

/** Creates a logger whose lines start with `[scope]` and whose fields are redacted. */
export function createLogger(scope: string, sink: LogSink = console): Logger {
  const write = (level: keyof LogSink, message: string, fields?: LogFields) => {
    const line = `[${scope}] ${redactText(message)}`;

    if (fields === undefined) {
      sink[level](line);
    } else {
      sink[level](line, redact(fields));
    }
  };

  return {
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (childScope) => createLogger(`${scope}/${childScope}`, sink),
  };
}

/** A logger that drops everything, for tests that do not inspect logs. */
export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

// Keys whose string values are secrets: OAuth tokens and grants, SIP and client
// passwords, JWT credentials, and HTTP credential headers.
const SECRET_KEY_PATTERN =
  /token|password|passwd|secret|^authorization$|authorizationCode|assertion|jwt|cookie|credential|code_?verifier/i;

const CREDENTIAL_HEADER_PATTERN = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// The `response` of SIP and HTTP Digest credentials (RFC 3261 section 22.4,
// RFC 2617 section 3.2.2) is a hash of the password that can be attacked offline.
const DIGEST_RESPONSE_PATTERN = /\b(response\s*=\s*"?)([0-9a-f]{16,})/gi;
const JWT_PATTERN = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
/** User name and password inside a URL (`scheme://user:password@host`). */
const URL_CREDENTIALS_PATTERN = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s"']+@/gi;
// A value starting with "[" was already masked by the JWT pattern.
const SECRET_ASSIGNMENT_PATTERN =
  /\b(access_token|refresh_token|assertion|password|client_secret|token)=([^&\s[][^&\s]*)/gi;

/** Returns the placeholder that replaces a secret: it keeps only the length. */
export function maskSecret(secret: string): string {
  return `[redacted ${secret.length} chars]`;
}

/**
 * Masks secrets in free text: `Bearer`/`Basic` credentials, the `response` of
 * Digest credentials, JWTs and form-encoded token or password parameters.
 */
export function redactText(text: string): string {
  return text
    .replace(CREDENTIAL_HEADER_PATTERN, (_match, scheme: string) => `${scheme} [redacted]`)
    .replace(DIGEST_RESPONSE_PATTERN, (_match, key: string, hash: string) => `${key}${maskSecret(hash)}`)
    .replace(JWT_PATTERN, (jwt) => maskSecret(jwt))
    .replace(URL_CREDENTIALS_PATTERN, (_match, scheme: string) => `${scheme}[redacted]@`)
    .replace(SECRET_ASSIGNMENT_PATTERN, (_match, key: string, value: string) => `${key}=${maskSecret(value)}`);
}

/**
 * Returns a copy of `value` that is safe to log. String values under secret-like
 * keys (tokens, passwords, Authorization headers, JWT assertions) become
 * `[redacted N chars]`, objects under such keys are dropped whole, and every other
 * string is scanned with `redactText`. Errors become `{ name, message }`.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, new WeakSet());
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') {
    return redactText(value);
  }

  if (value === null || typeof value !== 'object') {
    return value;
  }

  if (seen.has(value)) {
    return '[circular]';
  }
  seen.add(value);

  if (value instanceof Error) {
    return redactError(value, seen);
  }

  if (Array.isArray(value)) {
    return value.map((item) => redactValue(item, seen));
  }

  if (value instanceof Headers) {
    return redactValue(Object.fromEntries(value.entries()), seen);
  }

  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEY_PATTERN.test(key) ? redactSecretField(item) : redactValue(item, seen);
  }
  return copy;
}

function redactSecretField(value: unknown): unknown {
  if (typeof value === 'string') {
    return maskSecret(value);
  }

  // Numbers and booleans under such keys are expiry times or flags, not secrets.
  if (value === null || typeof value !== 'object') {
    return value;
  }

  return '[redacted object]';
}

function redactError(error: Error, seen: WeakSet<object>): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    name: error.name,
    message: redactText(error.message),
  };

  // Typed errors of this app keep their diagnostic fields (status, errorCode...).
  for (const [key, item] of Object.entries(error)) {
    fields[key] = SECRET_KEY_PATTERN.test(key) ? redactSecretField(item) : redactValue(item, seen);
  }

  if (error.cause !== undefined) {
    fields['cause'] = redactValue(error.cause, seen);
  }
  return fields;
}
