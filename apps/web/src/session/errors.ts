import { codeOf, toError } from '@streampod/client/runtime';

/** The tRPC code of a failed call (`UNAUTHORIZED`, `FORBIDDEN`, …), or `''`. */
export function errorCode(reason: unknown): string {
  return codeOf(toError(reason));
}

/**
 * A failed call as a sentence for the person using the app. The server's messages name the
 * field that was wrong (`username: …`), which reads well enough once capitalised.
 */
export function describeError(reason: unknown, fallback = 'Something went wrong. Please try again.'): string {
  const error = toError(reason);
  switch (codeOf(error)) {
    case 'UNAUTHORIZED':
      return 'Wrong username or password.';
    case 'TOO_MANY_REQUESTS':
      return 'Too many attempts. Wait a moment and try again.';
    case 'BAD_REQUEST':
    case 'CONFLICT':
    case 'FORBIDDEN':
    case 'NOT_FOUND':
      return sentence(error.message) ?? fallback;
    default:
      return fallback;
  }
}

function sentence(message: string): string | undefined {
  const text = message.trim();
  if (text === '') return undefined;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
