import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

/** The chat server `pnpm dev` talks to (`pnpm start` runs one on port 3000). */
const server = process.env['STREAMPOD_SERVER'] ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  resolve: {
    // The workspace's packages from their TypeScript sources: no build of @streampod/client needed
    // before `vite build` or `vite`, and the dev server reloads on changes to the client too.
    conditions: ['@streampod/source', ...defaultClientConditions],
  },
  server: {
    proxy: {
      '/trpc': {
        target: server,
        ws: true,
        changeOrigin: true,
        // The server lets browsers in from its own origin only (ALLOWED_ORIGINS adds more): the
        // proxied WebSocket comes from the server's origin, as the built app's would.
        configure: (proxy) => proxy.on('proxyReqWs', (request) => request.setHeader('origin', server)),
      },
    },
  },
  build: { target: 'es2022', sourcemap: true },
});
