export { openDatabase } from './database.js';
export type { Database, DatabaseKind, OpenDatabaseOptions } from './database.js';
export { migrations } from './migrations/index.js';
export type { DB, NewUser, UserRow, UserUpdate, UsersTable } from './schema.js';
export { databaseInputError } from './input-errors.js';
