import { defineConfig } from 'vitest/config';

/** Tests run against source through the `@streampod/source` export condition: no build needed. */
const conditions = ['@streampod/source'];

const project = (name: string, root: string) => ({
  extends: true as const,
  test: { name, root, include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@streampod/source'] } },
  test: {
    projects: [
      project('framework', 'packages/framework'),
      project('protocol', 'packages/protocol'),
      project('server', 'packages/server'),
      project('client', 'packages/client'),
      project('chat-server', 'apps/chat-server'),
      project('example-live-counter', 'examples/live-counter'),
      { extends: true as const, test: { name: 'benchmarks', root: 'benchmarks', include: ['*.test.ts'] } },
      {
        extends: true as const,
        test: {
          // The web app in Chromium against the built chat server; the setup builds both first.
          name: 'web-e2e',
          root: 'apps/web',
          include: ['e2e/**/*.test.ts'],
          globalSetup: ['e2e/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 300_000,
        },
      },
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
