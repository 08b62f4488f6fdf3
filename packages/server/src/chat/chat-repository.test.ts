import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase } from '../db/database.js';
import { createTestPostgres } from '../testing/postgres.js';
import type { TestPostgres } from '../testing/postgres.js';
import { chatRepositoryCases } from './chat-repository.case.js';

describe('ChatRepository', () => {
  chatRepositoryCases('PGlite in memory', () => openDatabase({ dataDir: 'memory' }));

  describe('PostgreSQL', () => {
    let server: TestPostgres | undefined;
    beforeAll(async () => {
      server = await createTestPostgres();
    });
    afterAll(async () => {
      await server?.drop();
    });

    chatRepositoryCases('shared cases', () => {
      if (!server) throw new Error('test database not created');
      return openDatabase({ url: server.url });
    });
  });
});
