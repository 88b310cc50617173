export * from './types.js';
export * from './registry.js';
export * from './cidrpool-error.js';
export * from './format.js';
export * from './file-error-message.js';
