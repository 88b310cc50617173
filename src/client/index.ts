// Public surface of src/client.
export * from './types.js';
export { createResourceClient } from './resource-client.js';
export { resourceId } from './client-errors.js';
