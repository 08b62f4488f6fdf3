import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase } from '../db/database.js';
import { createTestPostgres } from '../testing/postgres.js';
import type { TestPostgres } from '../testing/postgres.js';
import { chatRepositoryCases } from '../testing/chat-repository.case.js';
import { messageRepositoryCases } from '../testing/message-repository.case.js';

describe('chat repositories', () => {
  chatRepositoryCases('ChatRepository on PGlite in memory', () => openDatabase({ dataDir: 'memory' }));
  messageRepositoryCases('MessageRepository on PGlite in memory', () => openDatabase({ dataDir: 'memory' }));

  describe('PostgreSQL', () => {
    let server: TestPostgres | undefined;
    beforeAll(async () => {
      server = await createTestPostgres();
    });
    afterAll(async () => {
      await server?.drop();
    });
    const url = () => {
      if (!server) throw new Error('test database not created');
      return server.url;
    };
    chatRepositoryCases('ChatRepository', () => openDatabase({ url: url() }));
    messageRepositoryCases('MessageRepository', () => openDatabase({ url: url() }), url);
  });
});
