/** The chat server is the origin the app was served from (or the Vite dev server, which proxies `/trpc`). */
export const serverUrl = window.location.origin;
