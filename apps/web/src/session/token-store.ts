/** Where the bearer token lives between visits, so a reload stays signed in. */
export const TOKEN_KEY = 'streampod.token';

// Storage can throw (privacy modes, quotas): the app then works for this visit only.
export function loadToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // kept in memory only
  }
}

export function clearToken(): void {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing was stored
  }
}
