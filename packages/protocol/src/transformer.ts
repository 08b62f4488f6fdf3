import { SuperJSON } from 'superjson';

/**
 * The one data transformer of the wire contract (Dates travel as Dates). Server and
 * client both use this instance, so a registered custom type exists on both sides.
 */
export const transformer = new SuperJSON();
